"""The queries behind every listing. Listings return Rows: plain dicts made one by
one as the cursor yields them, so CSV and JSON stream in flat memory; rendering is
render.py's job.

Standing and status are worked out in SQL from the events at query time (UNIT_STATE,
the one statement of the rule), over indexed columns: a plan, a task, an agency's
tasks (its TEMP scope tables joined to task_agencies_by_agency) and a due window
each narrow the milestones before their events are read. Nothing loops over every
task in Python.
"""

from __future__ import annotations

import sqlite3
from datetime import date

from civreform.errors import AmbiguousError, NotFoundError


class Rows:
    """A listing's rows as they arrive from its cursor, each made a dict when it is read
    (memory stays flat however many there are); count_rest() counts the rows not read
    without making them (a table shows the first rows and counts the others)."""

    __slots__ = ("_cursor", "_make")

    def __init__(self, cursor, make):
        self._cursor, self._make = cursor, make

    def __iter__(self):
        return self

    def __next__(self) -> dict:
        return self._make(next(self._cursor))

    def count_rest(self) -> int:
        return sum(1 for _ in self._cursor)

# ── Plans and agencies ──────────────────────────────────────────────────────


def list_plans(conn: sqlite3.Connection, counts: bool = True) -> Rows:
    """Every plan; counts=False leaves out the numbers of tasks, milestones and events
    (counting a plan's events reads all of them)."""
    counted = """(SELECT count(*) FROM tasks t WHERE t.plan_id = p.plan_id),
                  (SELECT count(*) FROM milestones m WHERE m.plan_id = p.plan_id),
                  (SELECT count(*) FROM events e WHERE e.plan_id = p.plan_id)""" if counts else "NULL, NULL, NULL"
    cursor = conn.execute(
        f"""SELECT p.plan_id, p.number, p.issued, p.title, p.title_en, p.period_start, p.period_end, p.loaded_at,
                  {counted} FROM plans p ORDER BY p.issued, p.plan_id"""  # noqa: S608 (fixed text)
    )
    return Rows(cursor, lambda r: {
        "plan": r[0], "number": r[1], "issued": r[2], "title": r[3], "title_en": r[4], "period_start": r[5],
        "period_end": r[6], "loaded_at": r[7], "tasks": r[8], "milestones": r[9], "events": r[10]})


