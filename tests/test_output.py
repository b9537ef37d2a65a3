"""Output that cron, spreadsheets and terminals can trust."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import copy_plan, run_module


@pytest.fixture
def with_progress(cli, loaded):
    cli("record", "21", "--status", "done", "--on", "2013-12-28", "--note", "Sở Tài chính: đã trình")
    cli("record", "1", "--status", "done", "--agency", "hai hau", "--on", "2013-12-30")
    cli("record", "2", "--status", "in-progress", "--percent", "40", "--on", "2013-12-20")
    return loaded


def test_summary_through_a_pipe_is_plain_stable_text(with_progress):
    first = run_module("summary", "--as-of", "2014-01-01")
    second = run_module("summary", "--as-of", "2014-01-01")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert first.stderr == ""
    assert "\x1b" not in first.stdout
    assert not any(ch in first.stdout for ch in "─│┃━┏┓└┘╇")
    assert all(len(line) < 100 for line in first.stdout.splitlines())
    text = first.stdout
    assert "within deadline" in text and "overdue" in text
    assert "Progress recorded for the last 7 days (2)" in text  # 28/12 and 30/12, not 20/12
    assert "2013-12-28 task 21 main: done 100% — Sở Tài chính: đã trình" in text
    assert "Became overdue in the last 7 days" in text and "task 2 main, due 2013-12-31" in text


def test_summary_counts_and_json(cli, with_progress):
    data = json.loads(cli("summary", "--as-of", "2014-01-01", "--format", "json").stdout)
    counts = data["counts"]
    assert sum(counts[k] for k in ("done-on-time", "done-late", "within-deadline", "overdue")) == data["milestones"] == 34
    assert counts["done-late"] == 1 and counts["ongoing"] == 1
    assert data["share_done"] == round(1 / 34, 4)
    ranking = data["agencies_by_overdue"]
    assert ranking == sorted(ranking, key=lambda r: -r["overdue"])
    hai_hau = next(r for r in ranking if r["agency"] == "hai-hau")
    nghia_hung = next(r for r in ranking if r["agency"] == "nghia-hung")
    assert hai_hau["overdue"] == nghia_hung["overdue"] - 1  # Hải Hậu reported task 1 for 2013
    assert [i["task"] for i in data["due_30"]] == ["5"] or all(i["due"] >= "2014-01-01" for i in data["due_30"])


def test_summary_markdown(cli, with_progress):
    text = cli("summary", "--as-of", "2014-01-01", "--format", "markdown").stdout
    assert text.startswith("# civreform summary: 55/KH-UBND (nd-55-2013)")
    assert "## Milestones by standing" in text and "## Agencies by overdue milestones" in text


def test_fail_on_overdue_exit_codes(cli, loaded):
    assert cli("summary", "--as-of", "2013-09-01", "--fail-on-overdue").exit_code == 0
    cli("summary", "--as-of", "2014-01-01", "--fail-on-overdue", expect=1)
    assert cli("overdue", "--as-of", "2013-09-01", "--fail-on-overdue").exit_code == 0
    result = cli("overdue", "--as-of", "2014-01-01", "--fail-on-overdue", "--format", "csv", expect=1)
    assert result.stdout.startswith("task,plan,")  # the report is still printed
    assert cli("overdue", "--as-of", "2014-01-01").exit_code == 0


def test_csv_keeps_vietnamese_and_neutralises_formulas(cli, loaded):
    cli("record", "2", "--status", "in-progress", "--on", "2013-10-01",
        "--note", '=HYPERLINK("http://x","y")', "--evidence", "Quyết định 1234/QĐ-UBND ngày 20/12/2013")
    cli("record", "3", "--status", "in-progress", "--on", "2013-10-02", "--note", "@SUM(A1)")
    cli("record", "4", "--status", "in-progress", "--on", "2013-10-03", "--note", "-2+3")
    raw = run_module("history", "--format", "csv").stdout
    assert raw.count("\r\n") == 4  # RFC 4180 line ends (subprocess: no newline translation)
    rows = list(csv.DictReader(io.StringIO(raw, newline="")))
    assert rows[0]["note"] == "'=HYPERLINK(\"http://x\",\"y\")"
    assert rows[0]["evidence"] == "Quyết định 1234/QĐ-UBND ngày 20/12/2013"
    assert rows[1]["note"] == "'@SUM(A1)" and rows[2]["note"] == "'-2+3"
    assert all(not r["note"].startswith(("=", "+", "-", "@")) for r in rows)
    tasks = list(csv.DictReader(io.StringIO(cli("tasks", "--format", "csv").stdout)))
    assert tasks[1]["title"] == "Đề án tổ chức bộ máy, nâng cao chất lượng đội ngũ"


def _as_spreadsheet_cell(value) -> str:
    """What a JSON value of a listing is in its CSV: the formula guard, lists joined."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = ",".join(value)
    text = str(value)
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


