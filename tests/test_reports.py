"""Overdue, upcoming and standing on the bundled plan (issue: deadlines)."""

from __future__ import annotations

import pytest

APPENDIX = {str(n) for n in range(1, 23)}


def appendix_ids(rows) -> list[str]:
    return sorted({r["task"] for r in rows if r["task"] in APPENDIX}, key=int)


def test_overdue_on_1_october_2013_is_task_21_alone(cli, loaded):
    rows = cli.json("overdue", "--as-of", "2013-10-01")
    assert appendix_ids(rows) == ["21"]
    assert next(r for r in rows if r["task"] == "21")["days_overdue"] == 1


def test_overdue_on_1_january_2014(cli, loaded):
    rows = cli.json("overdue", "--as-of", "2014-01-01")
    assert appendix_ids(rows) == ["1", "2", "3", "4", "9", "11", "17", "18", "19", "21", "22"]
    days = [r["days_overdue"] for r in rows]
    assert days == sorted(days, reverse=True)  # most overdue first
    assert rows[0]["task"] in ("21", "IV.2-plan") and rows[0]["days_overdue"] == 93


def test_upcoming_from_1_december_2013_for_31_days(cli, loaded):
    rows = cli.json("upcoming", "--as-of", "2013-12-01", "--days", "31")
    assert appendix_ids(rows) == ["1", "2", "3", "4", "9", "11", "17", "18", "19", "22"]
    assert [r["days_left"] for r in rows] == sorted(r["days_left"] for r in rows)
    assert rows[0]["task"] == "IV.1-review" and rows[0]["days_left"] == 14


def test_task_16_is_never_due(cli, loaded):
    for as_of in ("2013-10-01", "2014-01-01", "2015-06-30", "2030-01-01"):
        assert "16" not in {r["task"] for r in cli.json("overdue", "--as-of", as_of)}
        assert "16" not in {r["task"] for r in cli.json("upcoming", "--as-of", as_of, "--days", "3650")}


def test_a_milestone_due_on_the_as_of_day_is_not_overdue(cli, loaded):
    rows = cli.json("overdue", "--as-of", "2013-09-30")
    assert rows == []
    due_today = cli.json("upcoming", "--as-of", "2013-09-30", "--days", "0")
    assert {r["task"] for r in due_today} == {"21", "IV.2-plan"}
    assert all(r["days_left"] == 0 for r in due_today)


def test_quarter_end_boundary(cli, loaded):
    on_the_day = {r["task"] for r in cli.json("overdue", "--as-of", "2014-03-31")}
    day_after = {r["task"] for r in cli.json("overdue", "--as-of", "2014-04-01")}
    assert "6" not in on_the_day and "6" in day_after


def test_day_first_as_of_dates_mean_the_same_day(cli, loaded):
    assert cli.json("overdue", "--as-of", "01/10/2013") == cli.json("overdue", "--as-of", "2013-10-01")
    # 01/02/2014 is 1 February, not 2 January
    assert cli.json("overdue", "--as-of", "01/02/2014") == cli.json("overdue", "--as-of", "2014-02-01")


def test_as_of_from_the_environment(cli, loaded, monkeypatch):
    monkeypatch.setenv("CIVREFORM_AS_OF", "2013-10-01")
    assert appendix_ids(cli.json("overdue")) == ["21"]


@pytest.mark.parametrize("bad", ["31/09/2013", "2013-02-29", "someday"])
def test_an_impossible_as_of_date_is_an_error(cli, loaded, bad):
    result = cli("overdue", "--as-of", bad, expect=3)
    assert result.stderr.startswith("civreform: ") and len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_json_rows_carry_the_documented_keys(cli, loaded):
    row = cli.json("overdue", "--as-of", "2014-01-01")[0]
    for key in ("task", "plan", "title", "milestone", "due", "days_overdue", "lead", "status", "percent", "standing"):
        assert key in row
    assert isinstance(row["task"], str) and isinstance(row["lead"], list) and isinstance(row["days_overdue"], int)
    assert row["status"] == "not-started" and row["standing"] == "overdue"
    up = cli.json("upcoming", "--as-of", "2013-12-01")[0]
    assert isinstance(up["days_left"], int) and up["standing"] == "within-deadline"


def test_csv_has_the_same_columns_as_json(cli, loaded):
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(cli("overdue", "--as-of", "2014-01-01", "--format", "csv").stdout)))
    assert list(rows[0]) == list(cli.json("overdue", "--as-of", "2014-01-01")[0])


def test_empty_report_is_good_news_and_exit_0(cli, loaded):
    result = cli("overdue", "--as-of", "2013-09-01")
    assert "nothing overdue" in result.stdout
    assert cli("overdue", "--as-of", "2013-09-01", "--format", "json").stdout.strip() == "[]"


def test_agency_filter_on_overdue(cli, loaded):
    rows = cli.json("overdue", "--as-of", "2014-01-01", "--agency", "so tai chinh")
    assert appendix_ids(rows) == ["1", "21", "22"]
