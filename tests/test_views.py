"""The plan at a glance: `timeline`, `scorecard` and `report`, through the real CLI
on real SQLite files, checked against what `overdue`, `tasks` and `show` say."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from tests.conftest import run_module

AS_OF = "2014-02-01"
SCRIPT_NOTE = "<script>alert(1)</script> chờ </td> hướng dẫn & Bộ"
STANDINGS = ("done-on-time", "done-late", "within-deadline", "overdue", "ongoing")


@pytest.fixture
def progressed(cli, loaded):
    """The bundled plan with progress: on time, late, a group member each way, blocked."""
    cli("record", "21", "--status", "done", "--on", "2013-09-15", "--evidence", "Quyết định 1234/QĐ-UBND")
    cli("record", "2", "--status", "done", "--on", "2014-01-10", "--evidence", "Tờ trình 12/TTr-SNV")
    cli("record", "1", "--status", "done", "--agency", "snv", "--on", "2013-12-01")
    cli("record", "1", "--status", "done", "--agency", "hai hau", "--on", "2014-01-20")
    cli("record", "IV.2-plan", "--status", "done", "--agency", "stc", "--on", "2013-09-20")
    cli("record", "3", "--status", "blocked", "--on", "2014-01-15", "--note", SCRIPT_NOTE)
    return loaded


# ── timeline ────────────────────────────────────────────────────────────────

QUARTERS_EN = ["Q3/2013", "Q4/2013", "Q1/2014", "Q2/2014", "Q3/2014", "Q4/2014", "Q1/2015", "Q2/2015", "Q3/2015",
               "Q4/2015"]


def _line(text: str, task: str) -> str:
    return next(line for line in text.splitlines() if line.split()[:1] == [task])


def test_timeline_has_a_column_per_quarter_and_the_marks_of_show(cli, progressed):
    out = cli("timeline", "--as-of", AS_OF).stdout
    header = next(line for line in out.splitlines() if "Q3/2013" in line)
    assert header.split()[3:] == [("▼" if q == "Q1/2014" else "") + q for q in QUARTERS_EN]
    # Marks sit under their quarter's header, piped or not (no escape codes here).
    assert "\x1b" not in out
    column = {q: header.index(q) for q in ("Q3/2013", "Q4/2013")}
    assert _line(out, "21")[column["Q3/2013"]] == "✓"          # done on time
    assert _line(out, "2")[column["Q4/2013"]:].startswith("✓!")  # done late
    assert _line(out, "3")[column["Q4/2013"]] == "✗"           # overdue
    assert "~~~~~~~" in _line(out, "16")                        # ongoing: a bar across
    legend = out.splitlines()[-1]
    assert "✓ done on time" in legend and "✗ overdue" in legend and "▼ the quarter of 2014-02-01" in legend


def test_timeline_in_vietnamese(cli, progressed):
    out = cli("--lang", "vi", "timeline", "--as-of", AS_OF).stdout
    assert "Quý III/2013" in out and "▼Quý I/2014" in out and "Quý IV/2015" in out
    assert "chưa hoàn thành, quá hạn" in out and "05/01/2014" not in out and "01/02/2014" in out


def test_timeline_colours_on_a_terminal_and_not_with_no_color(progressed):
    coloured = run_module("timeline", "--as-of", AS_OF, env={"FORCE_COLOR": "1", "TERM": "xterm-256color"})
    assert coloured.returncode == 0, coloured.stderr
    assert "\x1b[31m✗" in coloured.stdout and "\x1b[32m✓" in coloured.stdout and "\x1b[33m✓!" in coloured.stdout
    plain = run_module("timeline", "--as-of", AS_OF, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\x1b" not in plain.stdout and "✗" in plain.stdout


def test_timeline_fits_a_narrow_pipe(progressed):
    out = run_module("timeline", "--as-of", AS_OF, env={"COLUMNS": "80"}).stdout
    assert max(len(line) for line in out.splitlines()[:-2]) <= 80
    assert "▼Q1" in out and "IV.2-report" in out  # two-line quarter headers; ids never broken


def test_timeline_machine_formats_have_one_row_per_milestone(cli, progressed):
    rows = cli.json("timeline", "--as-of", AS_OF)
    assert list(rows[0]) == ["task", "plan", "title", "title_en", "milestone", "due", "quarter", "lead", "status",
                             "percent", "standing"]
    assert len([r for r in rows if r["milestone"]]) == 34
    by_key = {(r["task"], r["milestone"]): r for r in rows}
    assert by_key[("13", "pilot")]["quarter"] == "2014-Q1"
    assert (by_key[("2", "main")]["standing"], by_key[("2", "main")]["quarter"]) == ("done-late", "2013-Q4")
    assert by_key[("16", "")]["quarter"] is None and by_key[("16", "")]["standing"] == "ongoing"
    csv = cli("timeline", "--as-of", AS_OF, "--format", "csv").stdout
    assert csv.splitlines()[0] == "task,plan,title,title_en,milestone,due,quarter,lead,status,percent,standing"
    assert ",2013-12-31,2013-Q4," in csv


def test_timeline_for_one_agency(cli, progressed):
    rows = cli.json("timeline", "--as-of", AS_OF, "--agency", "hai hau")
    assert {r["task"] for r in rows} == {"1", "IV.2-plan", "IV.2-report"}
    # Its own report decides its row: Hải Hậu did task 1's 2013 review late.
    assert next(r for r in rows if r["task"] == "1" and r["milestone"] == "2013")["standing"] == "done-late"


# ── scorecard ───────────────────────────────────────────────────────────────

def _expected_from_show(cli) -> dict[str, Counter]:
    """Each agency's units by standing, as `tasks` lists the tasks and `show` each one."""
    expected: dict[str, Counter] = {}
    for task in cli.json("tasks", "--as-of", AS_OF):
        detail = json.loads(cli("show", task["task"], "--as-of", AS_OF, "--format", "json").stdout)
        if detail["members"]:
            for member in detail["members"]:
                expected.setdefault(member["agency"], Counter())[member["standing"]] += 1
            continue
        standings = [m["standing"] for m in detail["milestones"]] or ["ongoing"]
        for lead in detail["lead"]:
            expected.setdefault(lead, Counter()).update(standings)
    return expected


