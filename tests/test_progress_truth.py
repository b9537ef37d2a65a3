"""Progress that tells the truth: who may close a milestone, retractions, idempotent
imports, what spreadsheets really hold, and why a milestone is blocked."""

from __future__ import annotations

import csv
import io
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import sql_rows


def event_count(db_path) -> int:
    return sql_rows(db_path, "SELECT count(*) FROM events")[0][0]


# ── 1. who closes what ───────────────────────────────────────────────────────

def test_a_supporting_district_cannot_close_the_lead_s_milestone(cli, loaded):
    """Task 3 is Sở Nội vụ's; Hải Hậu supports it through "UBND cấp huyện"."""
    out = cli("record", "3", "--status", "done", "--agency", "hai hau", "--on", "2013-12-20").stdout
    assert "kept as support" in out and "done-on-time" not in out
    shown = cli.json("show", "3", "--as-of", "2014-01-05")
    assert shown["standing"] == "overdue" and shown["milestones"][0]["done_on"] is None
    assert [(e["agency"], e["status"]) for e in shown["support_progress"]] == [("hai-hau", "done")]
    assert "3" in {r["task"] for r in cli.json("overdue", "--as-of", "2014-01-05")}
    [event] = cli.json("history", "3")
    assert (event["role"], event["kind"]) == ("support", "progress")


def test_a_support_event_never_dates_the_lead_s_done(cli, loaded):
    cli("record", "21", "--status", "done", "--agency", "hai hau", "--on", "2013-09-10")
    cli("record", "21", "--status", "done", "--on", "2013-10-15")  # the lead, Sở Tài chính, late
    milestone = cli.json("show", "21")["milestones"][0]
    assert (milestone["done_on"], milestone["standing"]) == ("2013-10-15", "done-late")
    # nor reopens it
    cli("record", "21", "--status", "in-progress", "--agency", "hai hau", "--on", "2013-11-01")
    assert cli.json("show", "21")["milestones"][0]["standing"] == "done-late"


def test_an_agency_named_nowhere_on_the_task_is_refused(cli, loaded, db_path):
    result = cli("record", "21", "--status", "done", "--agency", "cqlq", "--on", "2013-09-10", expect=3)
    assert "not named on task 21" in result.stderr and event_count(db_path) == 0


def test_whatever_the_template_offers_can_be_recorded(cli, loaded, tmp_path):
    rows = list(csv.DictReader(io.StringIO(cli("template", "--agency", "hai hau", "--no-bom").stdout)))
    assert {r["role"] for r in rows} == {"lead", "support"}
    for row in rows:
        cli("record", row["task"], "--status", "in-progress", "--agency", row["agency"], "-m", row["milestone"],
            "--on", "2013-09-15")
    roles = {(h["task"], h["role"]) for h in cli.json("history")}
    assert ("3", "support") in roles and ("1", "lead") in roles


# ── 2. corrections ───────────────────────────────────────────────────────────

def test_retracting_a_mistaken_done_makes_the_district_late(cli, loaded):
    """The README's "Correcting a mistake" example."""
    cli("record", "1", "--status", "done", "--agency", "hai hau", "--on", "2013-12-20")  # event 1: a mistake
    cli("record", "1", "--status", "done", "--agency", "hai hau", "--on", "2014-01-10", "-m", "2013")  # event 2
    def hai_hau():
        return next(m for m in cli.json("show", "1")["members"] if m["agency"] == "hai-hau" and m["milestone"] == "2013")
    assert (hai_hau()["standing"], hai_hau()["done_on"]) == ("done-on-time", "2013-12-20")
    out = cli("retract", "1", "--reason", "recorded the plan's date, not the report's").stdout
    assert "recorded event 3: retracts event 1" in out
    assert (hai_hau()["standing"], hai_hau()["done_on"]) == ("done-late", "2014-01-10")
    history = cli.json("history", "1")
    assert [(h["id"], h["kind"], h["retracts"], h["retracted_by"]) for h in history] == [
        (1, "progress", None, 3), (2, "progress", None, None), (3, "retraction", 1, None)]
    table = cli("history", "1").stdout
    assert "retracted by #3" in table and "retracts #1" in table


def test_a_retraction_cannot_be_retracted_nor_an_event_retracted_twice(cli, loaded, db_path):
    cli("record", "21", "--status", "done", "--on", "2013-09-15")
    cli("retract", "1", "--reason", "wrong task")
    assert "itself a retraction" in cli("retract", "2", "--reason", "undo", expect=3).stderr
    assert "already retracted by event 2" in cli("retract", "1", "--reason", "again", expect=3).stderr
    assert "no event 99" in cli("retract", "99", "--reason", "x", expect=3).stderr
    assert cli("retract", "1", "--reason", "   ", expect=2).stderr.count("\n") == 1
    assert event_count(db_path) == 2
    # The database refuses it too, for sqlite3 users.
    conn = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO events (plan_id, task_id, milestone, happened_on, recorded_at, kind, retracts) "
                     "VALUES ('nd-55-2013', '21', 'main', '2014-01-01', 'x', 'retraction', 1)")
    conn.close()


