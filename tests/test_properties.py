"""Inputs nobody planned for: every parser either succeeds or raises civreform's own error."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civreform.dates import FIRST_YEAR, LAST_YEAR, parse_user_date
from civreform.phrases import parse_time_text
from civreform.errors import CivreformError
from civreform.plan import parse_plan_text
from tests.conftest import PLAN

VIETNAMESE = st.text(alphabet=st.sampled_from(list("quýQUÝIVXivx0123456789/ -.năm tháng ngày trước hàng đầu cuối "
                                                   "Thường xuyên6:\n\t\x00đĐ&")), max_size=60)
ANY_TEXT = st.text(max_size=80)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(st.one_of(ANY_TEXT, st.from_regex(r"\d{1,4}[-/.]\d{1,3}[-/.]\d{1,5}", fullmatch=True)))
def test_user_dates_parse_or_raise_our_error(text):
    try:
        result = parse_user_date(text, today=date(2026, 11, 27))
    except CivreformError:
        return
    assert isinstance(result, date)


@SETTINGS
@given(st.dates(min_value=date(FIRST_YEAR, 1, 1), max_value=date(LAST_YEAR, 12, 31)))
def test_every_real_date_round_trips_both_ways(day):
    assert parse_user_date(day.isoformat()) == day
    assert parse_user_date(f"{day.day}/{day.month}/{day.year}") == day
    assert parse_user_date(day.strftime("%d/%m/%Y")) == day


@SETTINGS
@given(st.one_of(ANY_TEXT, VIETNAMESE))
def test_deadline_phrases_parse_or_raise_our_error(text):
    try:
        specs = parse_time_text(text)
    except CivreformError:
        return
    assert specs


@SETTINGS
@given(st.integers(min_value=0, max_value=99), st.integers(min_value=1900, max_value=2200))
def test_quarters_beyond_iv_are_refused(quarter, year):
    text = f"Quý {quarter} năm {year}"
    if 1 <= quarter <= 4:
        assert parse_time_text(text)[0].quarter == quarter
    else:
        with pytest.raises(CivreformError):
            parse_time_text(text)


ORIGINAL_LINES = PLAN.read_text(encoding="utf-8").splitlines(keepends=True)[:260]


def _mangled(data, lines: list[str], edits: tuple[int, int], actions: list[str], junk) -> str:
    """The plan's lines with a few drawn edits: delete, duplicate, replace or insert a line, or
    append one after everything."""
    lines = list(lines)
    for _ in range(data.draw(st.integers(*edits))):
        index = data.draw(st.integers(min_value=0, max_value=len(lines) - 1))
        action = data.draw(st.sampled_from(actions))
        if action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, lines[index])
        elif action == "replace":
            lines[index] = data.draw(junk)
        else:
            lines.insert(len(lines) if action == "append" else index, data.draw(junk))
    return "".join(lines)


@settings(max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", 150)), deadline=None)
@given(st.data())
def test_mangled_plan_files_load_or_raise_our_error(data):
    text = _mangled(data, ORIGINAL_LINES, (1, 4), ["delete", "replace", "duplicate", "insert"], st.one_of(
        st.text(max_size=40), st.sampled_from(
            ["  - id: 1\n", "quarter: V\n", "    deadline: {date: 2013-02-30}\n", "    lead: [x]\n",
             "  - &a [*a]\n", ": :\n", "    deadline: [{}]\n", "    deadline: {every: month}\n",
             "tasks: 5\n", "agencies: {}\n", "    members: [sbn]\n", "    year: true\n"])))
    try:
        parse_plan_text(text, "fuzz.yaml")
    except CivreformError:
        pass


@SETTINGS
@given(st.text(max_size=400))
def test_arbitrary_yaml_text_loads_or_raises_our_error(text):
    try:
        parse_plan_text(text, "any.yaml")
    except CivreformError:
        pass


CELLS = st.one_of(st.text(max_size=12), st.sampled_from(
    ["21", "1", "13", "IV.2-plan", "done", "in-progress", "main", "2013", "pilot", "hai hau", "150", "-1",
     "2013-09-31", "31/12/2013", "2014-01-01", "'=1+1", "%", "_", "'; DROP TABLE events; --"]))


@pytest.fixture(scope="module")
def fuzz_db(tmp_path_factory):
    from civreform.db import open_database
    from civreform.loading import store_plan
    from civreform.plan import read_plan_file

    path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    database = open_database(path)
    store_plan(database.conn, read_plan_file(PLAN))
    yield database
    database.close()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELLS, min_size=0, max_size=8), max_size=5),
       delimiter=st.sampled_from([",", ";"]), bom=st.booleans())
def test_csv_import_succeeds_or_raises_our_error(fuzz_db, tmp_path_factory, rows, delimiter, bom):
    import csv
    import io

    from civreform.progress import import_csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(["task", "milestone", "agency", "status", "percent", "date", "note", "evidence"])
    writer.writerows(rows)
    path = Path(tmp_path_factory.mktemp("csv")) / "f.csv"
    path.write_bytes(("\ufeff" if bom else "").encode() + buffer.getvalue().encode("utf-8"))
    before = fuzz_db.conn.execute("SELECT count(*) FROM events").fetchone()[0]
    try:
        result = import_csv(fuzz_db.conn, path, today=date(2026, 11, 27))
    except CivreformError:
        assert fuzz_db.conn.execute("SELECT count(*) FROM events").fetchone()[0] == before
        return
    after = fuzz_db.conn.execute("SELECT count(*) FROM events").fetchone()[0]
    assert after == before + result["recorded"]


# ── names are data, not SQL ─────────────────────────────────────────────────

@pytest.mark.parametrize("typed", ["%", "_", "%%", "s_v", "sn%", "'", "\"", ";", "' OR 1=1 --", "\\", "%' --"])
def test_agency_search_treats_wildcards_and_quotes_as_text(cli, loaded, typed):
    result = cli("tasks", "--agency", typed, expect=3)
    assert "no agency matches" in result.stderr or "matches several agencies" not in result.stderr


def test_sql_fragments_in_notes_are_stored_as_typed(cli, loaded):
    note = "'; DROP TABLE events; -- 100% _done_"
    cli("record", "21", "--status", "done", "--on", "2013-09-15", "--note", note, "--by", "O'Brien; --")
    history = cli.json("history")
    assert history[0]["note"] == note and history[0]["by"] == "O'Brien; --"
    assert len(cli.json("tasks")) == 26


def test_a_plan_with_quotes_and_wildcards_in_names(cli, tmp_path):
    from tests.conftest import copy_plan

    path = copy_plan(tmp_path, lambda t: t.replace("name: Sở Y tế", "name: \"Sở Y tế 100% _x_ 'quoted' ; --\"", 1))
    cli("load", path)
    assert cli.json("tasks", "--agency", "100", "--direct")[0]["task"] == "20"
    assert cli.json("tasks", "--agency", "x", "--direct")[0]["task"] == "20"