@pytest.mark.parametrize("args", [["overdue", "--as-of", "2014-01-01"], ["overdue", "--as-of", "2013-10-15"],
                                  ["overdue", "--as-of", "2014-01-01", "--agency", "snv"],
                                  ["upcoming", "--as-of", "2013-09-01", "--days", "200"]],
                         ids=["current", "worked-out", "agency", "upcoming"])
def test_listing_csv_guards_plan_text_that_a_spreadsheet_would_run(cli, tmp_path, args):
    """Each overdue/upcoming CSV field is what csv_cell makes of the JSON value, in every
    way the query runs."""
    plan = copy_plan(tmp_path, lambda text: text
                     .replace("title: Đề án tổ chức bộ máy, nâng cao chất lượng đội ngũ",
                              'title: \'=HYPERLINK("http://x","y")\'')
                     .replace("title_en: Scheme on organisation and staff quality to 2015",
                              'title_en: "@SUM(A1), \\"quoted\\"\\nsecond line"')
                     .replace("title_en: Scheme to reform how public service units operate",
                              'title_en: "-2+3"'))
    cli("load", plan)
    # An event dated after 2013-10-15 makes that listing work milestones out from events.
    cli("record", "2", "--status", "in-progress", "--on", "2013-12-01")
    expected = cli.json(*args)
    raw = run_module(*args, "--format", "csv").stdout
    rows = list(csv.reader(io.StringIO(raw, newline="")))
    header, body = rows[0], rows[1:]
    assert len(body) == len(expected) > 0
    assert [[_as_spreadsheet_cell(row[key]) for key in header] for row in expected] == body
    assert any(field.startswith("'") for row in body for field in row[2:4])  # a guarded title is listed


@pytest.mark.parametrize("unbuffered", ["", "1"])
def test_listing_csv_is_the_same_bytes_wherever_it_is_written(cli, loaded, unbuffered):
    """Piped (also unbuffered) or written in-process: the same bytes, CRLF kept."""
    args = ("overdue", "--as-of", "2014-01-01", "--format", "csv", "--bom")
    piped = run_module(*args, env={"PYTHONUNBUFFERED": unbuffered})
    assert piped.returncode == 0, piped.stderr
    in_process = cli(*args).stdout_bytes.decode("utf-8")  # (click's .stdout turns CRLF into LF)
    assert piped.stdout == in_process
    assert in_process.count("\r\n") == len(list(csv.reader(io.StringIO(in_process.lstrip("\ufeff"),
                                                                       newline="")))) > 10


def test_bom_for_excel(cli, loaded):
    raw = cli("overdue", "--as-of", "2014-01-01", "--format", "csv", "--bom").stdout
    assert raw.startswith("\ufefftask,")
    rows = list(csv.DictReader(io.StringIO(raw.encode("utf-8").decode("utf-8-sig"))))
    assert rows[0]["task"] in ("21", "IV.2-plan")
    assert not cli("overdue", "--as-of", "2014-01-01", "--format", "csv").stdout.startswith("\ufeff")