def resolve_plan(conn: sqlite3.Connection, plan_query: str | None) -> str | None:
    """A plan id from what the user typed: its id or its number, in any case, with or
    without diacritics ("55", "55/kh-ubnd", "nd-55-2013"), or None for all plans. Two
    plans that the words fit equally are refused, naming both."""
    if not plan_query:
        return None
    from civreform.names import fold

    wanted = fold(plan_query)
    rows = conn.execute("SELECT plan_id, number FROM plans ORDER BY plan_id").fetchall()
    for matches in (lambda plan_id, number: plan_query in (plan_id, number),
                    lambda plan_id, number: wanted in (fold(plan_id), fold(number)),
                    lambda plan_id, number: wanted == fold(number.split("/")[0])):
        found = [plan_id for plan_id, number in rows if matches(plan_id, number)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise AmbiguousError(f"{plan_query!r} names several plans ({', '.join(found)}); give the plan's id")
    known = ", ".join(f"{plan_id} ({number})" for plan_id, number in rows) or "none loaded"
    raise NotFoundError(f"no plan {plan_query!r} (plans: {known})")


class AgencyScope:
    """An agency as typed by the user, resolved in every plan that has it (across plans
    an agency is its code and name), held in three TEMP tables of this connection,
    (plan_id, code) each, that the report queries join: `self_table` the agency in each
    plan; `lead_table` it and the groups it belongs to (tasks naming any of them concern
    it); `member_table` it and its members (the units whose reports count for it). A
    table, not a VALUES list: an archive has thousands of plans, past SQLite's limit on
    terms. (A plain class: a dataclass costs a millisecond of start-up in every report.)
    """

    def __init__(self, code: str, name: str, tables: str):
        self.code, self.name = code, name
        self.self_table, self.lead_table, self.member_table = (f"temp.{tables}_{part}"
                                                               for part in ("self", "lead", "member"))

    def lead_codes(self, conn: sqlite3.Connection, plan_id: str) -> set[str]:
        return {r[0] for r in conn.execute(f"SELECT code FROM {self.lead_table} WHERE plan_id = ?", (plan_id,))}  # noqa: S608


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def resolve_agency(conn: sqlite3.Connection, query: str, plan_id: str | None = None, direct: bool = False) -> AgencyScope:
    """Find one agency by code or by any part of a name, with or without diacritics,
    in one plan or (plan_id None) in every plan that has it."""
    from civreform.names import fold, match_score

    plan_sql, plan_params = (" AND plan_id = ?", [plan_id]) if plan_id else ("", [])
    # An exact code is the best match there is: one index lookup (agencies_by_code).
    rows = conn.execute(f"SELECT plan_id, code, name, search_key FROM agencies WHERE code = ?{plan_sql}",  # noqa: S608
                        [query.strip().lower(), *plan_params]).fetchall()
    if not rows:
        # Narrow in SQL (each word somewhere in a name), score the few that remain.
        words = fold(query).split()
        like = "".join(" AND search_key LIKE ? ESCAPE '\\'" for _ in words)
        rows = conn.execute(f"SELECT plan_id, code, name, search_key FROM agencies WHERE 1 = 1{plan_sql}{like}",  # noqa: S608
                            [*plan_params, *(f"%{_like_escape(word)}%" for word in words)]).fetchall() if words else []
    scored = [(match_score(query, code, key), plan, code, name) for plan, code, name, key in rows]
    scored = [s for s in scored if s[0] > 0]
    if not scored:
        raise NotFoundError(f"no agency matches {query!r}{_agency_suggestions(conn, query, plan_id)}")
    best = max(s[0] for s in scored)
    agencies = sorted({(s[2], s[3]) for s in scored if s[0] == best})
    if len(agencies) > 1:
        listing = "; ".join(f"{code} ({name})" for code, name in agencies[:12])
        more = f"; and {len(agencies) - 12} more" if len(agencies) > 12 else ""
        raise AmbiguousError(f"{query!r} matches several agencies: {listing}{more}. Use a code or more words")
    (code, name), = agencies
    return AgencyScope(code, name, _scope_tables(conn, code, name, plan_id, direct))


_scope_numbers = iter(range(1, 1 << 62))


def _scope_tables(conn: sqlite3.Connection, code: str, name: str, plan_id: str | None, direct: bool) -> str:
    """Fill the TEMP tables of a new scope; returns their common prefix. Each is keyed by
    (plan_id, code), so the reports' joins on them are key lookups."""
    prefix = f"civreform_scope{next(_scope_numbers)}"
    for part in ("self", "lead", "member"):
        conn.execute(f"CREATE TEMP TABLE {prefix}_{part} (plan_id TEXT, code TEXT, PRIMARY KEY (plan_id, code)) "
                     "WITHOUT ROWID")
    conn.execute(f"INSERT INTO temp.{prefix}_self SELECT plan_id, code FROM agencies WHERE code = ? AND name = ?"
                 + (" AND plan_id = ?" if plan_id else ""), (code, name, *([plan_id] if plan_id else [])))
    for part, upward in (("lead", True), ("member", False)):
        if part == "lead" and direct:
            conn.execute(f"INSERT INTO temp.{prefix}_lead SELECT * FROM temp.{prefix}_self")
            continue
        near, far = ("member_code", "group_code") if upward else ("group_code", "member_code")
        # The agencies plus, recursively, the groups they belong to (upward) or their members.
        conn.execute(f"""INSERT INTO temp.{prefix}_{part}
            WITH RECURSIVE related(plan_id, code) AS (
              SELECT plan_id, code FROM temp.{prefix}_self
              UNION
              SELECT am.plan_id, am.{far} FROM related r
              JOIN agency_members am ON am.plan_id = r.plan_id AND am.{near} = r.code)
            SELECT plan_id, code FROM related""")
    return prefix


def _agency_suggestions(conn: sqlite3.Connection, query: str, plan_id: str | None) -> str:
    import difflib

    from civreform.names import fold

    rows = conn.execute(
        "SELECT DISTINCT code, name FROM agencies" + (" WHERE plan_id = ?" if plan_id else ""),
        (plan_id,) if plan_id else (),
    ).fetchall()
    by_folded = {fold(name): f"{code} ({name})" for code, name in rows}
    by_folded.update({code: f"{code} ({name})" for code, name in rows})
    close = difflib.get_close_matches(fold(query) or query, list(by_folded), n=4, cutoff=0.5)
    suggestions = list(dict.fromkeys(by_folded[c] for c in close))
    return f"; did you mean: {', '.join(suggestions)}?" if suggestions else ""


def predecessors(conn: sqlite3.Connection, code: str, day: date) -> list[str]:
    """The agencies whose tasks `code` took over by `day` (the agency register's
    successors, followed back through every step)."""
    return [row[0] for row in conn.execute(
        """WITH RECURSIVE before(code) AS (
             SELECT code FROM register_agencies WHERE successor = :code AND valid_until <= :day
             UNION SELECT r.code FROM register_agencies r JOIN before b ON r.successor = b.code
             WHERE r.valid_until <= :day)
           SELECT code FROM before""", {"code": code, "day": day.isoformat()})]


def successor_now(conn: sqlite3.Connection, codes: list[str], day: date) -> dict[str, str]:
    """For each of `codes` that no longer exists on `day`, who answers for its tasks then
    (its successors followed to the last); codes still in being are left out."""
    answers = {}
    for code in codes:
        current, seen = code, {code}
        while True:
            row = conn.execute("SELECT successor FROM register_agencies WHERE code = ? AND valid_until <= ? "
                               "AND successor IS NOT NULL LIMIT 1", (current, day.isoformat())).fetchone()
            if row is None or row[0] in seen:
                break
            current = row[0]
            seen.add(current)
        if current != code:
            answers[code] = current
    return answers


def list_agencies(conn: sqlite3.Connection, plan_id: str | None = None) -> Rows:
    cursor = conn.execute(
        """SELECT a.plan_id, a.code, a.name, a.name_en, a.kind,
             (SELECT count(*) FROM task_agencies ta WHERE ta.plan_id = a.plan_id AND ta.agency_code = a.code AND ta.role = 'lead'),
             (SELECT count(*) FROM task_agencies ta WHERE ta.plan_id = a.plan_id AND ta.agency_code = a.code AND ta.role = 'support'),
             (SELECT count(DISTINCT tm.task_id) FROM task_members tm WHERE tm.plan_id = a.plan_id
                AND tm.agency_code = a.code AND tm.via <> a.code),
             (SELECT group_concat(member_code, ',') FROM (SELECT am.member_code FROM agency_members am
                JOIN agencies x ON x.plan_id = am.plan_id AND x.code = am.member_code
                WHERE am.plan_id = a.plan_id AND am.group_code = a.code ORDER BY x.seq)),
             (SELECT group_concat(group_code, ',') FROM (SELECT am.group_code FROM agency_members am
                JOIN agencies x ON x.plan_id = am.plan_id AND x.code = am.group_code
                WHERE am.plan_id = a.plan_id AND am.member_code = a.code ORDER BY x.seq)),
             a.note
           FROM agencies a WHERE (:plan IS NULL OR a.plan_id = :plan) ORDER BY a.plan_id, a.seq""",
        {"plan": plan_id},
    )
    return Rows(cursor, lambda r: {
        "plan": r[0], "code": r[1], "name": r[2], "name_en": r[3], "kind": r[4], "lead_tasks": r[5],
        "support_tasks": r[6], "group_tasks": r[7], "members": _codes(r[8]), "groups": _codes(r[9]), "note": r[10]})


def _codes(joined: str | None) -> list[str]:
    return joined.split(",") if joined else []


# ── Milestone state as of a date ────────────────────────────────────────────

def _plan_is(plan_id: str | None, alias: str = "m") -> str:
    """The plan filter on a table: a plain equality when there is a plan (so its
    indexes serve), nothing otherwise."""
    return f"{alias}.plan_id = :plan" if plan_id is not None else "1 = 1"


def _scope_tasks(scope: AgencyScope, role_sql: str) -> str:
    """The tasks the scope's agencies are named on in the role: driven from the scope's
    table through task_agencies_by_agency, so an agency in a few plans of thousands reads
    only its own tasks (CROSS JOIN keeps that order: SQLite would otherwise read the whole
    index of task_agencies when it guesses the small table large)."""
    return (f"(t.plan_id, t.task_id) IN (SELECT ta.plan_id, ta.task_id FROM {scope.lead_table} s "
            f"CROSS JOIN task_agencies ta ON ta.plan_id = s.plan_id AND ta.agency_code = s.code WHERE {role_sql})")


def _role_sql(role: str) -> str:
    return {"lead": "ta.role = 'lead'", "support": "ta.role = 'support'", "any": "1 = 1"}[role]


def closes_sql(e: str) -> str:
    """Whether the event under alias `e` is the lead's own report, the kind that decides
    a milestone: recorded for no agency (on the lead's behalf), by a lead agency, or by
    a member of a leading group for its own unit. Any other agency named on the task
    supports it: its events are kept and shown, and change no standing."""
    return (f"({e}.agency = '' OR EXISTS (SELECT 1 FROM task_agencies ta WHERE ta.plan_id = {e}.plan_id "
            f"AND ta.task_id = {e}.task_id AND ta.role = 'lead' AND ta.agency_code = {e}.agency) "
            f"OR EXISTS (SELECT 1 FROM task_members tm WHERE tm.plan_id = {e}.plan_id AND tm.task_id = {e}.task_id "
            f"AND tm.agency_code = {e}.agency))")


def not_retracted_sql(e: str) -> str:
    return f"NOT EXISTS (SELECT 1 FROM events r WHERE r.retracts = {e}.id)"


def _counts_for_unit(e: str, u: str = "u") -> str:
    """Whether event `e` counts for reporting unit `u` on :as_of: its progress, dated by
    then, the lead's own report (closes_sql; for a member's unit, that member's), not retracted."""
    return (f"{e}.plan_id = {u}.plan_id AND {e}.task_id = {u}.task_id AND {e}.milestone = {u}.label "
            f"AND {e}.kind = 'progress' AND {e}.happened_on <= :as_of AND ({u}.member = '' OR {e}.agency = {u}.member) "
            f"AND {closes_sql(e)} AND {not_retracted_sql(e)}")


# The state of each reporting unit (a milestone, or one member's share of a group-led
# milestone) on :as_of, from its events. THE rule, stated here only: only the lead's
# own progress events count (_counts_for_unit), and none that was retracted; the latest
# on or before :as_of (by day, then by order of recording) gives the status and percent;
# a unit whose latest event is "done" was done on the first "done" dated on or after
# its last event that was not "done" (a later "done" adds evidence, not a new date).
# Each unit's latest event is found by walking events_by_milestone back from :as_of
# (a few entries), not by ranking every event: 4x faster over an archive's 1M events.
UNIT_STATE = f"""
unit_latest AS (
  SELECT u.*, (SELECT e.id FROM events e WHERE {_counts_for_unit("e")}
               ORDER BY e.happened_on DESC, e.id DESC LIMIT 1) AS latest_id
  FROM units u
),
unit_state AS (
  SELECT u.plan_id, u.task_id, u.label, u.member, u.per_member, u.due, u.pending,
    l.status, l.percent, l.note, l.evidence, l.happened_on AS last_on,
    CASE WHEN l.status = 'done' THEN (
      SELECT min(d.happened_on) FROM events d WHERE {_counts_for_unit("d")} AND d.status = 'done'
        AND d.happened_on >= coalesce((SELECT max(o.happened_on) FROM events o
                                        WHERE {_counts_for_unit("o")} AND o.status <> 'done'), ''))
    END AS done_on
  FROM unit_latest u LEFT JOIN events l ON l.id = u.latest_id
),
-- A milestone from its units: one unit as it is; a group-led milestone is done when
-- every member is (on the last member's day), blocked when any member is, and its
-- percent is the members' average. A blocked unit's note is the reason.
ms_state AS (
  SELECT plan_id, task_id, label, count(*) AS units, sum(status IS 'done') AS units_done,
    CASE WHEN sum(status IS 'done') = count(*) THEN 'done' WHEN sum(status IS 'blocked') > 0 THEN 'blocked'
         WHEN sum(status IN ('in-progress', 'done')) > 0 THEN 'in-progress' ELSE 'not-started' END AS status,
    CASE WHEN max(per_member) = 0 THEN
           CASE WHEN max(status) = 'done' THEN 100 WHEN max(status) IS NULL OR max(status) = 'not-started'
                THEN coalesce(max(percent), 0) ELSE max(percent) END
         ELSE CAST(round(avg(CASE WHEN status = 'done' THEN 100 ELSE coalesce(percent, 0) END)) AS INTEGER) END
      AS percent,
    max(last_on) AS last_on,
    CASE WHEN sum(status IS 'done') = count(*) THEN max(done_on) END AS done_on,
    group_concat(CASE WHEN status = 'blocked' THEN
      CASE WHEN member <> '' THEN member || ': ' ELSE '' END || coalesce(nullif(note, ''), '-') END, '; ') AS reason
  FROM unit_state GROUP BY plan_id, task_id, label
)"""

# A milestone's due date on :as_of: its own, or for one due on an event ("after"),
# the day the triggering event was recorded as happening (if by :as_of) plus its span.
EFFECTIVE_DUE = """coalesce(m.due, (
    SELECT date(g.happened_on, '+' || coalesce(m.after_days, 0) || ' days') FROM events g
    WHERE g.plan_id = m.plan_id AND g.task_id = m.task_id AND g.milestone = m.label AND g.kind = 'trigger'
      AND g.happened_on <= :as_of AND """ + not_retracted_sql("g") + """
    ORDER BY g.happened_on, g.id LIMIT 1))"""


def state_query(task_where: list[str], params: dict, scope: AgencyScope | None = None, role: str = "lead",
                due_where: list[str] = (), ongoing: bool = False) -> str:
    """The WITH clause that yields `state` (one row per milestone with its state and
    standing on :as_of) and `unit_state` (one row per reporting unit).

    task_where filters tasks t (and so their milestones); due_where filters on the
    milestone's effective `due`. With ongoing=True a task with no milestone takes part
    as one row labelled '' (its standing "ongoing"). With a scope, only its tasks count,
    and of a group-led milestone only the units of the scope's members.
    """
    where = list(task_where)
    member_filter = ""
    if scope is not None:
        where.append(_scope_tasks(scope, _role_sql(role)))
        member_filter = (f"AND EXISTS (SELECT 1 FROM {scope.member_table} sm WHERE sm.plan_id = tm.plan_id "
                         "AND sm.code = tm.agency_code)")
    where_sql = " AND ".join(where) or "1 = 1"
    # A dated milestone's due narrows the milestones early, over their index by due; one
    # due on an event is worked out first and filtered after.
    stored_due = "".join(f" AND ({clause.replace('due', 'm.due', 1)} OR m.due IS NULL)" for clause in due_where)
    columns = ("t.seq AS task_seq, t.title, t.title_en, t.lead_codes AS lead, t.per_member")
    ongoing_rows = f"""
  UNION ALL
  SELECT t.plan_id, t.task_id, '' AS label, NULL AS label_vi, 0 AS milestone_seq, NULL AS after_event,
    NULL AS after_days, NULL AS due, {columns}
  FROM tasks t WHERE {where_sql}
    AND NOT EXISTS (SELECT 1 FROM milestones x WHERE x.plan_id = t.plan_id AND x.task_id = t.task_id)""" \
        if ongoing else ""
    ms = f"""
ms_all AS (
  SELECT m.plan_id, m.task_id, m.label, m.label_vi, m.seq AS milestone_seq, m.after_event, m.after_days,
    {EFFECTIVE_DUE} AS due, {columns}
  FROM milestones m JOIN tasks t ON t.plan_id = m.plan_id AND t.task_id = m.task_id
  WHERE {where_sql}{stored_due}{ongoing_rows}
),
ms AS (
  SELECT *, (after_event IS NOT NULL AND due IS NULL) AS pending FROM ms_all
  WHERE {" AND ".join(due_where) or "1 = 1"}
),
units AS (
  SELECT ms.plan_id, ms.task_id, ms.label, '' AS member, 0 AS per_member, ms.due, ms.pending
  FROM ms WHERE ms.per_member = 0 OR ms.label = ''
  UNION ALL
  SELECT ms.plan_id, ms.task_id, ms.label, tm.agency_code, 1, ms.due, ms.pending
  FROM ms JOIN task_members tm ON tm.plan_id = ms.plan_id AND tm.task_id = ms.task_id
  WHERE ms.per_member = 1 AND ms.label <> '' {member_filter}
    -- a member answers for the milestones due while it exists (the agency register's dates)
    AND (ms.due IS NULL OR ((tm.valid_from IS NULL OR tm.valid_from <= ms.due)
                            AND (tm.valid_until IS NULL OR ms.due < tm.valid_until)))
),"""
    state = """,
state AS (
  SELECT ms.*, s.units, s.units_done, s.status, s.percent, s.last_on, s.done_on, s.reason,
    CASE WHEN ms.label = '' THEN 'ongoing' ELSE standing(ms.due, s.done_on, :as_of, ms.pending) END AS standing
  FROM ms JOIN ms_state s ON s.plan_id = ms.plan_id AND s.task_id = ms.task_id AND s.label = ms.label
)
"""
    return "WITH" + ms + UNIT_STATE + state


def _row_cursor(conn: sqlite3.Connection, sql: str, params) -> sqlite3.Cursor:
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    return cursor.execute(sql, params)


OVERDUE_COLUMNS = ["task", "plan", "title", "title_en", "milestone", "due", "days_overdue", "lead", "status",
                   "percent", "standing", "units_done", "units", "last_update", "reason"]
UPCOMING_COLUMNS = ["task", "plan", "title", "title_en", "milestone", "due", "days_left", "lead", "status",
                    "percent", "standing", "units_done", "units", "last_update", "reason"]
_LISTING_VALUES = ("task_id, plan_id, title, title_en, label, due, {days}, lead, status, percent, standing, "
                   "units_done, units, last_on, coalesce(reason, '')")


def overdue(conn: sqlite3.Connection, as_of: date, *, plan_id: str | None = None,
            scope: AgencyScope | None = None, limit: int | None = None):
    """Milestones due before as_of and not done by then, most overdue first (a generator
    of dicts in OVERDUE_COLUMNS)."""
    days = "CAST(julianday(:as_of) - julianday(due) AS INTEGER)"
    return _open_milestones(conn, as_of, ["due < :as_of"], {}, plan_id, scope, days, OVERDUE_COLUMNS, limit)


def upcoming(conn: sqlite3.Connection, as_of: date, days: int, *, plan_id: str | None = None,
             scope: AgencyScope | None = None, limit: int | None = None):
    """Milestones not done that fall due from as_of through as_of + days, soonest first
    (dicts in UPCOMING_COLUMNS)."""
    from datetime import timedelta

    params = {"until": (as_of + timedelta(days=days)).isoformat()}
    days_left = "CAST(julianday(due) - julianday(:as_of) AS INTEGER)"
    return _open_milestones(conn, as_of, ["due >= :as_of", "due <= :until"], params, plan_id, scope, days_left,
                            UPCOMING_COLUMNS, limit)


def open_milestones_sql(due_where: list[str], params: dict, plan_id: str | None, scope: AgencyScope | None,
                        days_sql: str, limit: int | None = None) -> str:
    """The SQL of a listing of milestones not done on :as_of whose due matches due_where."""
    tail = " ORDER BY due, plan_id, task_seq, milestone_seq" + (f" LIMIT {int(limit)}" if limit is not None else "")
    return (state_query([_plan_is(plan_id, "t")], params, scope, due_where=due_where)
            + f"SELECT {_LISTING_VALUES.format(days=days_sql)} FROM state WHERE status <> 'done'{tail}")


def _open_milestones(conn, as_of: date, due_where: list[str], params: dict, plan_id, scope, days_sql: str,
                     columns: list[str], limit: int | None):
    params = {**params, "as_of": as_of.isoformat(), "plan": plan_id}
    sql = open_milestones_sql(due_where, params, plan_id, scope, days_sql, limit)

    def make(r) -> dict:
        row = dict(zip(columns, r))
        row["lead"] = _codes(row["lead"])
        return row

    return Rows(conn.execute(sql, params), make)


def _milestone_row(r: sqlite3.Row) -> dict:
    return {
        "task": r["task_id"], "plan": r["plan_id"], "title": r["title"], "title_en": r["title_en"],
        "milestone": r["label"], "due": r["due"], "lead": _codes(r["lead"]), "status": r["status"],
        "percent": r["percent"], "standing": r["standing"], "units_done": r["units_done"], "units": r["units"],
        "last_update": r["last_on"], "reason": r["reason"] or "",
    }


def milestone_states(conn: sqlite3.Connection, as_of: date, *, plan_id: str | None = None,
                     scope: AgencyScope | None = None, due_from: date | None = None,
                     due_until: date | None = None, task_id: str | None = None) -> list[dict]:
    """Every milestone (optionally of one task, or within a due window) with status and standing."""
    params: dict = {"as_of": as_of.isoformat(), "plan": plan_id, "task": task_id,
                    "due_from": due_from.isoformat() if due_from else None,
                    "due_until": due_until.isoformat() if due_until else None}
    where = [_plan_is(plan_id, "t")] + (["t.task_id = :task"] if task_id is not None else [])
    due_where = ((["due >= :due_from"] if due_from is not None else [])
                 + (["due <= :due_until"] if due_until is not None else []))
    sql = (state_query(where, params, scope, due_where=due_where)
           + "SELECT * FROM state ORDER BY due IS NULL, due, plan_id, task_seq, milestone_seq")
    return [_milestone_row(r) for r in _row_cursor(conn, sql, params)]


# ── Tasks ───────────────────────────────────────────────────────────────────

TASK_COLUMNS = ["task", "plan", "section", "title", "title_en", "lead", "support", "via", "time_text",
                "next_due", "status", "percent", "standing", "milestones", "inherited_from"]


def list_tasks(conn: sqlite3.Connection, as_of: date, *, plan_id: str | None = None,
               scope: AgencyScope | None = None, role: str = "lead", standing: str | None = None,
               inherited: list[str] = ()) -> Rows:
    """Tasks with their standing on as_of: the worst standing of their milestones
    (overdue, within deadline, pending, done late, done on time); tasks with no due
    date are ongoing."""
    params: dict = {"as_of": as_of.isoformat(), "plan": plan_id}
    via = "''"
    if scope is not None and inherited:  # the tasks of the agencies it took over, too
        conn.executemany(f"INSERT OR IGNORE INTO {scope.lead_table} SELECT plan_id, ? FROM {scope.self_table}",  # noqa: S608
                         [(code,) for code in inherited])
    if scope is not None:
        via = f"""coalesce((SELECT group_concat(DISTINCT ta.agency_code) FROM task_agencies ta
                   JOIN {scope.lead_table} s ON s.plan_id = ta.plan_id AND s.code = ta.agency_code
                   WHERE ta.plan_id = t.plan_id AND ta.task_id = t.task_id AND {_role_sql(role)}
                     AND NOT EXISTS (SELECT 1 FROM {scope.self_table} x
                                     WHERE x.plan_id = ta.plan_id AND x.code = ta.agency_code)), '')"""
    worst = " ".join(f"WHEN sum(standing = '{name}') > 0 THEN '{name}'" for name in TASK_STANDING_ORDER)
    sql = state_query([_plan_is(plan_id, "t")], params, scope, role, ongoing=True) + f""",
    task_agg AS (
      SELECT plan_id, task_id, sum(label <> '') AS n, CASE {worst} END AS standing,
        -- the one min() here: SQLite takes the bare columns (status, percent) from its row,
        -- the next milestone not done (one waiting for its event sorts last)
        min(CASE WHEN status <> 'done' OR label = '' THEN coalesce(due, '9999') END) AS next_key,
        status AS next_status, percent AS next_percent
      FROM state GROUP BY plan_id, task_id
    )
    SELECT t.task_id, t.plan_id, t.section, t.title, t.title_en, t.lead_codes,
      (SELECT group_concat(agency_code, ',') FROM (SELECT agency_code FROM task_agencies x
         WHERE x.plan_id = t.plan_id AND x.task_id = t.task_id AND x.role = 'support' ORDER BY x.seq)) AS support,
      {via} AS via, t.time_text, nullif(a.next_key, '9999') AS next_due,
      CASE WHEN a.next_key IS NULL THEN 'done' ELSE a.next_status END AS status,
      CASE WHEN a.next_key IS NULL THEN 100 ELSE a.next_percent END AS percent,
      a.standing, a.n AS milestones
    FROM task_agg a JOIN tasks t ON t.plan_id = a.plan_id AND t.task_id = a.task_id
    """
    if standing:
        sql += " WHERE a.standing = :standing"
        params["standing"] = standing
    sql += " ORDER BY t.plan_id, t.seq"

    def make(r) -> dict:  # columns in TASK_COLUMNS order
        row = dict(zip(TASK_COLUMNS, r))
        row["lead"], row["support"], row["via"] = _codes(r[5]), _codes(r[6]), _codes(r[7])
        if row["standing"] == "ongoing":
            row["next_due"] = None
        row["inherited_from"] = [code for code in row["lead"] if code in inherited]
        return row

    return Rows(conn.execute(sql, params), make)


# Which standing a task takes from its milestones: the first any of them has.
TASK_STANDING_ORDER = ("ongoing", "overdue", "within-deadline", "pending", "done-late", "done-on-time")


# A task by id, in one plan or in each plan: a primary-key lookup either way (an import
# looks up every row's task; "(:plan IS NULL OR ...)" would read every task each time).
FIND_TASK_SQL = {
    True: "SELECT plan_id, task_id FROM tasks WHERE plan_id = :plan AND task_id = :task",
    False: "SELECT t.plan_id, t.task_id FROM plans p JOIN tasks t ON t.plan_id = p.plan_id AND t.task_id = :task "
           "ORDER BY p.plan_id",
}


def find_task(conn: sqlite3.Connection, task_id: str, plan_id: str | None = None) -> tuple[str, str]:
    """(plan_id, task_id) for what the user typed, or NotFoundError with the nearest ids."""
    rows = conn.execute(FIND_TASK_SQL[plan_id is not None], {"task": task_id, "plan": plan_id}).fetchall()
    if len(rows) == 1:
        return rows[0][0], rows[0][1]
    if len(rows) > 1:
        raise AmbiguousError(f"task {task_id!r} is in several plans ({', '.join(r[0] for r in rows)}); add --plan")
    import difflib

    # Case-insensitive exact match first ("iv.2-plan"), then the nearest ids.
    all_ids = conn.execute("SELECT DISTINCT task_id FROM tasks WHERE (:plan IS NULL OR plan_id = :plan)",
                           {"plan": plan_id}).fetchall()
    ids = [r[0] for r in all_ids]
    folded = [i for i in ids if i.lower() == task_id.lower()]
    if len(folded) == 1:
        return find_task(conn, folded[0], plan_id)
    near = difflib.get_close_matches(task_id, ids, n=3, cutoff=0.3)
    hint = f"; nearest: {', '.join(near)}" if near else ""
    raise NotFoundError(f"no task {task_id!r}{hint}")


def task_detail(conn: sqlite3.Connection, plan_id: str, task_id: str, as_of: date) -> dict:
    """Everything about one task: verbatim texts, agencies, milestones with their state,
    for group-led tasks each member's report per milestone, and supporting agencies'
    progress (kept and shown, never deciding the standing)."""
    import json

    t = _row_cursor(conn, "SELECT * FROM tasks WHERE plan_id = ? AND task_id = ?", (plan_id, task_id)).fetchone()
    agencies = _row_cursor(
        conn,
        """SELECT ta.role, ta.agency_code, a.name, a.name_en FROM task_agencies ta
           JOIN agencies a ON a.plan_id = ta.plan_id AND a.code = ta.agency_code
           WHERE ta.plan_id = ? AND ta.task_id = ? ORDER BY ta.role, ta.seq""",
        (plan_id, task_id),
    ).fetchall()
    params: dict = {"as_of": as_of.isoformat(), "plan": plan_id, "task": task_id}
    head = state_query(["t.plan_id = :plan", "t.task_id = :task"], params, None, ongoing=True)
    states = list(_row_cursor(conn, head + "SELECT * FROM state ORDER BY milestone_seq", params))
    milestones = [
        {"label": r["label"], "label_vi": r["label_vi"], "due": r["due"], "after_event": r["after_event"],
         "after_days": r["after_days"], "status": r["status"], "percent": r["percent"], "standing": r["standing"],
         "done_on": r["done_on"], "units_done": r["units_done"], "units": r["units"], "reason": r["reason"] or ""}
        for r in states if r["label"] != ""]
    members = []
    if t["per_member"]:
        sql = head + """
            SELECT us.label, us.member, a.name, a.name_en, us.status, us.percent, us.last_on, us.done_on, us.note,
              standing(us.due, us.done_on, :as_of, us.pending) AS standing
            FROM unit_state us JOIN agencies a ON a.plan_id = us.plan_id AND a.code = us.member
            JOIN milestones m ON m.plan_id = us.plan_id AND m.task_id = us.task_id AND m.label = us.label
            WHERE us.member <> ''
            ORDER BY m.seq, (SELECT seq FROM agencies x WHERE x.plan_id = us.plan_id AND x.code = us.member)"""
        for r in conn.execute(sql, params):
            members.append({
                "milestone": r[0], "agency": r[1], "name": r[2], "name_en": r[3], "status": r[4] or "not-started",
                "percent": 100 if r[4] == "done" else (r[5] if r[5] is not None else 0), "last_update": r[6],
                "done_on": r[7], "note": r[8] or "", "standing": r[9],
            })
    support = [dict(zip(("id", "milestone", "agency", "status", "percent", "on", "note", "evidence"), r))
               for r in conn.execute(
                   f"""SELECT e.id, e.milestone, e.agency, e.status, e.percent, e.happened_on, e.note, e.evidence
                       FROM events e WHERE e.plan_id = :plan AND e.task_id = :task AND e.kind = 'progress'
                         AND e.happened_on <= :as_of AND NOT {closes_sql("e")} AND {not_retracted_sql("e")}
                       ORDER BY e.happened_on, e.id""", params)]  # noqa: S608
    ongoing = not milestones
    standings = {m["standing"] for m in milestones}
    overall = "ongoing" if ongoing else next(name for name in TASK_STANDING_ORDER if name in standings)
    detail = {
        "id": t["task_id"], "plan": t["plan_id"], "section": t["section"], "title": t["title"],
        "title_en": t["title_en"], "content": t["content"], "content_en": t["content_en"],
        "lead_text": t["lead_text"], "support_text": t["support_text"], "time_text": t["time_text"],
        "lead": [a["agency_code"] for a in agencies if a["role"] == "lead"],
        "support": [a["agency_code"] for a in agencies if a["role"] == "support"],
        "agency_names": {a["agency_code"]: {"name": a["name"], "name_en": a["name_en"]} for a in agencies},
        "deadline": json.loads(t["deadline"]), "note": t["note"],
        "target": json.loads(t["target"]) if t["target"] else None,
        "standing": overall,
        "milestones": milestones,
        "members": members,
        "support_progress": support,
    }
    if ongoing:
        row = states[0] if states else None
        detail["status"] = row["status"] if row else "not-started"
        detail["percent"] = row["percent"] if row else 0
    return detail


# ── History ─────────────────────────────────────────────────────────────────

HISTORY_COLUMNS = ["id", "plan", "task", "milestone", "agency", "kind", "role", "status", "percent", "on",
                   "recorded_at", "note", "evidence", "by", "source", "retracts", "retracted_by"]


def history(conn: sqlite3.Connection, *, plan_id: str | None = None, task_id: str | None = None,
            scope: AgencyScope | None = None, since: date | None = None,
            until: date | None = None, recorded_until: date | None = None):
    """Every event, oldest first (by the day it happened, then by when it was recorded):
    progress (role `lead` when it decides the milestone, `support` when it does not),
    retractions and triggers, each retracted event with the id of its retraction.
    recorded_until: only events recorded on or before that day (history as it stood)."""
    params: dict = {"plan": plan_id, "task": task_id, "since": since.isoformat() if since else None,
                    "until": until.isoformat() if until else None,
                    "recorded_until": recorded_until.isoformat() + "T99" if recorded_until else None}
    # Only the filters given, each a plain comparison, so that an index serves them.
    where = [condition for value, condition in ((plan_id, "e.plan_id = :plan"), (task_id, "e.task_id = :task"),
                                                (since, "e.happened_on >= :since"),
                                                (until, "e.happened_on <= :until"),
                                                (recorded_until, "e.recorded_at <= :recorded_until"))
             if value is not None] or ["1 = 1"]
    if scope is not None:  # the events of the agency and its members
        where.append(f"EXISTS (SELECT 1 FROM {scope.member_table} s WHERE s.plan_id = e.plan_id AND s.code = e.agency)")
    retracted_by = "(SELECT r.id FROM events r WHERE r.retracts = e.id" + (
        " AND r.recorded_at <= :recorded_until)" if recorded_until else ")")
    sql = f"""SELECT e.id, e.plan_id, e.task_id, e.milestone, e.agency, e.kind,
                     CASE WHEN e.kind <> 'progress' THEN '' WHEN {closes_sql("e")} THEN 'lead' ELSE 'support' END,
                     e.status, e.percent, e.happened_on, e.recorded_at, e.note, e.evidence, e.recorded_by, e.source,
                     e.retracts, {retracted_by}
              FROM events e WHERE {' AND '.join(where)}
              ORDER BY e.happened_on, e.id"""  # noqa: S608
    return Rows(conn.execute(sql, params), lambda r: dict(zip(HISTORY_COLUMNS, r)))


def orphan_groups(conn: sqlite3.Connection, plan_id: str | None = None) -> list[tuple]:
    """(plan, task, milestone, events) for each task and milestone that has progress
    events but is not in its plan (any more): what orphan_event_view lists, event by
    event, counted. Each (task, milestone) is looked up once, not once per event: at
    1M events, 0.3 s against 0.9 s."""
    return conn.execute(f"""
        SELECT g.plan_id, g.task_id, g.milestone, g.events FROM (
          SELECT plan_id, task_id, milestone, count(*) AS events FROM events e INDEXED BY events_by_milestone
          WHERE {_plan_is(plan_id, "e")} GROUP BY plan_id, task_id, milestone) g
        WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.plan_id = g.plan_id AND t.task_id = g.task_id)
           OR (g.milestone <> '' AND NOT EXISTS (SELECT 1 FROM milestones m
                WHERE m.plan_id = g.plan_id AND m.task_id = g.task_id AND m.label = g.milestone))
           OR (g.milestone = '' AND EXISTS (SELECT 1 FROM milestones m
                WHERE m.plan_id = g.plan_id AND m.task_id = g.task_id))
        ORDER BY g.plan_id, g.task_id, g.milestone""", {"plan": plan_id}).fetchall()  # noqa: S608


def open_units(conn: sqlite3.Connection, as_of: date, *, plan_id: str | None = None,
               scope: AgencyScope | None = None, role: str = "lead") -> Rows:
    """Milestones not done as of as_of, one row per reporting agency for group-led
    tasks (the rows of a spreadsheet template), each with its latest report."""
    params: dict = {"as_of": as_of.isoformat(), "plan": plan_id}
    sql = state_query([_plan_is(plan_id, "t")], params, scope, role) + """
        SELECT us.plan_id, us.task_id, us.label, us.member, t.title, us.due, us.status, us.percent, us.last_on,
          us.note, us.evidence
        FROM unit_state us JOIN tasks t ON t.plan_id = us.plan_id AND t.task_id = us.task_id
        JOIN milestones m ON m.plan_id = us.plan_id AND m.task_id = us.task_id AND m.label = us.label
        WHERE us.status IS NOT 'done'
        ORDER BY us.due IS NULL, us.due, us.plan_id, t.seq, m.seq,
                 (SELECT seq FROM agencies a WHERE a.plan_id = us.plan_id AND a.code = us.member)"""
    own = scope.code if scope else ""
    keys = ("plan", "task", "milestone", "agency", "title", "due", "status", "percent", "last_update", "note",
            "evidence")

    def make(r) -> dict:
        row = dict(zip(keys, r))
        row["agency"] = row["agency"] or own
        return row

    return Rows(conn.execute(sql, params), make)


# ── Summary ─────────────────────────────────────────────────────────────────

def overdue_by_agency(conn: sqlite3.Connection, as_of: date, plan_id: str | None = None,
                      scope: AgencyScope | None = None) -> list[dict]:
    """Agencies ranked by the overdue milestones they owe (a generator): a group-led
    milestone counts once for each member that has not reported done; others count for
    their lead agencies. Across plans an agency is its code and name: one row each,
    with the number of plans it owes in."""
    params: dict = {"as_of": as_of.isoformat(), "plan": plan_id}
    sql = state_query([_plan_is(plan_id, "t")], params, scope, due_where=["due < :as_of"]) + """,
    owed AS (
      SELECT us.plan_id, us.member AS code FROM unit_state us
      WHERE us.member <> '' AND us.status IS NOT 'done'
      UNION ALL
      SELECT us.plan_id, ta.agency_code FROM unit_state us
      JOIN task_agencies ta ON ta.plan_id = us.plan_id AND ta.task_id = us.task_id AND ta.role = 'lead'
      WHERE us.member = '' AND us.status IS NOT 'done'
    )
    SELECT a.code, a.name, max(a.name_en), count(*) AS n, count(DISTINCT o.plan_id) FROM owed o
    JOIN agencies a ON a.plan_id = o.plan_id AND a.code = o.code
    GROUP BY a.code, a.name ORDER BY n DESC, min(a.seq), a.code, a.name"""
    for r in conn.execute(sql, params):
        yield {"agency": r[0], "name": r[1], "name_en": r[2], "overdue": r[3], "plans": r[4]}


# The standings of milestones (a task with none is counted "ongoing").
DATED_STANDINGS = ("done-on-time", "done-late", "within-deadline", "overdue", "pending")


def standing_counts(conn: sqlite3.Connection, as_of: date, plan_id: str | None = None,
                    scope: AgencyScope | None = None) -> dict[str, int]:
    """How many milestones stand in each category on as_of (and how many tasks are
    ongoing), counted in SQL."""
    params: dict = {"as_of": as_of.isoformat(), "plan": plan_id}
    sql = (state_query([_plan_is(plan_id, "t")], params, scope, ongoing=True)
           + "SELECT standing, count(*) FROM state GROUP BY standing")
    counts = {standing: 0 for standing in (*DATED_STANDINGS, "ongoing")}
    counts.update(dict(conn.execute(sql, params).fetchall()))
    return counts


def summary(conn: sqlite3.Connection, as_of: date, days: int, plan_id: str | None = None,
            scope: AgencyScope | None = None) -> dict:
    """Everything the weekly mail holds, as plain data; with a scope, one agency's share
    (the tasks it leads, or reports on as a member of a leading group)."""
    from datetime import timedelta

    counts = standing_counts(conn, as_of, plan_id, scope)
    dated = sum(counts[key] for key in DATED_STANDINGS)
    done = counts["done-on-time"] + counts["done-late"]
    start = as_of - timedelta(days=max(days, 1) - 1)

    def open_due(first: date, last: date) -> list[dict]:
        return [{key: state[key] for key in ("plan", "task", "milestone", "due", "title", "title_en", "lead",
                                             "status", "percent", "units_done", "units")}
                for state in milestone_states(conn, as_of, plan_id=plan_id, scope=scope, due_from=first,
                                              due_until=last)
                if state["status"] != "done"]

    ahead = open_due(as_of, as_of + timedelta(days=max(days, 30)))  # one query serves both look-aheads
    plans = [p for p in list_plans(conn, counts=False) if plan_id is None or p["plan"] == plan_id]
    return {
        "as_of": as_of.isoformat(),
        "days": days,
        "period": {"from": start.isoformat(), "to": as_of.isoformat()},
        "plans": [{"plan": p["plan"], "number": p["number"], "title": p["title"], "title_en": p["title_en"]}
                  for p in plans],
        "counts": counts,
        "milestones": dated,
        "done": done,
        "share_done": round(done / dated, 4) if dated else 0.0,
        "agency": {"code": scope.code, "name": scope.name} if scope else None,
        "changes": list(history(conn, plan_id=plan_id, since=start, until=as_of,
                                scope=scope)),
        # due in the last N days and not done by the day before as_of: newly overdue
        "became_overdue": open_due(as_of - timedelta(days=days), as_of - timedelta(days=1)),
        "due_soon": [item for item in ahead if item["due"] <= (as_of + timedelta(days=days)).isoformat()],
        "due_30": [item for item in ahead if item["due"] <= (as_of + timedelta(days=30)).isoformat()],
        "agencies_by_overdue": list(overdue_by_agency(conn, as_of, plan_id, scope)),
    }
