"""Recording progress: append-only events, per-agency reports, spreadsheets."""

from __future__ import annotations

import csv
import io
import sqlite3

import pytest

from tests.conftest import copy_plan, sql_rows


def events(db_path) -> list[tuple]:
    return sql_rows(db_path, "SELECT id, plan_id, task_id, milestone, agency, status, percent, happened_on, note "
                             "FROM events ORDER BY id")


def test_recording_21_done_on_time_removes_it_from_overdue(cli, loaded):
    result = cli("record", "21", "--status", "done", "--on", "2013-09-15")
    assert result.stdout.startswith("recorded event 1: task 21 milestone main (due 2013-09-30): done 100% on 2013-09-15")
    assert "done-on-time" in result.stdout
    assert "21" not in {r["task"] for r in cli.json("overdue", "--as-of", "2013-10-01")}
    assert cli.json("show", "21")["standing"] == "done-on-time"


def test_progress_after_the_as_of_date_does_not_count(cli, loaded):
    cli("record", "21", "--status", "done", "--on", "2013-10-15")
    assert "21" in {r["task"] for r in cli.json("overdue", "--as-of", "2013-10-01")}
    assert "21" not in {r["task"] for r in cli.json("overdue", "--as-of", "2013-10-16")}
    assert cli.json("show", "21", "--as-of", "2013-10-16")["standing"] == "done-late"
    assert cli.json("show", "21", "--as-of", "2013-10-14")["standing"] == "overdue"


def test_recording_13_done_completes_the_pilot_only(cli, loaded):
    out = cli("record", "13", "--status", "done", "--on", "2014-03-20").stdout
    assert "milestone pilot" in out
    milestones = {m["label"]: m for m in cli.json("show", "13")["milestones"]}
    assert milestones["pilot"]["standing"] == "done-on-time"
    assert milestones["all-units"]["status"] == "not-started"
    # the next record without --milestone goes to the next open milestone
    assert "milestone all-units" in cli("record", "13", "--status", "in-progress", "--percent", "40",
                                        "--on", "2014-06-01").stdout


def test_milestone_by_label_or_year(cli, loaded):
    assert "milestone 2014" in cli("record", "19", "--status", "done", "--milestone", "2014", "--on", "2014-12-01").stdout
    assert "milestone all-units" in cli("record", "13", "--status", "done", "-m", "all-units", "--on", "2015-03-01").stdout
    result = cli("record", "13", "--status", "done", "--milestone", "2016", expect=3)
    assert "has no milestone '2016'" in result.stderr and "pilot (due 2014-03-31)" in result.stderr


def test_a_correction_is_a_new_event(cli, loaded, db_path):
    cli("record", "2", "--status", "done", "--on", "2013-12-20")
    cli("record", "2", "--status", "in-progress", "--percent", "80", "--on", "2013-12-22", "--note", "reopened")
    rows = events(db_path)
    assert [(r[5], r[7]) for r in rows] == [("done", "2013-12-20"), ("in-progress", "2013-12-22")]
    assert cli.json("show", "2")["standing"] == "overdue"
    assert cli.json("show", "2", "--as-of", "2013-12-21")["standing"] == "done-on-time"
    conn = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM events")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE events SET status = 'done'")
    conn.close()


def test_done_date_is_when_it_was_first_done(cli, loaded):
    cli("record", "3", "--status", "done", "--on", "2013-12-20")
    cli("record", "3", "--status", "done", "--on", "2014-02-01", "--evidence", "QĐ 99/QĐ-UBND")
    milestone = cli.json("show", "3")["milestones"][0]
    assert milestone["done_on"] == "2013-12-20" and milestone["standing"] == "done-on-time"