def test_scorecard_adds_up_to_overdue_tasks_and_show(cli, progressed):
    rows = cli.json("scorecard", "--as-of", AS_OF)
    assert set(rows[0]) == {"plan", "agency", "name", "name_en", "done_on_time", "done_late", "within_deadline",
                            "overdue", "ongoing", "total", "on_time_rate"}
    expected = _expected_from_show(cli)
    got = {row["agency"]: Counter({standing: row[standing.replace("-", "_")] for standing in STANDINGS})
           for row in rows}
    assert {code: +counts for code, counts in got.items()} == expected
    for row in rows:
        assert row["total"] == sum(row[s.replace("-", "_")] for s in STANDINGS)
        judged = row["done_on_time"] + row["done_late"] + row["overdue"]
        assert row["on_time_rate"] == (round(row["done_on_time"] / judged, 4) if judged else None)
    # Every overdue milestone is owed by its lead agencies, or by each member not done.
    owed = sum(len(r["lead"]) if r["units"] == 1 else r["units"] - r["units_done"]
               for r in cli.json("overdue", "--as-of", AS_OF))
    assert sum(row["overdue"] for row in rows) == owed
    snv, hai_hau = (next(r for r in rows if r["agency"] == code) for code in ("snv", "hai-hau"))
    assert (snv["done_on_time"], snv["done_late"]) == (1, 1)  # its task-1 report; task 2 late
    assert (hai_hau["done_on_time"], hai_hau["done_late"]) == (0, 1)
    # Worst first: the most overdue, then the lowest on-time rate.
    assert [r["overdue"] for r in rows] == sorted((r["overdue"] for r in rows), reverse=True)


def test_scorecard_rate_is_empty_before_anything_is_due(cli, loaded):
    rows = cli.json("scorecard", "--as-of", "2013-09-01")
    assert rows and all(row["on_time_rate"] is None and row["overdue"] == 0 for row in rows)
    table = cli("--lang", "vi", "scorecard", "--as-of", "2013-09-01").stdout
    assert "Sở Nội vụ" in table and "Tỷ lệ đúng hạn" in table and "01/09/2013" in table


def test_scorecard_csv(cli, progressed):
    csv = cli("scorecard", "--as-of", AS_OF, "--format", "csv").stdout
    assert csv.splitlines()[0] == ("plan,agency,name,name_en,done_on_time,done_late,within_deadline,overdue,"
                                   "ongoing,total,on_time_rate")


# ── report ──────────────────────────────────────────────────────────────────

def test_report_html_is_self_contained_escaped_and_printable(cli, progressed, tmp_path):
    target = tmp_path / "report.html"
    result = cli("report", "--as-of", AS_OF, "-o", target)
    assert f"wrote the report to {target}" in result.stderr
    html = target.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    # Nothing fetched, nothing run.
    assert not re.search(r"<(script|link|img|iframe|object)\b", html, re.I)
    assert not re.search(r"(src|href)\s*=|url\(|@import|https?://", html, re.I)
    # What people typed is text.
    assert "&lt;script&gt;alert(1)&lt;/script&gt; chờ &lt;/td&gt; hướng dẫn &amp; Bộ" in html
    assert "@page { size: A4 landscape" in html and "thead { display: table-header-group; }" in html
    assert "tr { break-inside: avoid" in html
    assert "55/KH-UBND" in html and "As of: <time>2014-02-01</time>" in html
    assert "Quyết định 1234/QĐ-UBND" not in html  # recorded 2013-09-15: not in the last 30 days
    assert "Tờ trình 12/TTr-SNV" in html          # recorded 2014-01-10: within them


