"""Browsing through the real CLI: tasks, show, agencies, matching, formats."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.conftest import copy_plan


def ids(rows) -> list[str]:
    return [row["task"] for row in rows]


APPENDIX = {str(n) for n in range(1, 23)}


def test_first_command_creates_the_database_and_says_so(cli, db_path):
    assert not db_path.exists()
    result = cli("tasks", "--format", "json")
    assert db_path.exists()
    assert "created it and loaded the bundled plan 55/KH-UBND" in result.stderr
    assert len(json.loads(result.stdout)) == 26
    again = cli("tasks", "--format", "json")
    assert again.stderr == ""


def test_load_reports_what_it_loaded(cli, tmp_path):
    result = cli("load")
    assert result.stdout.startswith("loaded plan nd-55-2013 (55/KH-UBND): 26 tasks, 34 milestones, 23 agencies")
    assert cli("load").stdout.startswith("unchanged plan nd-55-2013")  # the same file: nothing to do
    edited = copy_plan(tmp_path, lambda text: text.replace("title_en: ", "title_en: Edited ", 1))
    assert cli("load", edited).stdout.startswith("updated plan nd-55-2013")


def test_sở_nội_vụ_leads_2_to_13_directly_and_1_to_13_through_its_group(cli, loaded):
    direct = cli.json("tasks", "--agency", "so noi vu", "--role", "lead", "--direct")
    assert ids(direct) == [str(n) for n in range(2, 14)]
    through_groups = cli.json("tasks", "--agency", "so noi vu", "--role", "lead")
    assert [t for t in ids(through_groups) if t in APPENDIX] == [str(n) for n in range(1, 14)]
    task_1 = next(r for r in through_groups if r["task"] == "1")
    assert task_1["via"] == ["sbn"]
    assert all(r["via"] == [] for r in through_groups if r["task"] in {str(n) for n in range(2, 14)})
    # The section IV obligations bind every department, Sở Nội vụ included.
    assert {t for t in ids(through_groups) if t not in APPENDIX} == {"IV.2-plan", "IV.2-report"}


def test_a_district_finds_task_1_through_ubnd_cap_huyen(cli, loaded):
    rows = cli.json("tasks", "--agency", "hai hau")
    assert "1" in ids(rows)
    assert next(r for r in rows if r["task"] == "1")["via"] == ["ubnd-huyen"]
    assert cli.json("tasks", "--agency", "hai hau", "--direct") == []


@pytest.mark.parametrize("typed", ["noi vu", "Nội vụ", "NỘI VỤ", "snv", "SNV", "sở nội vụ", "Home Affairs"])
def test_agency_matching_with_or_without_diacritics(cli, loaded, typed):
    rows = cli.json("tasks", "--agency", typed, "--direct")
    assert ids(rows) == [str(n) for n in range(2, 14)]


@pytest.mark.parametrize("typed, code", [
    ("ke hoach dau tu", "skhdt"), ("Sở Kế hoạch&Đầu tư", "skhdt"), ("khoa hoc cong nghe", "skhcn"),
    ("giao thuy", "giao-thuy"), ("Giao Thuỷ", "giao-thuy"), ("nghia hung", "nghia-hung"),
    ("ubnd cap huyen", "ubnd-huyen"), ("y te", "syt"), ("hải quan", None),
])
def test_agency_names_resolve(cli, loaded, typed, code):
    from civreform.db import open_database
    from civreform.errors import NotFoundError
    from civreform.reports import resolve_agency

    database = open_database(loaded)
    try:
        if code is None:
            with pytest.raises(NotFoundError):
                resolve_agency(database.conn, typed)
        else:
            assert resolve_agency(database.conn, typed).code == code
    finally:
        database.close()


def test_d_with_stroke_folds_to_d():
    from civreform.names import fold

    assert fold("Đầu tư") == "dau tu" == fold("dau tu")
    assert fold("Sở Kế hoạch&Đầu tư") == "so ke hoach va dau tu"


def test_ambiguous_agency_lists_candidates(cli, loaded):
    result = cli("tasks", "--agency", "nam dinh", expect=3)
    assert result.stderr.startswith("civreform: 'nam dinh' matches several agencies:")
    assert "tp-nam-dinh" in result.stderr and "ubnd-tinh" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_agency_suggests_near_names(cli, loaded):
    result = cli("tasks", "--agency", "noi vuu", expect=3)
    assert "no agency matches 'noi vuu'" in result.stderr and "snv" in result.stderr


def test_role_support_and_any(cli, loaded):
    support = cli.json("tasks", "--agency", "snv", "--role", "support", "--direct")
    assert ids(support) == ["1", "IV.2-report", "IV.1-review", "IV.1-final"]
    both = cli.json("tasks", "--agency", "snv", "--role", "any", "--direct")
    assert set(ids(both)) == set(ids(support)) | {str(n) for n in range(2, 14)}


def test_show_13_has_both_milestones(cli, loaded):
    detail = cli.json("show", "13")
    for key in ("id", "title", "content", "lead_text", "support_text", "time_text", "lead", "support", "milestones",
                "title_en", "content_en"):
        assert key in detail
    assert detail["id"] == "13" and detail["lead"] == ["snv"] and detail["support"] == ["sbn", "ubnd-huyen"]
    assert [(m["label"], m["due"]) for m in detail["milestones"]] == [("pilot", "2014-03-31"), ("all-units", "2015-03-31")]
    table = cli("show", "13").stdout
    assert "pilot" in table and "all-units" in table and "2014-03-31" in table and "2015-03-31" in table


@pytest.mark.parametrize("width", ["60", "80"])
def test_show_keeps_dates_and_statuses_whole_on_a_narrow_screen(cli, loaded, monkeypatch, width):
    """show's tables are laid out as the listings are: at 60 columns the dates used to be cut
    to "2014-03…"."""
    monkeypatch.setenv("COLUMNS", width)
    for task in ("13", "1"):
        lines = cli("show", task, "--as-of", "2014-01-01").stdout.splitlines()
        assert max(map(len, lines)) <= int(width) and "…" not in "".join(lines)
        due = {m["due"] for m in cli.json("show", task, "--as-of", "2014-01-01")["milestones"]}
        words = {word for line in lines for word in line.split()}
        assert due <= words and "not-started" in words


def test_show_ongoing_task_has_no_milestones(cli, loaded):
    detail = cli.json("show", "16")
    assert detail["milestones"] == [] and detail["standing"] == "ongoing"


def test_machine_output_does_not_change_with_lang(cli, loaded):
    en = cli.json("--lang", "en", "show", "2")
    vi = cli.json("--lang", "vi", "show", "2")
    assert en == vi
    assert en["title"].startswith("Đề án") and en["title_en"].startswith("Scheme")


def test_lang_picks_the_language_of_tables(cli, loaded, monkeypatch):
    assert "Scheme on organisation" in cli("tasks", "--agency", "snv", "--direct").stdout
    vi = cli("--lang", "vi", "tasks", "--agency", "snv", "--direct").stdout
    assert "Đề án tổ chức bộ máy" in vi and "chưa hoàn thành, quá hạn" in vi
    monkeypatch.setenv("CIVREFORM_LANG", "vi")
    assert "Đề án tổ chức bộ máy" in cli("tasks", "--agency", "snv", "--direct").stdout


@pytest.mark.parametrize("args, english, vietnamese", [
    (["overdue", "--as-of", "2014-01-01"], "Overdue as of 2014-01-01", "Quá hạn tính đến ngày 01/01/2014"),
    (["overdue", "--as-of", "2013-01-01"], "nothing overdue as of 2013-01-01",
     "không có mốc nào quá hạn tính đến ngày 01/01/2013"),
    (["upcoming", "--as-of", "2013-12-01", "--days", "31"], "Due from 2013-12-01 through the next 31 days",
     "Đến hạn trong 31 ngày kể từ ngày 01/12/2013"),
    (["tasks", "--agency", "snv", "--as-of", "2014-01-01"], "Tasks as of 2014-01-01 — ",
     "Nhiệm vụ tính đến ngày 01/01/2014 — "),
    (["history"], "no progress recorded", "chưa có báo cáo tiến độ nào"),
    (["show", "2", "--as-of", "2014-01-01"], "Milestones as of 2014-01-01", "Các mốc tính đến ngày 01/01/2014"),
    (["show", "IV.2-plan", "--as-of", "2014-01-01"], "Reports by agency", "Báo cáo theo cơ quan"),
    (["show", "16"], "Ongoing (no due date)", "Thường xuyên (không có thời hạn)"),
    (["show", "2", "--as-of", "2014-01-01"], "main", "chính"),
    (["overdue", "--as-of", "2014-01-01"], "sbn,", "Các sở, ban, ngành; UBND cấp huyện"),
    (["overdue", "--as-of", "2014-01-01"], "2013-12-31", "31/12/2013"),
], ids=lambda value: value[0] if isinstance(value, list) and value else None)
def test_lang_vi_gives_tables_vietnamese_titles_and_labels(cli, loaded, args, english, vietnamese):
    en = cli(*args).stdout
    vi = cli("--lang", "vi", *args).stdout
    assert english in en and vietnamese not in en
    assert vietnamese in vi and english not in vi


def test_show_in_vietnamese_names_every_fact_in_vietnamese(cli, loaded):
    vi = cli("--lang", "vi", "show", "2", "--as-of", "2014-01-01").stdout
    for label in ("Nội dung", "Chủ trì (văn bản)", "Phối hợp", "Thời gian (văn bản)", "Kết quả", "Ngày hoàn thành"):
        assert label in vi
    for label in ("Content", "Lead (source)", "Support", "Deadline (source)", "Standing", "Done on"):
        assert label not in vi


def test_unknown_task_suggests_nearest(cli, loaded):
    result = cli("show", "23", expect=3)
    assert result.stderr.startswith("civreform: no task '23'; nearest:")
    assert "2" in result.stderr


def test_agencies_counts(cli, loaded):
    rows = {r["code"]: r for r in cli.json("agencies")}
    assert rows["snv"]["lead_tasks"] == 12 and rows["snv"]["support_tasks"] == 4
    assert rows["skhdt"]["lead_tasks"] == 2
    assert rows["ubnd-huyen"]["members"][0] == "tp-nam-dinh" and len(rows["ubnd-huyen"]["members"]) == 10
    assert rows["hai-hau"]["groups"] == ["ubnd-huyen"]


def test_csv_and_json_round_trip(cli, loaded):
    as_json = cli.json("tasks")
    as_csv = list(csv.DictReader(io.StringIO(cli("tasks", "--format", "csv").stdout)))
    assert [r["task"] for r in as_csv] == ids(as_json)
    assert as_csv[0]["title"] == as_json[0]["title"]  # Vietnamese intact
    assert as_csv[0]["lead"] == ",".join(as_json[0]["lead"])


def test_no_ansi_when_piped_or_no_color(cli, loaded, monkeypatch):
    assert "\x1b" not in cli("tasks").stdout
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("FORCE_COLOR", "")
    assert "\x1b" not in cli("overdue", "--as-of", "2014-01-01").stdout


def test_standing_filter(cli, loaded):
    overdue = cli.json("tasks", "--standing", "overdue", "--as-of", "2013-10-01")
    assert ids(overdue) == ["21", "IV.2-plan"]
    ongoing = cli.json("tasks", "--standing", "ongoing", "--as-of", "2013-10-01")
    assert ids(ongoing) == ["16"]


def test_several_plans_live_in_one_database(cli, loaded, tmp_path):
    from tests.conftest import copy_plan

    other = copy_plan(tmp_path, lambda t: t.replace("id: nd-55-2013", "id: other-plan", 1)
                      .replace("number: 55/KH-UBND", "number: 99/KH-UBND", 1))
    cli("load", other)
    plans = cli.json("plans")
    assert [p["plan"] for p in plans] == ["nd-55-2013", "other-plan"]
    result = cli("show", "13", expect=3)
    assert "several plans" in result.stderr
    assert cli.json("--plan", "other-plan", "show", "13")["plan"] == "other-plan"
    assert cli.json("--plan", "55/KH-UBND", "show", "13")["plan"] == "nd-55-2013"
    assert len(cli.json("overdue", "--as-of", "2013-10-01")) == 4


def test_views_make_the_file_useful_on_its_own(cli, loaded):
    from tests.conftest import sql_rows

    rows = sql_rows(loaded, "SELECT task_id, milestone, due, lead, lead_names FROM milestone_view ORDER BY due, task_id")
    assert len(rows) == 34
    assert ("21", "main", "2013-09-30", "stc", "Sở Tài chính") in rows
    assert sql_rows(loaded, "SELECT lead, support, first_due, last_due FROM task_view WHERE task_id = '13'") == [
        ("snv", "sbn,ubnd-huyen", "2014-03-31", "2015-03-31")]
    cli("record", "21", "--status", "in-progress", "--on", "2013-09-01")
    cli("record", "21", "--status", "done", "--on", "2013-09-15")
    assert sql_rows(loaded, "SELECT task_id, status FROM latest_progress_view") == [("21", "done")]


def test_the_command_line_names_its_command():
    """main() builds only the command a command line names; global options and their
    values come first, and anything that is not a command gets the whole app."""
    from civreform.cli import invoked_command

    assert invoked_command(["overdue", "--format", "csv"]) == "overdue"
    assert invoked_command(["--db", "overdue", "tasks"]) == "tasks"  # "overdue" is --db's value
    assert invoked_command(["--lang", "vi", "--plan", "55", "show", "21"]) == "show"
    assert invoked_command(["--db=x.db", "import", "f.csv"]) == "import"
    assert invoked_command(["--help"]) is None
    assert invoked_command(["overdu"]) is None
    assert invoked_command([]) is None


def test_global_options_that_take_a_value_are_all_known():
    """invoked_command skips the value of each global option; a new one must be listed."""
    from typer.main import get_command

    from civreform.cli import GLOBAL_OPTIONS_WITH_VALUE, app

    taking_values = {name for param in get_command(app).params if not param.is_flag for name in param.opts}
    assert taking_values == set(GLOBAL_OPTIONS_WITH_VALUE)


@pytest.mark.parametrize("args, expected", [
    (["--db", "{db}", "overdue", "--as-of", "2014-01-01", "--format", "csv"], "task,plan,title"),
    (["overdue", "--help"], "Usage: civreform overdue [OPTIONS]"),
    (["--help"], "upcoming"),  # the whole list of commands
])
def test_the_installed_entry_point_runs_one_command_or_lists_all(loaded, args, expected):
    from tests.conftest import run_module

    result = run_module(*[arg.format(db=loaded) for arg in args])
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout and result.stderr == ""


def test_a_mistyped_command_is_still_suggested(loaded):
    from tests.conftest import run_module

    result = run_module("overdu")
    assert result.returncode == 2
    assert "Did you mean 'overdue'?" in result.stderr
