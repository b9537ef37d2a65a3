"""The report queries are served by indexes: none scans a large table.

Runs EXPLAIN QUERY PLAN on the SQL the reports really run, against a database
with the bundled plan and some progress, and fails if a plan line scans events,
milestones, tasks or their link tables instead of searching an index.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from civreform import reports
from civreform.db import open_database

LARGE_TABLES = {"events", "milestones", "tasks", "task_agencies", "task_members"}


def _aliases(sql: str) -> set[str]:
    """Names a large table goes by in this SQL (the table itself and every alias)."""
    names = set(LARGE_TABLES)
    for table, alias in re.findall(r"\b(events|milestones|tasks|task_agencies|task_members)\s+(?:AS\s+)?(\w+)", sql):
        if alias.upper() not in {"ON", "WHERE", "JOIN", "LEFT", "INDEXED", "USING", "GROUP", "ORDER", "AND"}:
            names.add(alias)
    return names


def _scans(conn, sql: str, params) -> list[str]:
    names = _aliases(sql)
    lines = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
    bad = []
    for line in lines:
        match = re.match(r"SCAN (\w+)", line)
        if match and match.group(1) in names:
            bad.append(line)
    return bad


@pytest.fixture
def database(cli, loaded):
    cli("record", "1", "--status", "done", "--agency", "hai hau", "--on", "2013-12-20")
    cli("record", "21", "--status", "done", "--on", "2013-09-15")
    db = open_database(loaded)
    yield db
    db.close()


def _report_sql(conn, scope):
    as_of = date(2014, 6, 30)
    params_overdue = {"as_of": as_of.isoformat(), "plan": None}
    overdue_sql = reports._state_query(["m.due < :as_of", "(:plan IS NULL OR m.plan_id = :plan)"],
                                       params_overdue, scope) + "SELECT * FROM state WHERE status <> 'done'"
    params_upcoming = {"as_of": as_of.isoformat(), "until": "2014-07-30", "plan": None}
    upcoming_sql = reports._state_query(["m.due >= :as_of", "m.due <= :until", "(:plan IS NULL OR m.plan_id = :plan)"],
                                        params_upcoming, scope) + "SELECT * FROM state WHERE status <> 'done'"
    return [("overdue", overdue_sql, params_overdue), ("upcoming", upcoming_sql, params_upcoming)]


@pytest.mark.parametrize("agency", [None, "hai hau", "snv"])
def test_overdue_and_upcoming_search_indexes(database, agency):
    scope = reports.resolve_agency(database.conn, agency) if agency else None
    for name, sql, params in _report_sql(database.conn, scope):
        assert _scans(database.conn, sql, params) == [], name


def test_the_check_catches_a_missing_index(database):
    """The test above can fail: drop the due-date index and the overdue query scans milestones."""
    database.conn.execute("DROP INDEX milestones_by_due")
    name, sql, params = _report_sql(database.conn, None)[0]
    assert any("SCAN m" in line for line in _scans(database.conn, sql, params))


def test_history_of_one_task_and_the_latest_event_lookup_use_indexes(database):
    sql = ("SELECT id FROM events WHERE plan_id = :plan AND task_id = :task AND milestone = :m "
           "AND happened_on <= :as_of ORDER BY happened_on DESC, id DESC LIMIT 1")
    assert _scans(database.conn, sql, {"plan": "nd-55-2013", "task": "21", "m": "main", "as_of": "2014-01-01"}) == []