def test_history_lists_every_event_oldest_first(cli, loaded):
    cli("record", "21", "--status", "done", "--on", "2013-09-15", "--evidence", "Quyết định 1234/QĐ-UBND ngày 20/12/2013",
        "--by", "analyst")
    cli("record", "2", "--status", "in-progress", "--percent", "50", "--on", "2013-09-10", "--note", "draft")
    rows = cli.json("history")
    assert [r["task"] for r in rows] == ["2", "21"]
    for key in ("task", "milestone", "agency", "status", "percent", "on", "recorded_at", "note", "evidence", "by"):
        assert key in rows[0]
    assert rows[1]["evidence"] == "Quyết định 1234/QĐ-UBND ngày 20/12/2013" and rows[1]["by"] == "analyst"
    assert [r["task"] for r in cli.json("history", "21")] == ["21"]
    assert [r["task"] for r in cli.json("history", "--since", "2013-09-12")] == ["21"]
    as_csv = list(csv.DictReader(io.StringIO(cli("history", "--format", "csv").stdout)))
    assert list(as_csv[0]) == list(rows[0]) and as_csv[1]["on"] == "2013-09-15"


def test_per_agency_progress_on_task_1(cli, loaded):
    result = cli("record", "1", "--status", "done", "--on", "2013-12-20", expect=3)
    assert "reported by each of its" in result.stderr
    out = cli("record", "1", "--status", "done", "--on", "2013-12-20", "--agency", "hai hau").stdout
    # every department and district of the register valid at the end of 2013: 18 + 10
    assert "for hai-hau" in out and "hai-hau: done-on-time" in out and "(1/28 agencies done)" in out
    detail = cli.json("show", "1")
    y2013 = [m for m in detail["members"] if m["milestone"] == "2013"]
    assert len(y2013) == 28 and {"stp", "sgddt", "my-loc"} <= {m["agency"] for m in y2013}
    assert {m["agency"] for m in y2013 if m["status"] == "done"} == {"hai-hau"}
    assert detail["milestones"][0]["status"] == "in-progress" and detail["milestones"][0]["units_done"] == 1
    table = cli("show", "1").stdout
    assert "Huyện Hải Hậu (hai-hau)" in table and "✓" in table
    # Hải Hậu's own missing reports: 2013 is done, so task 1 appears only from 2014.
    own = cli.json("overdue", "--as-of", "2015-01-01", "--agency", "hai hau")
    assert [(r["task"], r["milestone"]) for r in own if r["task"] == "1"] == [("1", "2014")]
    other = cli.json("overdue", "--as-of", "2015-01-01", "--agency", "nghia hung")
    assert [(r["task"], r["milestone"]) for r in other if r["task"] == "1"] == [("1", "2013"), ("1", "2014")]
    cli("record", "2", "--status", "in-progress", "--on", "2013-11-01")
    assert [(h["task"], h["agency"]) for h in cli.json("history", "--agency", "hai hau")] == [("1", "hai-hau")]
    assert [h["task"] for h in cli.json("history", "--agency", "ubnd cap huyen")] == ["1"]  # the group's members
    assert [h["task"] for h in cli.json("history")] == ["2", "1"]


def test_group_milestone_is_done_when_every_member_is(cli, loaded):
    """Every department and district valid on the due day owes its report (the register)."""
    members = [m["agency"] for m in cli.json("show", "IV.2-plan")["members"]]
    assert len(members) == 28 and "snnmt" not in members  # a department of 2025 owes nothing for 2013
    for index, code in enumerate(members):
        cli("record", "IV.2-plan", "--status", "done", "--agency", code, "--on", f"2013-09-{1 + index % 26:02d}")
        standing = cli.json("show", "IV.2-plan")["milestones"][0]
        assert (standing["status"] == "done") == (index == len(members) - 1)
    final = cli.json("show", "IV.2-plan")["milestones"][0]
    assert final["done_on"] == "2013-09-26" and final["standing"] == "done-on-time"  # the last member's day