def test_a_table_rules_each_header_and_lines_its_columns_up(cli, loaded):
    lines = cli("overdue", "--as-of", "2014-01-01").stdout.splitlines()  # COLUMNS=200 in tests
    headers, rules, first = lines[1], lines[2], lines[3]
    starts = [m.start() for m in re.finditer(r"─+", rules)]
    assert len(starts) == 8 and set(rules) == {"─", " "}
    # Each rule starts where its header starts, and where the column's cells start.
    assert [headers[start - 1] if start else " " for start in starts] == [" "] * 8
    assert all(headers[start] != " " for start in starts)
    assert all(first[start] != " " and (start == 0 or first[start - 1] == " ") for start in starts[:4])
    assert headers.split()[:4] == ["Task", "Milestone", "Due", "Days"]


def test_at_80_columns_ids_and_statuses_stay_whole_and_the_title_gives_way(cli, loaded, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    as_json = cli.json("overdue")
    lines = cli("overdue").stdout.splitlines()
    assert max(map(len, lines)) <= 80
    # 80 columns cannot hold every column whole: the long title wraps first, "Days
    # late" goes under its header in two lines, and no id, date or status is broken.
    header_at = next(i for i, line in enumerate(lines) if line.startswith("Task "))
    rule = lines[header_at + 1]
    starts = [m.start() for m in re.finditer(r"─+", rule)]
    ends = [m.end() for m in re.finditer(r"─+", rule)]
    assert len(starts) == 8
    body = lines[header_at + 2:]
    first_column = {line[:ends[0]].strip() for line in body} - {""}
    assert first_column == {row["task"] for row in as_json}
    status_column = " ".join(line[starts[5]:ends[5]].strip() for line in body).split()
    assert "not-started" in status_column and all(word in {"not-started", "in-progress", "blocked", "done"}
                                                  or word.startswith("(") for word in status_column)
    assert ends[7] - starts[7] >= 12, "the title keeps a readable width"


def test_column_widths_give_natural_widths_when_the_table_fits():
    from civreform.render import column_widths

    cells = [["IV.2-plan", "not-started (0/17)", "Each department's plan"], ["1", "done", "Review"]]
    assert column_widths(cells, ["Task", "Status", "Title"], long_text=[False, False, True],
                         fixed=[False, False, False], room=200) == [9, 18, 22]


def test_column_widths_take_from_the_long_text_first_then_break_only_between_words():
    from civreform.render import LONG_TEXT_MIN, column_widths

    title = "word " * 30
    cells = [["IV.2-plan", "not-started (0/17)", "2013-09-30", title.strip()]]
    args = dict(long_text=[False, False, False, True], fixed=[False, False, True, False])
    headers = ["Task", "Status", "Due", "Title"]
    # The title gives way down to its minimum, the rest untouched.
    assert column_widths(cells, headers, room=9 + 18 + 10 + 40 + 3, **args) == [9, 18, 10, 40]
    assert column_widths(cells, headers, room=9 + 18 + 10 + LONG_TEXT_MIN + 3, **args) == [9, 18, 10, LONG_TEXT_MIN]
    # Then the status breaks between its words, never inside "not-started".
    assert column_widths(cells, headers, room=9 + 11 + 10 + LONG_TEXT_MIN + 3, **args) == [9, 11, 10, LONG_TEXT_MIN]
    # Then the title again, down to its widest word (its header); narrower than that,
    # nothing fits without cutting a value: None, and print_table leaves a column out.
    assert column_widths(cells, headers, room=9 + 11 + 10 + 5 + 3, **args) == [9, 11, 10, 5]
    assert column_widths(cells, headers, room=9 + 11 + 10 + 5 + 2, **args) is None
    assert column_widths(cells, headers, room=10, **args) is None


def test_column_widths_level_a_long_list_of_codes_with_the_long_text():
    from civreform.render import LONG_TEXT_MIN, column_widths

    members = ", ".join(["tp-nam-dinh", "my-loc", "vu-ban", "y-yen", "nam-truc"])  # 45 cells
    cells = [["ubnd-huyen", "District-level People's Committees of every district", members]]
    args = dict(long_text=[False, True, False], fixed=[False, False, False])
    # The widest of the two gives way first, until they are level; the codes stay as they are.
    code, agency, listed = column_widths(cells, ["Code", "Agency", "Members"], room=10 + 80 + 2, **args)
    assert (code, agency + listed) == (10, 80) and abs(agency - listed) <= 1
    # Both down to LONG_TEXT_MIN before the code column gives a cell; the list keeps its codes whole.
    assert column_widths(cells, ["Code", "Agency", "Members"], room=10 + 2 * LONG_TEXT_MIN + 2,
                         **args) == [10, LONG_TEXT_MIN, LONG_TEXT_MIN]
    narrow = column_widths(cells, ["Code", "Agency", "Members"], room=10 + 30 + 2, **args)
    assert narrow[2] >= len("tp-nam-dinh,") and narrow[0] == 10


TABLE_TEXT = st.text(alphabet=st.sampled_from(list("ab xyz-ệươĐ漢字\te\u0301\u200d\ufe0f🙂\xa0\xad\u3000 ,.")),
                     max_size=40)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.tuples(TABLE_TEXT, TABLE_TEXT, TABLE_TEXT), min_size=1, max_size=6),
       width=st.integers(min_value=10, max_value=120))
