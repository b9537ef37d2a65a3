"""Whatever order events arrive in, and whatever day a report is asked for, the
reports must say what the events say.

The oracle below works a milestone's state out of a plain list of events, in
Python, straight from the rules (only the lead's own reports count, none that was
retracted; latest report wins; done on the first "done" since the last report that
was not; a group-led milestone is done when every member is). Hypothesis writes
random histories, out of date order and with same-day reports, some by a supporting
agency and some retracted, for a single-agency task with two milestones, a
single-agency task, and a task reported by its 17 members; the reports are then
compared with the oracle on days before, between and after the events.
"""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civreform import reports
from civreform.db import open_database, write_transaction

TASKS = ("13", "21", "1")  # two milestones; one; reported by each of 17 members
STATUSES = ("not-started", "in-progress", "done", "blocked")
FIRST_DAY = date(2013, 9, 1)
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 60))


@pytest.fixture
def database(loaded):
    db = open_database(loaded)
    yield db
    db.close()


def _plan_facts(conn):
    milestones = {task: conn.execute("SELECT label, due FROM milestones WHERE plan_id = 'nd-55-2013' AND task_id = ? "
                                     "ORDER BY seq", (task,)).fetchall() for task in TASKS}
    members = {task: conn.execute(
        "SELECT agency_code, valid_from, valid_until FROM task_members WHERE plan_id = 'nd-55-2013' AND task_id = ?",
        (task,)).fetchall() for task in TASKS}
    return milestones, members


def _valid_on(members, due: str) -> list[str]:
    """The members that answer for a milestone due that day (the agency register's dates)."""
    return [code for code, start, until in members if (start is None or start <= due)
            and (until is None or due < until)]


def _unit(events, as_of):
    """(status, percent, last_on, done_on) of one unit from its (id, on, status, percent) events."""
    seen = [e for e in events if e[1] <= as_of]
    if not seen:
        return None, None, None, None
    latest = max(seen, key=lambda e: (e[1], e[0]))
    done_on = None
    if latest[2] == "done":
        reopened = max((e[1] for e in seen if e[2] != "done"), default="")
        done_on = min(e[1] for e in seen if e[2] == "done" and e[1] >= reopened)
    return latest[2], latest[3], latest[1], done_on


def _expected(events, milestones, members, as_of: str) -> dict:
    expected = {}
    for task in TASKS:
        for label, due in milestones[task]:
            if members[task]:
                units = [_unit([e for e in events if e[4] == task and e[5] == label and e[6] == member], as_of)
                         for member in _valid_on(members[task], due)]
                statuses = [u[0] for u in units]
                all_done = all(s == "done" for s in statuses)
                status = ("done" if all_done else "blocked" if "blocked" in statuses
                          else "in-progress" if {"in-progress", "done"} & set(statuses) else "not-started")
                average = sum(100 if u[0] == "done" else (u[1] or 0) for u in units) / len(units)
                percent = int(average + 0.5)  # SQLite's round(): halves away from zero
                done_on = max(u[3] for u in units) if all_done else None
                last = max((u[2] for u in units if u[2]), default=None)
                units_done = statuses.count("done")
            else:
                status, percent, last, done_on = _unit([e for e in events if e[4] == task and e[5] == label], as_of)
                percent = 100 if status == "done" else (percent or 0) if status in (None, "not-started") else percent
                status = status or "not-started"
                units_done = int(status == "done")
            if done_on:
                standing = "done-on-time" if done_on <= due else "done-late"
            else:
                standing = "overdue" if due < as_of else "within-deadline"
            expected[(task, label)] = {"status": status, "percent": percent, "standing": standing,
                                       "units_done": units_done, "last_update": last}
    return expected


# Days on a 90-day grid, so that one unit often has several reports on one day.
# (task, milestone, member, status, percent, day, by a supporting agency, retracted)
report = st.tuples(st.sampled_from(TASKS), st.integers(0, 1), st.integers(0, 16), st.sampled_from(STATUSES),
                   st.integers(0, 100), st.integers(0, 10).map(lambda k: k * 90), st.booleans(),
                   st.integers(0, 4).map(lambda k: k == 0))
# Sometimes every member of task 1 reports done (on its own day) before the rest.
whole_group = st.lists(st.integers(0, 30).map(lambda k: k * 30), min_size=29, max_size=29).map(
    lambda days: [("1", 0, member, "done", 100, day, False, False) for member, day in enumerate(days)])