def test_bad_input_gets_one_line_and_no_event(cli, loaded, db_path):
    cases = [
        (["record", "99", "--status", "done"], "no task '99'"),
        (["record", "21", "--status", "finished"], "unknown status 'finished'"),
        (["record", "21", "--status", "in-progress", "--percent", "120"], "out of range"),
        (["record", "21", "--status", "done", "--percent", "50"], "done means 100"),
        (["record", "21", "--status", "done", "--on", "2013-01-01"], "before the plan was issued"),
        (["record", "21", "--status", "done", "--on", "2026-12-25"], "in the future"),
        (["record", "21", "--status", "done", "--on", "31/09/2013"], "September 2013 has 30 days"),
        (["record", "13", "--status", "done", "--milestone", "final"], "has no milestone 'final'"),
        (["record", "1", "--status", "done", "--agency", "ubnd-tinh"], "does not report on task 1"),
        (["record", "21", "--status", "done", "--agency", "ubnd-tinh"], "is not named on task 21"),
        (["record", "16", "--status", "done", "--milestone", "2014"], "ongoing"),
    ]
    for args, message in cases:
        result = cli(*args, expect=3)
        assert message in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert events(db_path) == []


def test_ongoing_task_progress(cli, loaded):
    cli("record", "16", "--status", "in-progress", "--percent", "60", "--on", "2014-05-01")
    detail = cli.json("show", "16")
    assert detail["status"] == "in-progress" and detail["percent"] == 60 and detail["standing"] == "ongoing"
    row = next(r for r in cli.json("tasks") if r["task"] == "16")
    assert row["status"] == "in-progress" and row["percent"] == 60


# ── reloads never lose progress ──────────────────────────────────────────────

def test_orphans_of_every_kind_are_counted_as_the_view_lists_them(cli, loaded, db_path, tmp_path):
    from civreform import reports

    cli("record", "16", "--status", "in-progress", "--on", "2013-10-01")  # ongoing: milestone ''
    cli("record", "1", "--status", "done", "--agency", "hai-hau", "--on", "2013-12-20")  # milestone 2013
    cli("record", "22", "--status", "in-progress", "--on", "2013-11-01")
    cli("record", "22", "--status", "done", "--on", "2013-12-01")
    cli("record", "21", "--status", "done", "--on", "2013-09-15")  # stays in the plan
    text = copy_plan(tmp_path).read_text(encoding="utf-8")
    edited = text[:text.index('  - id: "22"')] + text[text.index("  # ── Section IV"):]  # task 22 goes
    task_16 = edited.index('  - id: "16"')
    edited = edited[:task_16] + edited[task_16:].replace("deadline: ongoing", "deadline: {quarter: IV, year: 2014}", 1)
    edited = edited.replace("deadline: {quarter: IV, every: year}", "deadline: {quarter: IV, year: 2015}", 1)
    path = tmp_path / "edited.yaml"
    path.write_text(edited, encoding="utf-8")
    assert "4 progress event(s) belong to tasks or milestones no longer in" in cli("load", path).stderr
    conn = sqlite3.connect(db_path)
    from_view = conn.execute("SELECT plan_id, task_id, milestone, count(*) FROM orphan_event_view "
                             "GROUP BY plan_id, task_id, milestone ORDER BY plan_id, task_id, milestone").fetchall()
    assert reports.orphan_groups(conn) == from_view == [
        ("nd-55-2013", "1", "2013", 1), ("nd-55-2013", "16", "", 1), ("nd-55-2013", "22", "main", 2)]
    assert reports.orphan_groups(conn, "nd-55-2013") == from_view and reports.orphan_groups(conn, "other") == []
    conn.close()
    check = cli("check", expect=3).stdout
    assert "orphaned progress events: 4" in check and "task 16 milestone -: 1 event(s)" in check