def test_a_retracted_event_counts_nowhere(cli, loaded):
    cli("record", "21", "--status", "done", "--on", "2013-09-15")
    assert "21" not in {r["task"] for r in cli.json("overdue", "--as-of", "2014-01-01")}
    cli("retract", "1", "--reason", "the decision was not signed")
    assert "21" in {r["task"] for r in cli.json("overdue", "--as-of", "2014-01-01")}
    assert cli.json("summary", "--as-of", "2014-01-01")["counts"]["done-on-time"] == 0
    assert next(t for t in cli.json("tasks") if t["task"] == "21")["standing"] == "overdue"


def test_insert_or_replace_cannot_rewrite_an_event(cli, loaded, db_path):
    cli("record", "21", "--status", "done", "--on", "2013-09-15")
    conn = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("INSERT OR REPLACE INTO events (id, plan_id, task_id, milestone, status, happened_on, "
                     "recorded_at) VALUES (1, 'nd-55-2013', '21', 'main', 'blocked', '2013-09-15', 'x')")
    conn.close()
    assert sql_rows(db_path, "SELECT status FROM events WHERE id = 1") == [("done",)]


def test_check_says_when_the_protection_is_gone_and_repair_restores_it(cli, loaded, db_path):
    assert "append-only protection: all 4 triggers in place" in cli("check").stdout
    conn = sqlite3.connect(db_path)
    conn.execute("DROP TRIGGER events_ids_are_never_reused")
    conn.close()
    assert "missing events_ids_are_never_reused" in cli("check", expect=3).stdout
    assert "restored events_ids_are_never_reused" in cli("check", "--repair").stdout
    assert "all 4 triggers in place" in cli("check").stdout


# ── 3. idempotent imports, 4. spreadsheet reality ────────────────────────────

def _sheet(tmp_path, rows: list[dict], name="sheet.csv", bom=False) -> str:
    path = tmp_path / name
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


def test_importing_the_same_sheet_twice_records_its_events_once(cli, loaded, tmp_path, db_path):
    sheet = _sheet(tmp_path, [
        {"task": "21", "agency": "", "status": "done", "percent": "", "date": "2013-09-20", "evidence": "QĐ 1"},
        {"task": "1", "agency": "hai-hau", "status": "in-progress", "percent": "40", "date": "2013-11-15",
         "evidence": ""},
        {"task": "1", "agency": "hai-hau", "status": "in-progress", "percent": "40", "date": "2013-11-15",
         "evidence": ""},
    ])
    assert "imported 2 event(s)" in cli("import", sheet).stdout  # the repeated row once
    again = cli("import", sheet).stdout
    assert "imported 0 event(s)" in again and "3 row(s) already recorded" in again
    assert event_count(db_path) == 2
    changed = _sheet(tmp_path, [{"task": "21", "status": "done", "date": "2013-09-20",
                                 "evidence": "QĐ 1, signed"}], "changed.csv")
    assert "imported 1 event(s)" in cli("import", changed).stdout  # a row that differs is new


def test_vietnamese_statuses_serial_dates_and_day_first_dates_import(cli, loaded, tmp_path):
    sheet = _sheet(tmp_path, [
        {"Nhiệm vụ": "21", "Tình trạng": "Đã hoàn thành", "Ngày": "41537"},  # 2013-09-20 as Excel counts
        {"Nhiệm vụ": "2", "Tình trạng": "dang thuc hien", "Ngày": "20/12/2013"},
        {"Nhiệm vụ": "4", "Tình trạng": "VƯỚNG MẮC", "Ngày": "2013-12-01"},
        {"Nhiệm vụ": "5", "Tình trạng": "Chưa thực hiện", "Ngày": "1/12/2013"},
    ], bom=True)
    assert "imported 4 event(s)" in cli("import", sheet).stdout
    assert [(h["task"], h["status"], h["on"]) for h in cli.json("history")] == [
        ("21", "done", "2013-09-20"), ("4", "blocked", "2013-12-01"), ("5", "not-started", "2013-12-01"),
        ("2", "in-progress", "2013-12-20")]


def test_a_status_without_a_date_is_refused_with_its_line(cli, loaded, tmp_path, db_path):
    sheet = _sheet(tmp_path, [{"task": "21", "status": "done", "date": "2013-09-20"},
                              {"task": "2", "status": "done", "date": ""}])
    result = cli("import", sheet, expect=3)
    assert "line 3: a status but no date" in result.stderr and event_count(db_path) == 0