def test_one_line_cells_print_exactly_as_rich_text_would(rows, width):
    """Cells that fit are handed to Rich as one segment, not as Text: the output must be
    the same characters Rich's Text gives."""
    from rich.text import Text

    from civreform import render

    columns = [("task", "Task"), ("status", "Status"), ("title", "Title")]
    dicts = [dict(zip(("task", "status", "title"), row)) for row in rows]

    def printed() -> str:
        out = io.StringIO()
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("COLUMNS", str(width))
            patch.setattr("sys.stdout", out)
            render.write_table(dicts, columns, title="T")
        return out.getvalue()

    fast = printed()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(render, "_table_cell", lambda text, width, cell_len: Text(text))
        assert printed() == fast


MARKUP = ["[bold red]urgent[/]", "[link=http://x]y[/link]", "Budget [/] review", ":fire: now"]


@pytest.mark.parametrize("note", MARKUP)
def test_markup_in_a_note_is_shown_literally_in_a_table(cli, loaded, note):
    cli("record", "2", "--status", "in-progress", "--on", "2013-10-01", "--note", note)
    out = cli("history").stdout
    assert note in out
    assert "🔥" not in out


def test_escape_sequences_never_reach_the_terminal(cli, loaded):
    evil = "red\x1b[31mALERT\x1b[0m\x07bell\rback"
    cli("record", "2", "--status", "in-progress", "--on", "2013-10-01", "--note", evil, "--evidence", "\x1b]8;;http://x\x1b\\")
    table = cli("history").stdout
    assert "\x1b" not in table and "\x07" not in table and "\r" not in table
    assert "\\x1b[31mALERT" in table
    summary = cli("summary", "--as-of", "2013-10-01").stdout
    assert "\x1b" not in summary and "\\x1b[31mALERT" in summary
    # machine formats carry the text exactly as typed
    assert cli.json("history")[0]["note"] == evil


def test_markdown_for_listings(cli, loaded):
    text = cli("overdue", "--as-of", "2013-10-01", "--format", "markdown").stdout
    lines = text.splitlines()
    assert lines[0].startswith("| Task | Milestone | Due |")
    assert lines[1].startswith("| --- |")
    assert len(lines) == 4
    cli("record", "2", "--status", "in-progress", "--on", "2013-10-01", "--note", "a | b")
    assert "a \\| b" in cli("history", "--format", "markdown").stdout


@pytest.mark.parametrize("command", [["tasks"], ["agencies"], ["plans"], ["history"], ["overdue"], ["upcoming"]])
def test_every_listing_has_json(cli, loaded, command):
    assert isinstance(json.loads(cli(*command, "--format", "json").stdout), list)


def test_usage_errors_exit_2(cli, loaded):
    assert cli("overdue", "--format", "xml", expect=2).exit_code == 2
    assert cli("record", "21", expect=2).exit_code == 2  # --status is required
    assert cli("upcoming", "--days", "-3", expect=2).exit_code == 2


def test_no_progress_output_on_stderr_when_not_a_terminal(loaded, tmp_path):
    result = run_module("load")
    assert result.returncode == 0 and result.stderr == ""
    path = tmp_path / "empty.csv"
    path.write_text("task,status\n", encoding="utf-8")
    imported = run_module("import", str(path))
    assert imported.returncode == 0 and imported.stderr == ""