def test_reloading_the_same_and_an_edited_plan_keeps_every_event(cli, loaded, db_path, tmp_path):
    cli("record", "21", "--status", "done", "--on", "2013-09-15")
    cli("record", "1", "--status", "done", "--agency", "hai-hau", "--on", "2013-12-20")
    cli("record", "22", "--status", "in-progress", "--on", "2013-11-01")
    before = events(db_path)
    assert len(before) == 3
    assert "unchanged plan nd-55-2013" in cli("load").stdout  # the same file again: skipped by its hash
    assert events(db_path) == before
    # Edit: drop task 22 entirely, and move task 21's deadline.
    text = copy_plan(tmp_path).read_text(encoding="utf-8")
    start = text.index('  - id: "22"')
    end = text.index("  # ── Section IV")
    edited = text[:start] + text[end:]
    edited = edited.replace("deadline: {quarter: III, year: 2013}", "deadline: {quarter: IV, year: 2013}")
    path = tmp_path / "edited.yaml"
    path.write_text(edited, encoding="utf-8")
    result = cli("load", path)
    assert "1 progress event(s) belong to tasks or milestones no longer in the plan" in result.stderr
    assert events(db_path) == before
    assert cli.json("show", "21")["milestones"][0]["due"] == "2013-12-31"
    assert cli.json("show", "21")["standing"] == "done-on-time"
    check = cli("check", expect=3).stdout
    assert "orphaned progress events: 1" in check and "task 22" in check
    # Loading the original again brings the orphan home.
    cli("load")
    assert "orphaned progress events: 0" in cli("check").stdout
    assert events(db_path) == before


# ── spreadsheets ─────────────────────────────────────────────────────────────

def test_template_rows_are_open_milestones(cli, loaded):
    rows = list(csv.DictReader(io.StringIO(cli("template", "--as-of", "2014-01-01").stdout.lstrip("\ufeff"))))
    assert list(rows[0]) == ["plan", "task", "milestone", "agency", "role", "title", "due", "status", "percent",
                             "date", "note", "evidence"]
    assert sum(1 for r in rows if r["task"] == "1") == 3 * 28
    assert all(r["status"] == "" for r in rows)
    mine = list(csv.DictReader(io.StringIO(cli("template", "--agency", "hai hau", "--no-bom").stdout)))
    assert {r["agency"] for r in mine} == {"hai-hau"}
    assert {r["task"] for r in mine if r["role"] == "lead"} == {"1", "IV.2-plan", "IV.2-report"}
    # Hải Hậu supports task 3 through "UBND cấp huyện": offered, as support
    assert "3" in {r["task"] for r in mine if r["role"] == "support"}


def test_filled_template_round_trip(cli, loaded, tmp_path, db_path):
    target = tmp_path / "hai_hau.csv"
    cli("template", "--agency", "hai hau", "--output", target)
    rows = list(csv.DictReader(target.open(encoding="utf-8", newline="")))
    rows[0].update(status="done", date="20/09/2013", note="Kế hoạch số 12/KH-UBND", evidence="=HYPERLINK(\"x\")")
    rows[1].update(status="in-progress", percent="50", date="2013-11-15")
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = cli("import", target)
    assert "imported 2 event(s)" in result.stdout and f"{len(rows) - 2} row(s) with no status skipped" in result.stdout
    history = cli.json("history")
    assert [(h["task"], h["milestone"], h["agency"], h["status"], h["on"]) for h in history] == [
        ("IV.2-plan", "main", "hai-hau", "done", "2013-09-20"),
        ("IV.2-report", "2013", "hai-hau", "in-progress", "2013-11-15")]
    assert history[0]["note"] == "Kế hoạch số 12/KH-UBND" and history[0]["evidence"] == '=HYPERLINK("x")'


def test_one_bad_row_rejects_the_file_and_names_every_bad_row(cli, loaded, tmp_path, db_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "task,milestone,agency,status,percent,date,note\n"
        "21,main,,done,,2013-09-15,ok\n"          # line 2: good
        "2,main,,in-progress,120,2013-10-01,\n"   # line 3: bad percent
        "99,,,done,,2013-10-01,\n"                # line 4: unknown task
        "13,final,,done,,2014-03-01,\n"           # line 5: unknown milestone
        "3,main,,finished,,2013-10-01,\n"         # line 6: unknown status
        "4,main,,done,,31/09/2013,\n"             # line 7: impossible date
        "5,main,,done,,2014-01-01,\n",            # line 8: good
        encoding="utf-8")
    result = cli("import", path, expect=3)
    assert "5 bad row(s), nothing imported" in result.stderr
    for line in (3, 4, 5, 6, 7):
        assert f"line {line}:" in result.stderr
    assert "line 2:" not in result.stderr and "line 8:" not in result.stderr
    assert events(db_path) == []


