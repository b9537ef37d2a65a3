"""One consistent interface: global options anywhere, the same options on every
listing, empty values and bad settings refused in one line naming them."""

from __future__ import annotations

import csv
import io

import pytest

from tests.conftest import copy_plan, run_module


def test_global_options_work_after_the_command_too(cli, loaded, tmp_path):
    before = cli("--lang", "vi", "tasks", "--standing", "overdue").stdout
    after = cli("tasks", "--standing", "overdue", "--lang", "vi").stdout
    assert before == after and "Nhiệm vụ tính đến ngày" in after
    other = tmp_path / "other.db"
    cli("overdue", "--db", str(other), "--as-of", "2014-01-01")
    assert other.exists()
    assert cli.json("overdue", "--as-of", "2014-01-01", "--plan", "55")  # the plan's number


def test_version_prints_without_a_command():
    done = run_module("--version")
    assert done.returncode == 0 and done.stdout.strip() and done.stderr == ""


@pytest.mark.parametrize("args, named", [
    (["overdue", "--agency", ""], "--agency"), (["overdue", "--as-of", " "], "--as-of"),
    (["--plan", "", "overdue"], "--plan"), (["--db", "", "overdue"], "--db"), (["overdue", "--db", ""], "--db"),
    (["history", "--since", ""], "--since"), (["record", "21", "--status", "done", "-m", ""], "--milestone"),
    (["import", ""], "FILE.csv"), (["show", ""], "ID"),
])
def test_an_empty_value_is_a_usage_error_naming_the_option(cli, loaded, args, named):
    result = cli(*args, expect=2)
    assert result.stderr.startswith(f"civreform: {named}: an empty value") and result.stderr.count("\n") == 1


@pytest.mark.parametrize("variable, value", [("CIVREFORM_LANG", "fr"), ("CIVREFORM_AS_OF", "yesterday"),
                                             ("CIVREFORM_BUSY_TIMEOUT_MS", "abc")])
def test_a_bad_environment_value_is_refused_naming_the_variable(loaded, variable, value):
    done = run_module("overdue", env={"CIVREFORM_DB": str(loaded), variable: value})
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and variable in done.stderr, done.stderr


@pytest.mark.parametrize("command", [["tasks"], ["agencies"], ["plans"], ["history"], ["overdue"], ["upcoming"],
                                     ["show", "13"], ["search", "vi tri"], ["timeline"], ["scorecard"]])
def test_every_csv_takes_bom(cli, loaded, command):
    assert cli(*command, "--format", "csv", "--bom").stdout.startswith("\ufeff")


def test_days_zero_means_due_today_in_upcoming_and_summary(cli, loaded):
    assert [r["due"] for r in cli.json("upcoming", "--as-of", "2013-12-31", "--days", "0")] == ["2013-12-31"] * len(
        cli.json("upcoming", "--as-of", "2013-12-31", "--days", "0"))
    due_today = cli.json("summary", "--as-of", "2013-12-31", "--days", "0")["due_soon"]
    assert due_today and {item["due"] for item in due_today} == {"2013-12-31"}


def test_history_as_of_shows_the_history_as_it_was_recorded_then(cli, loaded, monkeypatch):
    cli("record", "21", "--status", "done", "--on", "2013-09-15")
    assert [h["id"] for h in cli.json("history", "--as-of", "9000-01-01")] == [1]  # recorded_at is the real clock
    assert cli.json("history", "--as-of", "2020-01-01") == []  # recorded later than that day


def test_summary_for_one_agency(cli, loaded):
    cli("record", "1", "--status", "done", "--agency", "hai hau", "--on", "2013-12-20")
    mine = cli.json("summary", "--as-of", "2014-01-01", "--agency", "hai hau")
    assert mine["agency"]["code"] == "hai-hau"
    assert {row["agency"] for row in mine["agencies_by_overdue"]} == {"hai-hau"}
    assert mine["counts"]["done-on-time"] == 1 and "Hải Hậu" in cli("summary", "--agency", "hai hau").stdout


def test_show_as_csv_and_markdown_is_the_whole_task(cli, loaded):
    rows = list(csv.DictReader(io.StringIO(cli("show", "13", "--format", "csv").stdout)))
    assert [r["milestone"] for r in rows] == ["pilot", "all-units"]
    assert all(r["title"] == "Đề án xác định vị trí việc làm" and r["lead"] == "snv" for r in rows)
    markdown = cli("show", "13", "--format", "markdown").stdout
    assert markdown.startswith("## 13. Scheme to define job positions") and "| Milestone | Due |" in markdown
    assert "Department of Home Affairs (snv)" in markdown


def test_plan_is_the_same_everywhere_and_two_plans_sharing_a_number_are_refused(cli, loaded, tmp_path):
    for words in ("55", "55/kh-ubnd", "55/KH-UBND", "ND-55-2013"):
        assert "recorded event" in cli("--plan", words, "record", "2", "--status", "in-progress",
                                       "--on", "2013-10-01").stdout
    twin = copy_plan(tmp_path, lambda text: text.replace("id: nd-55-2013", "id: nd-55-2013-copy", 1))
    cli("load", twin)
    result = cli("--plan", "55", "overdue", expect=3)
    assert "nd-55-2013, nd-55-2013-copy" in result.stderr