def on_a_terminal(*args: str, env: dict) -> tuple[int, str]:
    """civreform run on a pseudo-terminal (stdin, stdout and stderr): its exit code and all it drew."""
    import os
    import pty
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {**{name: value for name, value in os.environ.items() if name != "NO_COLOR"}, **env,
           "TERM": "xterm-256color"}
    primary, secondary = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "civreform", *args], cwd=ROOT, env=env,
                               stdin=secondary, stdout=secondary, stderr=secondary)
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    code = process.wait(timeout=120)
    os.close(primary)
    return code, b"".join(chunks).decode("utf-8", "replace")


def test_no_color_on_a_terminal_means_no_escape_codes_at_all(loaded):
    code, drawn = on_a_terminal("overdue", "--as-of", "2014-01-01", env={"CIVREFORM_DB": str(loaded)})
    assert code == 0 and "\x1b[1m" in drawn  # bold headers, as a terminal gets them
    code, drawn = on_a_terminal("overdue", "--as-of", "2014-01-01", env={"CIVREFORM_DB": str(loaded), "NO_COLOR": "1"})
    assert code == 0 and "IV.2-plan" in drawn and "\x1b" not in drawn


def test_standing_is_coloured_on_a_terminal_and_nowhere_else(cli, loaded):
    cli("record", "21", "--status", "done", "--on", "2013-10-15")  # done late
    cli("record", "4", "--status", "blocked", "--on", "2013-12-01", "--note", "chờ hướng dẫn")
    env = {"CIVREFORM_DB": str(loaded), "COLUMNS": "160"}
    code, drawn = on_a_terminal("tasks", "--as-of", "2014-01-01", env=env)
    lines = {line.split()[0]: line for line in drawn.splitlines() if line[:1].isdigit()}
    assert code == 0
    assert "\x1b[31moverdue" in lines["1"] and "\x1b[33mdone-late" in lines["21"]  # red, yellow
    assert "\x1b[1;35mblocked" in lines["4"]  # blocked marked
    assert "\x1b[" not in run_module("tasks", "--as-of", "2014-01-01", env=env).stdout  # piped: none
    code, drawn = on_a_terminal("tasks", "--as-of", "2014-01-01", env={**env, "NO_COLOR": "1"})
    assert "\x1b" not in drawn


@pytest.mark.parametrize("name, tasks", [("big.yaml", 1500), ("big.json", 4500)])
def test_progress_bar_on_a_terminal_only(tmp_path, name, tasks):
    """On a terminal (a pseudo-terminal here) `load` of a large plan shows a Rich progress bar on
    stderr; with more tasks than a batch it moves batch by batch."""
    from benchmarks.generate import write_plan

    plan = write_plan(tmp_path / name, "big", tasks)
    code, screen = on_a_terminal("load", str(plan), env={"CIVREFORM_DB": str(tmp_path / "tty.db")})
    assert code == 0
    assert "loading tasks" in screen and "100%" in screen
    assert "loaded plan big" in screen
    if name.endswith(".json"):
        assert re.search(r"\b([1-9]|[1-9][0-9])%", screen), "no progress between the start and the end"


def test_check_shows_it_is_working_on_a_terminal_only(loaded):
    """`check` reads the whole file (34 s at 100k tasks and 1M events): on a terminal it says
    what it is doing meanwhile; through a pipe it prints only its report."""
    code, screen = on_a_terminal("check", env={"CIVREFORM_DB": str(loaded)})
    assert code == 0
    assert "checking the database" in screen and "integrity: ok" in screen
    piped = run_module("check", env={"CIVREFORM_DB": str(loaded)})
    assert piped.returncode == 0 and piped.stderr == "" and "checking" not in piped.stdout