@pytest.mark.parametrize("encoding, delimiter, newline", [
    ("utf-8-sig", ";", "\r\n"), ("utf-8-sig", ",", "\r\n"), ("utf-8", ";", "\n"), ("utf-8", ",", "\r\n")])
def test_spreadsheet_saved_csv_imports(cli, loaded, tmp_path, encoding, delimiter, newline):
    lines = [delimiter.join(["task", "milestone", "agency", "status", "percent", "date", "note"]),
             delimiter.join(["21", "main", "", "done", "", "15/09/2013", '"Sở Tài chính; đã xong"']),
             delimiter.join(["1", "2013", "Huyện Hải Hậu", "in-progress", "30", "2013-12-01", ""])]
    path = tmp_path / "excel.csv"
    path.write_bytes((newline.join(lines) + newline).encode(encoding))
    assert "imported 2 event(s)" in cli("import", path).stdout
    history = cli.json("history")
    assert history[1]["agency"] == "hai-hau" and history[0]["note"] == "Sở Tài chính; đã xong"


def test_import_errors_are_one_clear_message(cli, loaded, tmp_path):
    missing = cli("import", tmp_path / "nope.csv", expect=3)
    assert "nope.csv" in missing.stderr and "No such file" in missing.stderr
    latin = tmp_path / "latin.csv"
    latin.write_bytes("task,status,note\n21,done,Sở\n".encode("utf-16"))
    assert "not UTF-8" in cli("import", latin, expect=3).stderr
    header = tmp_path / "header.csv"
    header.write_text("id,state\n21,done\n", encoding="utf-8")
    assert "missing column(s) task, status" in cli("import", header, expect=3).stderr


def test_a_template_piped_back_through_standard_input(loaded):
    """`civreform template ... | (fill in) | civreform import -`: the CSV comes on stdin,
    and errors name <stdin> and the line."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT, run_module

    template = run_module("template", "--agency", "stc", "--as-of", "2014-01-01")
    assert template.returncode == 0, template.stderr
    lines = template.stdout.splitlines()
    header = lines[0].split(",")
    filled = []
    for line in lines[1:]:
        cells = next(csv.reader([line]))
        cells[header.index("status")], cells[header.index("date")] = "done", "2013-12-20"
        filled.append(cells)
    out = io.StringIO()
    csv.writer(out).writerows([header, *filled])
    imported = run_module("import", "-", input=out.getvalue())
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout == f"imported {len(filled)} event(s) from <stdin>\n"
    assert sql_rows(loaded, "SELECT DISTINCT source FROM events") == [("import:<stdin>",)]
    bad = run_module("import", "-", input="task,status,date\n21,done,31/09/2013\n")
    assert bad.returncode == 3
    assert bad.stderr.startswith("civreform: <stdin>: 1 bad row(s), nothing imported") and "line 2:" in bad.stderr
    assert sql_rows(loaded, "SELECT count(*) FROM events") == [(len(filled),)]
    closed = subprocess.run(["sh", "-c", f'exec "{sys.executable}" -m civreform import - <&-'], cwd=ROOT,
                            env={**os.environ, "CIVREFORM_DB": str(loaded)}, capture_output=True, text=True)
    assert (closed.returncode, closed.stderr) == (3, "civreform: standard input is closed; nothing to import\n")


def test_a_members_standing_after_a_repeated_done_report_keeps_its_first_done_day(cli, loaded):
    cli("record", "1", "--status", "done", "--agency", "hai hau", "--on", "2013-12-20")
    out = cli("record", "1", "--status", "done", "--agency", "hai hau", "--milestone", "2013", "--on", "2014-02-01",
              "--evidence", "Báo cáo số 5/BC-UBND").stdout
    assert "hai-hau: done-on-time" in out  # done since 2013-12-20, before the due date
    member = next(m for m in cli.json("show", "1")["members"] if m["agency"] == "hai-hau" and m["milestone"] == "2013")
    assert member["standing"] == "done-on-time"