def test_the_template_is_vietnamese_with_a_bom_and_imports_unchanged_as_nothing(cli, loaded, tmp_path, db_path):
    cli("record", "1", "--status", "in-progress", "--percent", "30", "--agency", "hai hau", "--on", "2013-10-01",
        "--note", "đang rà soát")
    target = tmp_path / "hai_hau.csv"
    cli("--lang", "vi", "template", "--agency", "hai hau", "-o", target)
    raw = target.read_bytes()
    assert raw.startswith("\ufeffKế hoạch,Nhiệm vụ,Mốc,Cơ quan".encode("utf-8"))
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    first = next(r for r in rows if r["Nhiệm vụ"] == "1" and r["Mốc"] == "2013")
    assert (first["Tình trạng"], first["Tỷ lệ (%)"], first["Ngày"], first["Ghi chú"]) == (
        "Đang thực hiện", "30", "2013-10-01", "đang rà soát")
    result = cli("import", target).stdout
    assert "imported 0 event(s)" in result and "1 row(s) already recorded" in result
    assert event_count(db_path) == 1
    assert not cli("template", "--no-bom").stdout.startswith("\ufeff")


HOSTILE = Path(__file__).parent / "fixtures" / "hostile"


def test_an_unbalanced_quote_cannot_swallow_rows(cli, loaded, tmp_path, db_path):
    path = tmp_path / "broken.csv"
    shutil.copy(HOSTILE / "unbalanced_quote.csv", path)
    result = cli("import", path, expect=3)
    assert "broken.csv:2: a quoted field runs over" in result.stderr and event_count(db_path) == 0
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:2] + ['x"', *lines[2:]]) + "\n", encoding="utf-8")  # closed a line on
    result = cli("import", path, expect=3)
    assert "broken.csv:2: a quoted field runs over 2 lines" in result.stderr and event_count(db_path) == 0


def test_a_nul_in_an_imported_note_is_refused(cli, loaded, db_path):
    assert "nul_in_note.csv:2: a NUL character" in cli("import", HOSTILE / "nul_in_note.csv", expect=3).stderr
    assert event_count(db_path) == 0


def test_standard_input_is_read_no_further_than_an_import_may_be(loaded):
    from civreform.progress import IMPORT_LIMIT
    from tests.conftest import run_module

    done = run_module("import", "-", env={"CIVREFORM_DB": str(loaded)},
                      input="task,status,date\n" + "x" * (IMPORT_LIMIT + 10))
    assert done.returncode == 3 and "larger than 50 MB" in done.stderr


# ── 5. reports show why ──────────────────────────────────────────────────────

def test_a_blocked_milestone_carries_its_reason(cli, loaded):
    cli("record", "2", "--status", "blocked", "--on", "2013-12-01", "--note", "chờ hướng dẫn của Bộ Nội vụ")
    cli("record", "1", "--status", "blocked", "--agency", "hai hau", "--on", "2013-12-01", "--note", "thiếu biên chế")
    overdue = {r["task"]: r for r in cli.json("overdue", "--as-of", "2014-02-01")}
    assert overdue["2"]["reason"] == "chờ hướng dẫn của Bộ Nội vụ"
    assert overdue["1"]["reason"] == "hai-hau: thiếu biên chế"
    assert overdue["21"]["reason"] == ""
    table = cli("overdue", "--as-of", "2014-02-01").stdout
    assert "Reason" in table and "thiếu biên chế" in table
    assert "Reason" not in cli("overdue", "--as-of", "2013-10-01").stdout  # no row has one
    assert cli.json("show", "2")["milestones"][0]["reason"] == "chờ hướng dẫn của Bộ Nội vụ"
    rows = list(csv.DictReader(io.StringIO(cli("overdue", "--as-of", "2014-02-01", "-f", "csv").stdout)))
    assert {r["task"]: r["reason"] for r in rows}["2"] == "chờ hướng dẫn của Bộ Nội vụ"


def test_show_s_grid_tells_on_time_from_late_with_a_legend(cli, loaded):
    cli("record", "1", "--status", "done", "--agency", "hai hau", "--on", "2013-12-20")
    cli("record", "1", "--status", "done", "--agency", "snv", "--on", "2014-01-10", "-m", "2013")
    grid = cli("show", "1", "--as-of", "2014-02-01").stdout
    row = {line.split("(")[1].split(")")[0]: line for line in grid.splitlines() if line.startswith(("Huyện Hải", "Sở Nội"))}
    assert row["hai-hau"].split()[-3] == "✓" and row["snv"].split()[-3] == "✓!"
    assert "✓ done-on-time" in grid and "✓! done-late" in grid and "✗ overdue" in grid