@pytest.fixture(scope="module")
def busy_db(tmp_path_factory):
    """A generated plan of 1,500 tasks with events over the years: its listings are far
    larger than a pipe holds, and as of mid-2014 some milestones have later events."""
    from benchmarks.generate import add_events, write_plan

    folder = tmp_path_factory.mktemp("busy")
    db = folder / "busy.db"
    plan = write_plan(folder / "busy.yaml", "busy", 1500)
    loaded = run_module("load", str(plan), env={"CIVREFORM_DB": str(db)})
    assert loaded.returncode == 0, loaded.stderr
    add_events(db, 5000)
    return db


READER_GOES_AWAY = [
    ["overdue", "--as-of", "2014-06-30", "--format", "csv"],
    ["overdue", "--as-of", "2014-06-30", "--format", "json"],
    ["overdue", "--as-of", "2014-06-30", "--format", "markdown"],
    ["overdue", "--as-of", "2014-06-30"],
    ["upcoming", "--as-of", "2014-06-30", "--days", "400", "--format", "json"],
    ["tasks", "--format", "csv"],
    ["history", "--format", "json"],
    ["overdue", "--format", "csv"],
    ["overdue", "--format", "markdown"],
    ["summary", "--format", "json"],
    ["--plan", "busy", "show", "1", "--format", "json"],
]


@pytest.mark.parametrize("read_first", [True, False], ids=["after-a-line", "at-once"])
@pytest.mark.parametrize("unbuffered", ["", "1"])
@pytest.mark.parametrize("args", READER_GOES_AWAY, ids=" ".join)
def test_a_reader_that_goes_away_gets_no_traceback(busy_db, args, unbuffered, read_first):
    """`civreform overdue | head -1`: the command stops quietly when the reader goes away,
    mid-listing or before the end (output that fits Python's buffer meets the closed
    pipe only in the last flush), whether Python buffers its output or not."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {**os.environ, "CIVREFORM_DB": str(busy_db), "PYTHONUNBUFFERED": unbuffered}
    process = subprocess.Popen([sys.executable, "-m", "civreform", *args], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = process.stdout.readline() if read_first else b"-"
    process.stdout.close()  # before anything was written, or after the first line
    stderr = process.stderr.read().decode("utf-8")
    code = process.wait(timeout=120)
    assert first.strip()
    assert stderr == ""
    assert code == 0


def test_closed_standard_output_is_one_line_and_nothing_done(loaded):
    """`civreform record ... >&-`: Python starts with no sys.stdout; say so before doing anything."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT, sql_rows

    env = {**os.environ, "CIVREFORM_DB": str(loaded)}
    done = subprocess.run(["sh", "-c", f'exec "{sys.executable}" -m civreform record 21 --status done >&-'],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3
    assert done.stderr == "civreform: standard output is closed; nothing was done\n"
    assert sql_rows(loaded, "SELECT count(*) FROM events") == [(0,)]


@pytest.mark.parametrize("encoding", ["ascii", "latin-1", "cp1252"])
@pytest.mark.parametrize("args", [["tasks", "--format", "csv"], ["--lang", "vi", "overdue", "--as-of", "2014-01-01"],
                                  ["--lang", "vi", "tasks"], ["summary", "--as-of", "2014-01-01"]])
def test_output_is_utf8_whatever_the_locale_says(loaded, encoding, args):
    """Windows sends redirected output in its ANSI code page (cp1252), and PYTHONIOENCODING
    may name another; plan text is Vietnamese, and CSV/JSON are promised as UTF-8."""
    result = run_module(*args, env={"PYTHONIOENCODING": encoding})
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert any(ch in result.stdout for ch in "ạảấầệịọốờụữ"), result.stdout[:300]


def test_output_as_windows_would_write_it_is_utf8_with_the_line_ends_written():
    """A stream set up as Windows sets up redirected output (ANSI code page, LF written as
    CRLF): after exact_output, CSV keeps its own CRLF (not CR CR LF) and text is UTF-8."""
    from civreform.cli import exact_output
    from civreform.render import write_csv

    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="cp1252", newline="\r\n")
    exact_output(stream)
    write_csv([{"task": "21", "title": "Sở Nội vụ"}], ["task", "title"], stream)
    stream.write("done\n")
    stream.flush()
    assert raw.getvalue() == "task,title\r\n21,Sở Nội vụ\r\ndone\n".encode("utf-8")
