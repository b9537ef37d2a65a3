"""The report queries are served by indexes.

Runs EXPLAIN QUERY PLAN on the SQL the reports really run, against a database
with the bundled plan and some progress, and fails if a plan line scans events,
tasks or their link tables instead of searching an index, or scans milestones when
a plan or a task narrows them.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from civreform import reports
from civreform.db import open_database

LARGE_TABLES = {"events", "milestones", "tasks", "task_agencies", "task_members"}
_TABLE_NAMES = "|".join(sorted(LARGE_TABLES))


def _aliases(sql: str) -> set[str]:
    """Names a large table goes by in this SQL (the table itself and every alias)."""
    names = set(LARGE_TABLES)
    for table, alias in re.findall(rf"\b({_TABLE_NAMES})\s+(?:AS\s+)?(\w+)", sql):
        if alias.upper() not in {"ON", "WHERE", "JOIN", "LEFT", "INDEXED", "USING", "GROUP", "ORDER", "AND"}:
            names.add(alias)
    return names


def _plan(conn, sql: str, params) -> list[str]:
    return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]


def _scans(conn, sql: str, params) -> list[str]:
    names = _aliases(sql)
    bad = []
    for line in _plan(conn, sql, params):
        match = re.match(r"(?:SCAN|SEARCH) (\w+)", line)
        if match and match.group(1) in names and (line.startswith("SCAN") or "AUTOMATIC" in line):
            bad.append(line)
    return bad


@pytest.fixture
def database(cli, loaded):
    cli("record", "1", "--status", "done", "--agency", "hai hau", "--on", "2013-12-20")
    cli("record", "21", "--status", "done", "--on", "2013-09-15")
    db = open_database(loaded)
    yield db
    db.close()


def _report_sql(conn, scope, plan_id=None):
    """(name, SQL, params) of the statements overdue and upcoming run, as they build them."""
    params_overdue = {"as_of": "2014-06-30", "plan": plan_id}
    params_upcoming = {"as_of": "2014-06-30", "until": "2014-07-30", "plan": plan_id}
    return [("overdue", reports.open_milestones_sql(["due < :as_of"], params_overdue, plan_id, scope, "0"),
             params_overdue),
            ("upcoming", reports.open_milestones_sql(["due >= :as_of", "due <= :until"], params_upcoming, plan_id,
                                                     scope, "0", 50), params_upcoming)]


@pytest.mark.parametrize("agency", [None, "hai hau", "snv"])
@pytest.mark.parametrize("plan_id", [None, "nd-55-2013"])
def test_overdue_and_upcoming_search_indexes(database, agency, plan_id):
    scope = reports.resolve_agency(database.conn, agency) if agency else None
    for name, sql, params in _report_sql(database.conn, scope, plan_id):
        assert _scans(database.conn, sql, params) == [], name


def test_the_check_catches_a_missing_index(database):
    """The test above can fail: without the index by due, the overdue listing reads
    every milestone."""
    database.conn.execute("DROP INDEX milestones_by_due")
    name, sql, params = _report_sql(database.conn, None)[0]
    assert _scans(database.conn, sql, params) != []


def test_one_task_s_state_is_found_by_its_key(database):
    """record and show work out one task's milestones: a key lookup, not a pass over all."""
    params = {"as_of": "2014-06-30", "plan": "nd-55-2013", "task": "13"}
    sql = reports.state_query(["t.plan_id = :plan", "t.task_id = :task"], params) + "SELECT * FROM state"
    assert _scans(database.conn, sql, params) == []


@pytest.mark.parametrize("plan_id", ["nd-55-2013", None])
def test_finding_a_task_is_a_key_lookup(database, plan_id):
    """import looks up every row's task: a scan there made 10,000 rows take a minute at 100k tasks."""
    sql = reports.FIND_TASK_SQL[plan_id is not None]
    assert _scans(database.conn, sql, {"task": "13", "plan": plan_id}) == []
    assert reports.find_task(database.conn, "13", plan_id) == ("nd-55-2013", "13")


def test_history_of_one_task_reads_that_task_s_events(database):
    seen = []
    database.conn.set_trace_callback(seen.append)
    rows = list(reports.history(database.conn, plan_id="nd-55-2013", task_id="21"))
    database.conn.set_trace_callback(None)
    assert [r["task"] for r in rows] == ["21"]
    assert _scans(database.conn, seen[-1], {"plan": "nd-55-2013", "task": "21", "since": None, "until": None}) == []


def test_history_of_one_task_and_the_latest_event_lookup_use_indexes(database):
    sql = ("SELECT id FROM events WHERE plan_id = :plan AND task_id = :task AND milestone = :m "
           "AND happened_on <= :as_of ORDER BY happened_on DESC, id DESC LIMIT 1")
    assert _scans(database.conn, sql, {"plan": "nd-55-2013", "task": "21", "m": "main", "as_of": "2014-01-01"}) == []


@pytest.mark.parametrize("plan_id", [None, "nd-55-2013"])
@pytest.mark.parametrize("agency", ["snv", "hai hau"])
def test_an_agency_s_tasks_are_found_from_its_scope_tables(database, agency, plan_id):
    """An archive: the agency's tasks come from its TEMP scope tables through
    task_agencies_by_agency (no pass over every task of thousands of plans), with or
    without a plan; the code itself is found through agencies_by_code."""
    seen = []
    database.conn.set_trace_callback(seen.append)
    scope = reports.resolve_agency(database.conn, agency, plan_id)
    rows = list(reports.list_tasks(database.conn, date(2014, 6, 30), plan_id=plan_id, scope=scope, role="any"))
    database.conn.set_trace_callback(None)
    assert rows
    lookup = next(sql for sql in seen if sql.startswith("SELECT plan_id, code, name, search_key FROM agencies"))
    if agency == "snv":
        plan = " ".join(_plan(database.conn, lookup, ()))  # the trace gives the SQL with its values
        assert "agencies_by_code" in plan or "sqlite_autoindex_agencies_1" in plan
    params = {"as_of": "2014-06-30", "plan": plan_id}
    sql = reports.state_query([reports._plan_is(plan_id, "t")], params, scope, "any") + "SELECT * FROM state"
    plan_lines = _plan(database.conn, sql, params)
    assert _scans(database.conn, sql, params) == []
    assert any("task_agencies_by_agency" in line for line in plan_lines)