def test_report_in_vietnamese_uses_official_terms_and_dates(cli, progressed, tmp_path):
    target = tmp_path / "bao_cao.html"
    cli("--lang", "vi", "report", "--as-of", AS_OF, "-o", target)
    html = target.read_text(encoding="utf-8")
    for words in ("Tính đến ngày", "01/02/2014", "14/08/2013", "Kế hoạch số 55/KH-UBND", "UBND tỉnh Nam Định",
                  "đã hoàn thành đúng hạn", "đã hoàn thành quá hạn", "chưa hoàn thành, trong hạn",
                  "chưa hoàn thành, quá hạn", "Quý IV/2013", "Sở Nội vụ", "Tồn tại, hạn chế và nguyên nhân",
                  "Thời hạn", "Chủ trì", "Minh chứng"):
        assert words in html, words
    assert "2014-02-01" not in html and "Department" not in html


def test_report_markdown_goes_to_stdout(cli, progressed):
    out = cli("report", "--as-of", AS_OF, "--format", "markdown").stdout
    assert out.startswith("# Report on carrying out Plan 55/KH-UBND\n")
    assert "| done late | 1 |" in out and "## 4. Overdue milestones" in out and "Q4/2013" in out


def test_report_html_needs_a_file(cli, loaded):
    result = cli("report", expect=2)
    assert "an HTML report needs a file" in result.stderr and result.stdout == ""


def test_report_into_a_missing_folder_names_it(cli, loaded, tmp_path):
    result = cli("report", "-o", tmp_path / "missing" / "r.html", expect=3)
    assert result.stderr == f"civreform: {tmp_path / 'missing'}: no such folder; the report was not written\n"


def test_report_asks_for_a_plan_when_several_are_loaded(cli, loaded, tmp_path):
    from tests.conftest import copy_plan

    other = copy_plan(tmp_path, lambda text: text.replace("id: nd-55-2013", "id: other-plan", 1))
    cli("load", other)
    assert "choose one with --plan" in cli("report", "-o", tmp_path / "r.html", expect=3).stderr
    cli("--plan", "other-plan", "report", "-o", tmp_path / "r.html")


@pytest.mark.parametrize("command", ["timeline", "scorecard"])
def test_machine_formats_import_neither_rich_nor_jinja2(progressed, command):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    probe = subprocess.run([sys.executable, "-X", "importtime", "-m", "civreform", command, "--as-of", AS_OF,
                            "--format", "csv"], capture_output=True, text=True, env=dict(os.environ), cwd=ROOT)
    assert probe.returncode == 0, probe.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in probe.stderr.splitlines() if "|" in line}
    assert not {name for name in imported if name.split(".")[0] in ("jinja2", "rich")}


def test_a_milestone_waiting_for_its_event_has_no_quarter(cli, loaded):
    import sqlite3

    # No plan file writes such a deadline yet; the schema holds it ("sau khi có hướng dẫn").

    with sqlite3.connect(loaded) as conn:
        conn.execute("INSERT INTO milestones (plan_id, task_id, label, label_vi, due, after_event, after_days, seq) "
                     "VALUES ('nd-55-2013', '5', 'guidance', NULL, NULL, 'hướng dẫn của Bộ Nội vụ', 30, 9)")
    row = next(r for r in cli.json("timeline", "--as-of", AS_OF) if r["milestone"] == "guidance")
    assert (row["due"], row["quarter"], row["standing"]) == (None, None, "pending")
    out = cli("timeline", "--as-of", AS_OF).stdout
    assert "Waiting" in out and "○ 1" in _line(out, "5") and "○ waiting for its event" in out
    snv = next(r for r in cli.json("scorecard", "--as-of", AS_OF) if r["agency"] == "snv")
    assert snv["total"] == sum(snv[k] for k in ("done_on_time", "done_late", "within_deadline", "overdue",
                                                "ongoing")) + 1


def test_the_markdown_report_shows_html_in_notes_as_text(cli, loaded):
    cli("record", "2", "--status", "blocked", "--on", "2014-06-01", "--note", "<script>alert(1)</script> & </td>")
    markdown = cli("report", "--as-of", "2014-12-31", "--format", "markdown").stdout
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;/td&gt;" in markdown and "<script>" not in markdown