history_strategy = st.tuples(st.one_of(st.just([]), whole_group), st.lists(report, min_size=1, max_size=40)).map(
    lambda parts: parts[0] + parts[1])


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=history_strategy, probes=st.lists(st.integers(-30, 960), min_size=1, max_size=4))
def test_reports_agree_with_the_events_whatever_their_order(database, history, probes):
    conn = database.conn
    milestones, members = _plan_facts(conn)
    with pytest.raises(_RolledBack), write_transaction(conn):
        events = []
        for task, which, member_index, status, percent, offset, support, retracted in history:
            label = milestones[task][which % len(milestones[task])][0]
            agency = members[task][member_index % len(members[task])][0] if members[task] else ""
            by_support = support and not members[task]
            if by_support:
                agency = "hai-hau"  # supports tasks 13 and 21 through "UBND cấp huyện"
            on = (FIRST_DAY + timedelta(days=offset)).isoformat()
            percent = 100 if status == "done" else 0 if status == "not-started" else percent
            cursor = conn.execute(
                "INSERT INTO events (plan_id, task_id, milestone, agency, status, percent, happened_on, recorded_at) "
                "VALUES ('nd-55-2013', ?, ?, ?, ?, ?, ?, '2026-01-01T00:00:00+00:00')",
                (task, label, agency, status, percent, on))
            if retracted:
                conn.execute("INSERT INTO events (plan_id, task_id, milestone, agency, happened_on, recorded_at, kind, "
                             "retracts) VALUES ('nd-55-2013', ?, ?, ?, '2026-01-01', '2026-01-01T00:00:00+00:00', "
                             "'retraction', ?)", (task, label, agency, cursor.lastrowid))
            elif not by_support:  # what the oracle counts: the lead's own reports, not retracted
                events.append((cursor.lastrowid, on, status, percent, task, label, agency))
        days = sorted({FIRST_DAY + timedelta(days=p) for p in probes} | {date(2026, 11, 27)})
        for day in days:
            expected = _expected(events, milestones, members, day.isoformat())
            # Every milestone of the three tasks, through the general state query
            got = {(row["task"], row["milestone"]): row
                   for task in TASKS for row in reports.milestone_states(conn, day, task_id=task)}
            for key, want in expected.items():
                assert {k: got[key][k] for k in want} == want, (day, key)
            # overdue and upcoming: the current rows and the worked-out rows, merged
            listed = [r for r in reports.overdue(conn, day) if r["task"] in TASKS]
            assert [(r["task"], r["milestone"]) for r in listed] == [
                (r["task"], r["milestone"]) for r in sorted(got.values(), key=lambda r: (r["due"], _seq(r)))
                if r["status"] != "done" and r["due"] < day.isoformat()]
            for row in listed:
                want = expected[(row["task"], row["milestone"])]
                assert {k: row[k] for k in want} == want, (day, row)
            ahead = [r for r in reports.upcoming(conn, day, 800) if r["task"] in TASKS]
            for row in ahead:
                assert row["status"] != "done"
                assert {k: row[k] for k in expected[(row["task"], row["milestone"])]} == expected[
                    (row["task"], row["milestone"])]
            assert {(r["task"], r["milestone"]) for r in ahead} == {
                key for key, want in expected.items() if want["status"] != "done"
                and day.isoformat() <= got[key]["due"] <= (day + timedelta(days=800)).isoformat()}
            # A task stands as its worst milestone, in `tasks` (SQL) and in `show` (Python) alike
            listed_tasks = {r["task"]: r for r in reports.list_tasks(conn, day) if r["task"] in TASKS}
            for task in TASKS:
                standings = [expected[(task, label)]["standing"] for label, _due in milestones[task]]
                worst = next(s for s in ("overdue", "within-deadline", "done-late", "done-on-time") if s in standings)
                detail = reports.task_detail(conn, "nd-55-2013", task, day)
                assert listed_tasks[task]["standing"] == detail["standing"] == worst, (day, task)
                # and in `show`, each member of a group-led task as its own events say
                for member in detail["members"]:
                    due = dict(milestones[task])[member["milestone"]]
                    status, _percent, _last, done_on = _unit(
                        [e for e in events if e[4] == task and e[5] == member["milestone"] and e[6] == member["agency"]],
                        day.isoformat())
                    want = ("done-on-time" if done_on <= due else "done-late") if done_on else (
                        "overdue" if due < day.isoformat() else "within-deadline")
                    assert (member["status"], member["standing"]) == (status or "not-started", want), (day, member)
        raise _RolledBack  # leave the database as the fixture made it for the next example


def _seq(row) -> int:
    return {"1": 1, "13": 13, "21": 21}[row["task"]]


class _RolledBack(Exception):
    pass
