"""The plan at a glance: the quarter timeline, the agency scorecard and the data of
the yearly report, as plain dicts. No terminal I/O here; render.py and
report_html.py draw them.

Every figure comes from reports.state_query, the one statement of a milestone's
state on a day, so that these views agree with `overdue`, `tasks` and `show`.
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

from civreform import reports
from civreform.reports import AgencyScope, _codes, _plan_is, state_query

# ── Quarters ────────────────────────────────────────────────────────────────


def quarter_of(day: date | str) -> tuple[int, int]:
    """(year, quarter) of a date or an ISO date string."""
    if isinstance(day, str):
        day = date.fromisoformat(day)
    return day.year, (day.month - 1) // 3 + 1


def quarter_key(quarter: tuple[int, int]) -> str:
    """The machine form of a quarter: 2013-Q4."""
    return f"{quarter[0]}-Q{quarter[1]}"


def quarter_span(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    """Every quarter from first through last."""
    span = []
    year, number = first
    while (year, number) <= last:
        span.append((year, number))
        year, number = (year + 1, 1) if number == 4 else (year, number + 1)
    return span


# ── Timeline ────────────────────────────────────────────────────────────────

# The listing columns of `overdue`, with the milestone's quarter beside its due date.
TIMELINE_COLUMNS = ["task", "plan", "title", "title_en", "milestone", "due", "quarter", "lead", "status",
                    "percent", "standing"]


def timeline(conn: sqlite3.Connection, as_of: date, *, plan_id: str | None = None,
             scope: AgencyScope | None = None) -> dict:
    """Every milestone on as_of with its quarter, and the tasks as rows of a grid with
    one column per quarter of the plan period.

    Returns {"as_of", "quarters": ["2013-Q3", ...], "as_of_quarter": "2014-Q1" (None
    outside the period), "milestones": [rows in TIMELINE_COLUMNS], "tasks": [{task,
    plan, title, title_en, lead, ongoing, pending, cells: {quarter: [standing, ...]}}]}.
    A task with no due date (ongoing) has no cells: it runs across the whole period.
    A milestone waiting for its event (pending) has no quarter; its task counts them.
    """
    params: dict = {"as_of": as_of.isoformat(), "plan": plan_id}
    sql = state_query([_plan_is(plan_id, "t")], params, scope, ongoing=True) + """
        SELECT task_id, plan_id, title, title_en, label, due, lead, status, percent, standing FROM state
        ORDER BY plan_id, task_seq, milestone_seq"""
    milestones, tasks = [], {}
    for r in conn.execute(sql, params):
        row = dict(zip(("task", "plan", "title", "title_en", "milestone", "due", "lead", "status", "percent",
                        "standing"), r))
        row["lead"] = _codes(row["lead"])
        row["quarter"] = quarter_key(quarter_of(row["due"])) if row["due"] else None
        milestones.append({column: row[column] for column in TIMELINE_COLUMNS})
        task = tasks.setdefault((row["plan"], row["task"]), {
            "task": row["task"], "plan": row["plan"], "title": row["title"], "title_en": row["title_en"],
            "lead": row["lead"], "ongoing": False, "pending": 0, "cells": {}})
        if row["standing"] == "ongoing":
            task["ongoing"] = True
        elif row["quarter"] is None:
            task["pending"] += 1
        else:
            task["cells"].setdefault(row["quarter"], []).append(row["standing"])
    span = _period(conn, plan_id, [m["due"] for m in milestones if m["due"]])
    as_of_quarter = quarter_key(quarter_of(as_of))
    keys = [quarter_key(q) for q in span]
    return {"as_of": as_of.isoformat(), "quarters": keys,
            "as_of_quarter": as_of_quarter if as_of_quarter in keys else None,
            "milestones": milestones, "tasks": list(tasks.values())}


def _period(conn: sqlite3.Connection, plan_id: str | None, dues: list[str]) -> list[tuple[int, int]]:
    """The quarters of the plans' periods, widened to every due date (an event-driven
    milestone may fall after the period ends)."""
    rows = conn.execute(f"SELECT period_start, period_end FROM plans p WHERE {_plan_is(plan_id, 'p')}",
                        {"plan": plan_id}).fetchall()
    days = [d for row in rows for d in row if d] + dues
    if not days:
        return []
    return quarter_span(quarter_of(min(days)), quarter_of(max(days)))


# ── Scorecard ───────────────────────────────────────────────────────────────

SCORECARD_COLUMNS = ["plan", "agency", "name", "name_en", "done_on_time", "done_late", "within_deadline", "overdue",
                     "ongoing", "total", "on_time_rate"]


def scorecard(conn: sqlite3.Connection, as_of: date, *, plan_id: str | None = None) -> list[dict]:
    """One row per agency that owes a report, counting its reporting units by standing
    on as_of, worst first (most overdue, then the lowest on-time rate).

    A unit of a task led by named agencies counts for each lead agency; a group-led
    task's unit is one member's own report and counts for that member only, as
    `show` lists it. A task with no due date counts as ongoing. total counts every
    unit, including any still waiting for its event (pending). on_time_rate =
    done_on_time / (done_on_time + done_late + overdue), None while nothing is due.
    """
    params: dict = {"as_of": as_of.isoformat(), "plan": plan_id}
    sql = state_query([_plan_is(plan_id, "t")], params, None, ongoing=True) + """,
    unit_standing AS (
      SELECT plan_id, task_id, member,
        CASE WHEN label = '' THEN 'ongoing' ELSE standing(due, done_on, :as_of, pending) END AS standing
      FROM unit_state
    ),
    counted AS (
      SELECT plan_id, member AS code, standing FROM unit_standing WHERE member <> ''
      UNION ALL
      SELECT u.plan_id, ta.agency_code, u.standing FROM unit_standing u
      JOIN task_agencies ta ON ta.plan_id = u.plan_id AND ta.task_id = u.task_id AND ta.role = 'lead'
      WHERE u.member = ''
    )
    SELECT c.plan_id, c.code, a.name, a.name_en, sum(c.standing = 'done-on-time'), sum(c.standing = 'done-late'),
      sum(c.standing = 'within-deadline'), sum(c.standing = 'overdue'), sum(c.standing = 'ongoing'), count(*)
    FROM counted c JOIN agencies a ON a.plan_id = c.plan_id AND a.code = c.code
    GROUP BY c.plan_id, c.code ORDER BY c.plan_id, a.seq"""
    rows = []
    for r in conn.execute(sql, params):
        row = dict(zip(SCORECARD_COLUMNS, r))
        judged = row["done_on_time"] + row["done_late"] + row["overdue"]
        row["on_time_rate"] = round(row["done_on_time"] / judged, 4) if judged else None
        rows.append(row)
    # Stable sort: within equal scores, the plan's own order of agencies stays.
    rows.sort(key=lambda row: (-row["overdue"], 2 if row["on_time_rate"] is None else row["on_time_rate"],
                               -row["done_late"]))
    return rows


# ── The yearly report ───────────────────────────────────────────────────────

AHEAD_DAYS = 90
RECENT_DAYS = 30


def report_data(conn: sqlite3.Connection, as_of: date, plan_id: str) -> dict:
    """Everything the report to hand up holds, as plain data: the plan, the counts in
    the four categories, the timeline, the scorecard, what is overdue (with the lead
    agencies and the latest note), what falls due in the next AHEAD_DAYS days, and
    the progress recorded in the last RECENT_DAYS days with its evidence."""
    import json

    plan = conn.execute("SELECT plan_id, number, issued, title, title_en, period_start, period_end, meta "
                        "FROM plans WHERE plan_id = ?", (plan_id,)).fetchone()
    meta = json.loads(plan[7] or "{}")
    names = {code: {"name": name, "name_en": name_en or name} for code, name, name_en in conn.execute(
        "SELECT code, name, name_en FROM agencies WHERE plan_id = ?", (plan_id,))}
    labels_vi = {(task, label): label_vi for task, label, label_vi in conn.execute(
        "SELECT task_id, label, label_vi FROM milestones WHERE plan_id = ? AND label_vi IS NOT NULL", (plan_id,))}
    counts = reports.standing_counts(conn, as_of, plan_id)
    dated = sum(counts[key] for key in ("done-on-time", "done-late", "within-deadline", "overdue"))
    done = counts["done-on-time"] + counts["done-late"]
    since = as_of - timedelta(days=RECENT_DAYS - 1)
    recent = [event for event in reports.history(conn, plan_id=plan_id, since=since, until=as_of)
              if event["kind"] == "progress" and not event["retracted_by"]]
    return {
        "plan": {"plan": plan[0], "number": plan[1], "issued": plan[2], "title": plan[3], "title_en": plan[4],
                 "period_start": plan[5], "period_end": plan[6], "place": meta.get("place", ""),
                 "issuer": meta.get("issuer", ""), "signer": meta.get("signer", ""),
                 "signer_title": meta.get("signer_title", ""), "signer_title_en": meta.get("signer_title_en", "")},
        "as_of": as_of.isoformat(),
        "agencies": names,
        "labels_vi": labels_vi,
        "counts": counts,
        "milestones": dated,
        "done": done,
        "share_done": round(done / dated, 4) if dated else 0.0,
        "timeline": timeline(conn, as_of, plan_id=plan_id),
        "scorecard": scorecard(conn, as_of, plan_id=plan_id),
        "overdue": list(reports.overdue(conn, as_of, plan_id=plan_id)),
        "upcoming": list(reports.upcoming(conn, as_of, AHEAD_DAYS, plan_id=plan_id)),
        "ahead_days": AHEAD_DAYS,
        "recent": recent,
        "recent_days": RECENT_DAYS,
        "recent_since": since.isoformat(),
    }


def one_plan(conn: sqlite3.Connection, plan_id: str | None) -> str:
    """The plan a report is about: the one chosen, or the only one loaded."""
    from civreform.errors import AmbiguousError, NotFoundError

    if plan_id is not None:
        return plan_id
    plans = [row[0] for row in conn.execute("SELECT plan_id FROM plans ORDER BY plan_id")]
    if not plans:
        raise NotFoundError("no plan is loaded; `civreform load FILE` loads one")
    if len(plans) > 1:
        raise AmbiguousError(f"several plans are loaded ({', '.join(plans)}); choose one with --plan")
    return plans[0]
