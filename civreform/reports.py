"""The queries behind every listing. They return lists of plain dicts (rows);
rendering is render.py's job.

Standing and status are computed in SQL over indexed columns. milestone_report
holds every milestone in report order (by due date) with its current state,
kept by a trigger on events; a report as of a day on or after a milestone's
latest event reads that row. Otherwise the state as of the day is worked out
from the events: the latest event on or before it is one index lookup
(events_by_unit / events_by_milestone). Nothing loops over every task in Python.
"""

from __future__ import annotations

import sqlite3
from datetime import date

from civreform.db import REPORT_STATE_COLUMNS, done_since_sql, member_units_state_sql, one_unit_state_sql
from civreform.errors import AmbiguousError, NotFoundError

# ── Plans and agencies ──────────────────────────────────────────────────────


def list_plans(conn: sqlite3.Connection, counts: bool = True) -> list[dict]:
    """Every plan; counts=False leaves out the numbers of tasks, milestones and events
    (counting a plan's events reads all of them)."""
    counted = """(SELECT count(*) FROM tasks t WHERE t.plan_id = p.plan_id),
                  (SELECT count(*) FROM milestones m WHERE m.plan_id = p.plan_id),
                  (SELECT count(*) FROM events e WHERE e.plan_id = p.plan_id)""" if counts else "NULL, NULL, NULL"
    rows = conn.execute(
        f"""SELECT p.plan_id, p.number, p.issued, p.title, p.title_en, p.period_start, p.period_end, p.loaded_at,
                  {counted} FROM plans p ORDER BY p.issued, p.plan_id"""  # noqa: S608 (fixed text)
    ).fetchall()
    return [
        {"plan": r[0], "number": r[1], "issued": r[2], "title": r[3], "title_en": r[4], "period_start": r[5],
         "period_end": r[6], "loaded_at": r[7], "tasks": r[8], "milestones": r[9], "events": r[10]}
        for r in rows
    ]


def resolve_plan(conn: sqlite3.Connection, plan_query: str | None) -> str | None:
    """A plan id from what the user typed (its id or its number), or None for all plans."""
    if not plan_query:
        return None
    rows = conn.execute("SELECT plan_id, number FROM plans").fetchall()
    for plan_id, number in rows:
        if plan_query in (plan_id, number):
            return plan_id
    known = ", ".join(r[0] for r in rows) or "none loaded"
    raise NotFoundError(f"no plan {plan_query!r} (plans: {known})")


class AgencyScope:
    """An agency as typed by the user, resolved in every plan that has it.

    lead_pairs: the agency and the groups it belongs to (tasks naming any of
    them concern it); member_pairs: the agency and its members (the units whose
    reports count for it). (A plain class: a dataclass costs a millisecond of
    start-up in every report.)
    """

    def __init__(self, code: str, name: str, self_pairs: list[tuple[str, str]],
                 lead_pairs: list[tuple[str, str]] | None = None, member_pairs: list[tuple[str, str]] | None = None):
        self.code, self.name, self.self_pairs = code, name, self_pairs
        self.lead_pairs = lead_pairs or []
        self.member_pairs = member_pairs or []


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def resolve_agency(conn: sqlite3.Connection, query: str, plan_id: str | None = None, direct: bool = False) -> AgencyScope:
    """Find one agency by code or by any part of a name, with or without diacritics."""
    from civreform.names import fold, match_score

    words = fold(query).split()
    where, params = ["1 = 1"], []
    if plan_id:
        where.append("plan_id = ?")
        params.append(plan_id)
    # Narrow in SQL (each word somewhere in a name), score the few that remain.
    for word in words:
        where.append("search_key LIKE ? ESCAPE '\\'")
        params.append(f"%{_like_escape(word)}%")
    rows = conn.execute(
        f"SELECT plan_id, code, name, search_key FROM agencies WHERE {' AND '.join(where)} OR code = ?",  # noqa: S608
        [*params, query.strip().lower()],
    ).fetchall()
    scored = [(match_score(query, code, key), plan, code, name) for plan, code, name, key in rows]
    scored = [s for s in scored if s[0] > 0]
    if not scored:
        raise NotFoundError(f"no agency matches {query!r}{_agency_suggestions(conn, query, plan_id)}")
    best = max(s[0] for s in scored)
    chosen = [s for s in scored if s[0] == best]
    codes = sorted({s[2] for s in chosen})
    if len(codes) > 1:
        names = {s[2]: s[3] for s in chosen}
        listing = "; ".join(f"{code} ({names[code]})" for code in codes[:12])
        more = f"; and {len(codes) - 12} more" if len(codes) > 12 else ""
        raise AmbiguousError(f"{query!r} matches several agencies: {listing}{more}. Use a code or more words")
    code = codes[0]
    self_pairs = sorted({(s[1], code) for s in chosen})
    scope = AgencyScope(code=code, name=chosen[0][3], self_pairs=self_pairs)
    scope.lead_pairs = list(self_pairs) if direct else _related(conn, self_pairs, upward=True)
    scope.member_pairs = _related(conn, self_pairs, upward=False)
    return scope


def _related(conn: sqlite3.Connection, pairs: list[tuple[str, str]], upward: bool) -> list[tuple[str, str]]:
    """The agencies plus, recursively, the groups they belong to (upward) or their members."""
    values = ", ".join("(?, ?)" for _ in pairs)
    near, far = ("member_code", "group_code") if upward else ("group_code", "member_code")
    rows = conn.execute(
        f"""WITH RECURSIVE related(plan_id, code) AS (
              VALUES {values}
              UNION
              SELECT am.plan_id, am.{far} FROM agency_members am
              JOIN related r ON am.plan_id = r.plan_id AND am.{near} = r.code)
            SELECT plan_id, code FROM related""",  # noqa: S608 (fixed column names)
        [value for pair in pairs for value in pair],
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


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


def list_agencies(conn: sqlite3.Connection, plan_id: str | None = None) -> list[dict]:
    rows = conn.execute(
        """SELECT a.plan_id, a.code, a.name, a.name_en, a.kind,
             (SELECT count(*) FROM task_agencies ta WHERE ta.plan_id = a.plan_id AND ta.agency_code = a.code AND ta.role = 'lead'),
             (SELECT count(*) FROM task_agencies ta WHERE ta.plan_id = a.plan_id AND ta.agency_code = a.code AND ta.role = 'support'),
             (SELECT group_concat(member_code, ',') FROM (SELECT am.member_code FROM agency_members am
                JOIN agencies x ON x.plan_id = am.plan_id AND x.code = am.member_code
                WHERE am.plan_id = a.plan_id AND am.group_code = a.code ORDER BY x.seq)),
             (SELECT group_concat(group_code, ',') FROM (SELECT am.group_code FROM agency_members am
                JOIN agencies x ON x.plan_id = am.plan_id AND x.code = am.group_code
                WHERE am.plan_id = a.plan_id AND am.member_code = a.code ORDER BY x.seq)),
             a.note
           FROM agencies a WHERE (:plan IS NULL OR a.plan_id = :plan) ORDER BY a.plan_id, a.seq""",
        {"plan": plan_id},
    ).fetchall()
    return [
        {"plan": r[0], "code": r[1], "name": r[2], "name_en": r[3], "kind": r[4], "lead_tasks": r[5],
         "support_tasks": r[6], "members": _codes(r[7]), "groups": _codes(r[8]), "note": r[9]}
        for r in rows
    ]


def _codes(joined: str | None) -> list[str]:
    return joined.split(",") if joined else []


# ── Milestone state as of a date ────────────────────────────────────────────

def _plan_is(plan_id: str | None, alias: str = "m") -> str:
    """The plan filter on a table (milestone_report m by default): a plain equality when
    there is a plan (so its indexes serve), nothing otherwise."""
    return f"{alias}.plan_id = :plan" if plan_id is not None else "1 = 1"


def _values_cte(name: str, pairs: list[tuple[str, str]], params: dict) -> str:
    if not pairs:
        return f"{name}(plan_id, code) AS (SELECT NULL, NULL WHERE 0)"
    placeholders = []
    for index, (plan_id, code) in enumerate(pairs):
        params[f"{name}_p{index}"] = plan_id
        params[f"{name}_c{index}"] = code
        placeholders.append(f"(:{name}_p{index}, :{name}_c{index})")
    return f"{name}(plan_id, code) AS (VALUES {', '.join(placeholders)})"


def _scope_exists(alias: str, role_sql: str) -> str:
    return (f"EXISTS (SELECT 1 FROM task_agencies ta JOIN scope_lead s ON s.plan_id = ta.plan_id "
            f"AND s.code = ta.agency_code WHERE ta.plan_id = {alias}.plan_id AND ta.task_id = {alias}.task_id "
            f"AND {role_sql})")


def _role_sql(role: str) -> str:
    return {"lead": "ta.role = 'lead'", "support": "ta.role = 'support'", "any": "1 = 1"}[role]


def _unit_state_cte(name: str, source: str, status_index: str, also: str) -> str:
    """The CTE `name`: each unit of `source` with its state on :as_of, its current
    state when no event is dated later, else worked out from the events (source's
    last_id is the latest event on or before :as_of). `also` narrows a unit further."""
    def same_unit(a: str) -> str:
        return f"{a}.plan_id = ul.plan_id AND {a}.task_id = ul.task_id AND {a}.milestone = ul.label" + also.format(a=a)

    return f"""{name} AS (
  SELECT ul.plan_id, ul.task_id, ul.label, ul.due, ul.member,
    CASE WHEN ul.stale THEN e.status ELSE ul.now_status END AS status,
    CASE WHEN ul.stale THEN e.percent ELSE ul.now_percent END AS percent,
    CASE WHEN ul.stale THEN e.happened_on ELSE ul.now_on END AS last_on,
    CASE WHEN NOT ul.stale THEN ul.now_done_on WHEN e.status IS NOT 'done' THEN NULL
         ELSE {done_since_sql(same_unit, status_index, ":as_of")} END AS done_on
  FROM {source} ul LEFT JOIN events e ON e.id = ul.last_id
)"""


# On :as_of a milestone's row in milestone_report holds as it stands unless the milestone
# has an event dated later (then it is "stale", and worked out from the events).
CURRENT_ON_AS_OF = "(m.last_on IS NULL OR m.last_on <= :as_of)"
STALE_ON_AS_OF = "m.last_on > :as_of"

# A milestone's standing on :as_of from its due and done_on columns.
STANDING_SQL = ("CASE WHEN {a}done_on IS NOT NULL THEN CASE WHEN {a}done_on <= {a}due THEN 'done-on-time' "
                "ELSE 'done-late' END WHEN {a}due < :as_of THEN 'overdue' ELSE 'within-deadline' END")

STATE_CTES = """
ms AS (
  SELECT m.plan_id, m.task_id, m.label, m.due, m.per_member FROM milestone_report m WHERE {milestone_where}
),
-- A unit is what reports: the milestone itself, or each member of the group that
-- leads it. Its current state (milestone_now, unit_now) holds on :as_of unless it
-- has an event dated later; only those "stale" units are worked out from events.
single_last AS (
  SELECT ms.plan_id, ms.task_id, ms.label, ms.due, '' AS member, c.last_on AS now_on, c.status AS now_status,
    c.percent AS now_percent, c.done_on AS now_done_on, coalesce(c.last_on > :as_of, 0) AS stale,
    CASE WHEN c.last_on > :as_of THEN (
      SELECT e.id FROM events e INDEXED BY events_by_milestone
      WHERE e.plan_id = ms.plan_id AND e.task_id = ms.task_id AND e.milestone = ms.label
        AND e.happened_on <= :as_of ORDER BY e.happened_on DESC, e.id DESC LIMIT 1) END AS last_id
  FROM ms LEFT JOIN milestone_now c ON c.plan_id = ms.plan_id AND c.task_id = ms.task_id AND c.milestone = ms.label
  WHERE ms.per_member = 0
),
member_last AS (
  SELECT ms.plan_id, ms.task_id, ms.label, ms.due, tm.agency_code AS member, c.last_on AS now_on,
    c.status AS now_status, c.percent AS now_percent, c.done_on AS now_done_on,
    coalesce(c.last_on > :as_of, 0) AS stale,
    CASE WHEN c.last_on > :as_of THEN (
      SELECT e.id FROM events e INDEXED BY events_by_unit
      WHERE e.plan_id = ms.plan_id AND e.task_id = ms.task_id AND e.milestone = ms.label
        AND e.agency = tm.agency_code AND e.happened_on <= :as_of ORDER BY e.happened_on DESC, e.id DESC LIMIT 1)
    END AS last_id
  FROM ms JOIN task_members tm ON tm.plan_id = ms.plan_id AND tm.task_id = ms.task_id
  LEFT JOIN unit_now c ON c.plan_id = ms.plan_id AND c.task_id = ms.task_id AND c.milestone = ms.label
    AND c.agency = tm.agency_code
  WHERE ms.per_member = 1 {member_filter}
),
""" + _unit_state_cte("single_state", "single_last", "events_by_milestone_status", "") + ",\n" \
  + _unit_state_cte("member_state", "member_last", "events_by_unit_status", " AND {a}.agency = ul.member") + """,
unit_state AS (
  SELECT * FROM single_state UNION ALL SELECT * FROM member_state
),
-- A milestone's state from its units' (db.py states the rule once, for the trigger too).
ms_state AS (
  {current}SELECT plan_id, task_id, label, due, """ + one_unit_state_sql("") + """
  FROM single_state
  UNION ALL
  SELECT plan_id, task_id, label, due, """ + member_units_state_sql("") + """
  FROM member_state GROUP BY plan_id, task_id, label
),
-- The wide columns (titles) join last, onto the milestones that remain.
state AS (
  SELECT s.*, {standing} AS standing,
    r.lead, r.title, r.title_en, r.task_seq, r.per_member, r.label_vi, r.milestone_seq, r.due_day
  FROM ms_state s JOIN milestone_report r ON r.plan_id = s.plan_id AND r.task_id = s.task_id AND r.label = s.label
)
"""


def _state_query(milestone_where: list[str], params: dict, scope: AgencyScope | None, role: str = "lead",
                 all_units: bool = False) -> str:
    """The WITH clause that yields `state`: one row per milestone with its status as of :as_of.

    Without a scope, a milestone with no event dated after :as_of comes straight
    from milestone_report and only the others are worked out from their units;
    all_units=True works every milestone out (for callers that read unit_state,
    one row per reporting unit).
    """
    ctes = [_values_cte("scope_lead", scope.lead_pairs if scope else [], params),
            _values_cte("scope_member", scope.member_pairs if scope else [], params)]
    where = list(milestone_where)
    member_filter = current = ""
    if scope is not None:
        where.append(_scope_exists("m", _role_sql(role)))
        member_filter = ("AND EXISTS (SELECT 1 FROM scope_member sm WHERE sm.plan_id = tm.plan_id "
                         "AND sm.code = tm.agency_code)")
    elif not all_units:
        current = (f"SELECT plan_id, task_id, label, due, {REPORT_STATE_COLUMNS} "
                   f"FROM milestone_report m WHERE {' AND '.join(where) or '1 = 1'} "
                   f"AND {CURRENT_ON_AS_OF}\n  UNION ALL\n  ")
        where.append(STALE_ON_AS_OF)
    state = STATE_CTES.format(milestone_where=" AND ".join(where) or "1 = 1", member_filter=member_filter,
                              standing=STANDING_SQL.format(a="s."), current=current)
    return "WITH " + ",\n".join(ctes) + ",\n" + state


def _milestone_row(r: sqlite3.Row) -> dict:
    return {
        "task": r["task_id"], "plan": r["plan_id"], "title": r["title"], "title_en": r["title_en"],
        "milestone": r["label"], "due": r["due"], "lead": _codes(r["lead"]), "status": r["status"],
        "percent": r["percent"], "standing": r["standing"], "units_done": r["units_done"], "units": r["units"],
        "last_update": r["last_on"],
    }


OVERDUE_COLUMNS = ["task", "plan", "title", "title_en", "milestone", "due", "days_overdue", "lead", "status",
                   "percent", "standing", "units_done", "units", "last_update"]
UPCOMING_COLUMNS = ["task", "plan", "title", "title_en", "milestone", "due", "days_left", "lead", "status",
                    "percent", "standing", "units_done", "units", "last_update"]


def overdue(conn: sqlite3.Connection, as_of: date, *, plan_id: str | None = None,
            scope: AgencyScope | None = None, limit: int | None = None, line_sql=None):
    """Milestones due before as_of and not done by then, most overdue first (a generator
    of dicts in OVERDUE_COLUMNS).

    line_sql (render.csv_line_sql), given the columns and the SQL of their values,
    returns the SQL of one value that stands for the row; the generator then yields
    that value alone. A large CSV export gets its lines from SQLite that way, with no
    Python object for each field."""
    params: dict = {"as_of": as_of.isoformat(), "as_of_day": as_of.toordinal(), "plan": plan_id}
    where = ["m.due < :as_of", _plan_is(plan_id)]
    days = ":as_of_day - due_day"
    return _open_milestones(conn, where, params, scope, days, OVERDUE_COLUMNS, limit, line_sql)


def upcoming(conn: sqlite3.Connection, as_of: date, days: int, *, plan_id: str | None = None,
             scope: AgencyScope | None = None, limit: int | None = None, line_sql=None):
    """Milestones not done that fall due from as_of through as_of + days, soonest first
    (dicts in UPCOMING_COLUMNS; line_sql as for overdue)."""
    from datetime import timedelta

    params: dict = {"as_of": as_of.isoformat(), "as_of_day": as_of.toordinal(),
                    "until": (as_of + timedelta(days=days)).isoformat(), "plan": plan_id}
    where = ["m.due >= :as_of", "m.due <= :until", _plan_is(plan_id)]
    days_left = "due_day - :as_of_day"
    return _open_milestones(conn, where, params, scope, days_left, UPCOMING_COLUMNS, limit, line_sql)


def open_milestones_sql(where: list[str], params: dict, scope: AgencyScope | None, days_sql: str,
                        limit: int | None, line_sql=None, columns: list[str] = OVERDUE_COLUMNS) -> list[str]:
    """The SQL behind _open_milestones: [current, worked out] without a scope, else [worked out].
    Each returns the listing's 14 columns (or the one value line_sql makes of them),
    then due, plan_id, task_seq and milestone_seq as stored: the sort key."""
    values = ["task_id", "plan_id", "title", "title_en", "label", "due", days_sql, "lead", "status", "percent",
              STANDING_SQL.format(a=""), "units_done", "units", "last_on"]
    select = line_sql(columns, values) if line_sql else ", ".join(values)
    select += ", due, plan_id, task_seq, milestone_seq"
    tail = " ORDER BY due, plan_id, task_seq, milestone_seq" + (f" LIMIT {int(limit)}" if limit is not None else "")
    if scope is not None:
        return [_state_query(where, params, scope) + f"SELECT {select} FROM state WHERE status <> 'done'{tail}"]
    return [
        f"SELECT {select} FROM milestone_report m WHERE {' AND '.join(where)} AND m.status <> 'done' "  # noqa: S608
        f"AND {CURRENT_ON_AS_OF}{tail}",
        _state_query([*where, STALE_ON_AS_OF], params, None, all_units=True)
        + f"SELECT {select} FROM state WHERE status <> 'done'{tail}",
    ]


def _open_milestones(conn: sqlite3.Connection, where: list[str], params: dict, scope: AgencyScope | None,
                     days_sql: str, columns: list[str], limit: int | None, line_sql=None):
    """Milestones matching `where` and not done on :as_of, in report order (a generator of
    dicts, or of line_sql's one value a row).

    Without an agency scope, a milestone none of whose events is dated after
    :as_of is read as it stands in milestone_report, in that table's own order
    (no sort, one pass); the others, when :as_of is in the past, are worked out
    from their events and merged in. With a scope only some members of a group
    count, so every milestone is worked out from its units.
    """
    import heapq
    from itertools import islice
    from operator import itemgetter

    queries = open_milestones_sql(where, params, scope, days_sql, limit, line_sql, columns)
    began = False
    if len(queries) == 2:
        # Both queries must read one snapshot: an event committed between them could
        # otherwise move a milestone from one list to the other (listed twice, or not at all).
        if not conn.in_transaction:
            conn.execute("BEGIN")
            began = True
        if conn.execute("SELECT 1 FROM events INDEXED BY events_by_day WHERE happened_on > :as_of LIMIT 1",
                        params).fetchone() is None:
            # No report is dated after :as_of (a report as of today, say): every row
            # is current, and there is nothing to work out or merge.
            rows = conn.execute(queries[0], params)
        else:
            # Each cursor read through a generator of its own: heapq.merge, when closed early,
            # would close a bare cursor, and on a connection already closed that raises.
            current, worked_out = ((row for row in conn.execute(sql, params)) for sql in queries)
            rows = heapq.merge(current, worked_out, key=itemgetter(-4, -3, -2, -1))
            if limit is not None:
                rows = islice(rows, limit)
    else:
        rows = conn.execute(queries[0], params)
    try:
        if line_sql:
            yield from map(itemgetter(0), rows)  # no Python line per row
            return
        for r in rows:
            row = dict(zip(columns, r))
            row["lead"] = _codes(row["lead"])
            yield row
    finally:
        if began:
            _release_snapshot(conn)


def _release_snapshot(conn: sqlite3.Connection) -> None:
    """End the read transaction a listing began. The listing may be finished only after
    the command closed the connection (the reader went away mid-listing, `| head`):
    the snapshot went with the connection, and there is nothing to say about it."""
    try:
        if conn.in_transaction:
            conn.execute("COMMIT")  # only read: this just releases the snapshot
    except sqlite3.ProgrammingError:
        pass


def milestone_states(conn: sqlite3.Connection, as_of: date, *, plan_id: str | None = None,
                     scope: AgencyScope | None = None, due_from: date | None = None,
                     due_until: date | None = None, task_id: str | None = None) -> list[dict]:
    """Every milestone (optionally of one task, or within a due window) with status and standing."""
    params: dict = {"as_of": as_of.isoformat(), "plan": plan_id, "task": task_id,
                    "due_from": due_from.isoformat() if due_from else None,
                    "due_until": due_until.isoformat() if due_until else None}
    where = [_plan_is(plan_id)]
    if due_from is not None:
        where.append("m.due >= :due_from")
    if due_until is not None:
        where.append("m.due <= :due_until")
    if task_id is not None:
        where.append("m.task_id = :task")
    sql = _state_query(where, params, scope) + "SELECT * FROM state ORDER BY due, plan_id, task_seq, milestone_seq"
    return [_milestone_row(r) for r in _row_cursor(conn, sql, params)]


def _row_cursor(conn: sqlite3.Connection, sql: str, params) -> sqlite3.Cursor:
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    return cursor.execute(sql, params)


# ── Tasks ───────────────────────────────────────────────────────────────────

TASK_COLUMNS = ["task", "plan", "section", "title", "title_en", "lead", "support", "via", "time_text",
                "next_due", "status", "percent", "standing", "milestones"]


def list_tasks(conn: sqlite3.Connection, as_of: date, *, plan_id: str | None = None,
               scope: AgencyScope | None = None, role: str = "lead", standing: str | None = None) -> list[dict]:
    """Tasks with their standing on as_of: the worst standing of their milestones
    (overdue, then within deadline, then done late, then done on time); tasks
    with no due date are ongoing."""
    params: dict = {"as_of": as_of.isoformat(), "plan": plan_id}
    where = [_plan_is(plan_id)]
    task_scope = ""
    via = "''"
    if scope is not None:
        task_scope = "AND " + _scope_exists("t", _role_sql(role))
        import json

        params["self_plan_codes"] = json.dumps([f"{p}|{c}" for p, c in scope.self_pairs])
        via = f"""coalesce((SELECT group_concat(DISTINCT ta.agency_code) FROM task_agencies ta
                   JOIN scope_lead s ON s.plan_id = ta.plan_id AND s.code = ta.agency_code
                   WHERE ta.plan_id = t.plan_id AND ta.task_id = t.task_id AND {_role_sql(role)}
                     AND ta.plan_id || '|' || ta.agency_code NOT IN (SELECT value FROM json_each(:self_plan_codes))), '')"""
    sql = _state_query(where, params, scope, role) + f""",
    task_agg AS (
      SELECT plan_id, task_id, count(*) AS n,
        sum(standing = 'overdue') AS n_overdue, sum(standing = 'within-deadline') AS n_open,
        sum(standing = 'done-late') AS n_late,
        -- the one min() in this query: SQLite takes the bare columns from its row
        -- (status and percent of the next milestone not done)
        min(CASE WHEN status <> 'done' THEN due END) AS next_due, status AS next_status, percent AS next_percent
      FROM state GROUP BY plan_id, task_id
    ),
    ongoing_last AS (
      SELECT t.plan_id, t.task_id, (SELECT e.id FROM events e WHERE e.plan_id = t.plan_id AND e.task_id = t.task_id
          AND e.milestone = '' AND e.happened_on <= :as_of ORDER BY e.happened_on DESC, e.id DESC LIMIT 1) AS last_id
      FROM tasks t WHERE NOT EXISTS (SELECT 1 FROM milestones m WHERE m.plan_id = t.plan_id AND m.task_id = t.task_id)
    )
    SELECT t.task_id, t.plan_id, t.section, t.title, t.title_en, t.lead_codes,
      (SELECT group_concat(agency_code, ',') FROM (SELECT agency_code FROM task_agencies x
         WHERE x.plan_id = t.plan_id AND x.task_id = t.task_id AND x.role = 'support' ORDER BY x.seq)) AS support,
      {via} AS via, t.time_text, a.next_due,
      CASE WHEN a.n IS NULL THEN coalesce(oe.status, 'not-started')
           WHEN a.next_due IS NULL THEN 'done' ELSE a.next_status END AS status,
      CASE WHEN a.n IS NULL THEN coalesce(oe.percent, CASE WHEN oe.status IS NULL THEN 0 END)
           WHEN a.next_due IS NULL THEN 100 ELSE a.next_percent END AS percent,
      CASE WHEN a.n IS NULL THEN 'ongoing' WHEN a.n_overdue > 0 THEN 'overdue'
           WHEN a.n_open > 0 THEN 'within-deadline' WHEN a.n_late > 0 THEN 'done-late'
           ELSE 'done-on-time' END AS standing,
      coalesce(a.n, 0) AS milestones
    FROM tasks t
    LEFT JOIN task_agg a ON a.plan_id = t.plan_id AND a.task_id = t.task_id
    LEFT JOIN ongoing_last ol ON ol.plan_id = t.plan_id AND ol.task_id = t.task_id
    LEFT JOIN events oe ON oe.id = ol.last_id
    WHERE {_plan_is(plan_id, "t")} {task_scope}
    """
    if standing:
        sql += " AND standing = :standing"
        params["standing"] = standing
    sql += " ORDER BY t.plan_id, t.seq"
    rows = []
    for r in conn.execute(sql, params):  # columns in TASK_COLUMNS order
        row = dict(zip(TASK_COLUMNS, r))
        row["lead"], row["support"], row["via"] = _codes(r[5]), _codes(r[6]), _codes(r[7])
        rows.append(row)
    return rows


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
    and for group-led tasks each member's report per milestone."""
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
    where = ["m.plan_id = :plan", "m.task_id = :task"]
    milestones = [
        {"label": r["label"], "label_vi": r["label_vi"], "due": r["due"], "status": r["status"],
         "percent": r["percent"], "standing": r["standing"], "done_on": r["done_on"],
         "units_done": r["units_done"], "units": r["units"]}
        for r in _row_cursor(conn, _state_query(where, params, None)
                             + "SELECT * FROM state ORDER BY milestone_seq", params)
    ]
    members = []
    if t["per_member"]:
        sql = _state_query(where, params, None, all_units=True) + """
            SELECT us.label, us.member, a.name, us.status, us.percent, us.last_on, us.done_on, m.due
            FROM unit_state us JOIN agencies a ON a.plan_id = us.plan_id AND a.code = us.member
            JOIN milestones m ON m.plan_id = us.plan_id AND m.task_id = us.task_id AND m.label = us.label
            ORDER BY m.seq, (SELECT seq FROM agencies x WHERE x.plan_id = us.plan_id AND x.code = us.member)"""
        from civreform.deadlines import standing as standing_of

        for r in _row_cursor(conn, sql, params):
            members.append({
                "milestone": r[0], "agency": r[1], "name": r[2], "status": r[3] or "not-started",
                "percent": 100 if r[3] == "done" else (r[4] if r[4] is not None else 0), "last_update": r[5],
                "standing": standing_of(date.fromisoformat(r[7]), date.fromisoformat(r[6]) if r[6] else None, as_of),
            })
    ongoing = not milestones
    ongoing_state = None
    if ongoing:
        ongoing_state = conn.execute(
            """SELECT status, percent, happened_on FROM events WHERE plan_id = ? AND task_id = ? AND milestone = ''
               AND happened_on <= ? ORDER BY happened_on DESC, id DESC LIMIT 1""",
            (plan_id, task_id, as_of.isoformat())).fetchone()
    standings = [m["standing"] for m in milestones]
    overall = ("ongoing" if ongoing else "overdue" if "overdue" in standings else "within-deadline"
               if "within-deadline" in standings else "done-late" if "done-late" in standings else "done-on-time")
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
    }
    if ongoing:
        detail["status"] = ongoing_state[0] if ongoing_state else "not-started"
        detail["percent"] = (ongoing_state[1] if ongoing_state else 0)
    return detail


# ── History ─────────────────────────────────────────────────────────────────

HISTORY_COLUMNS = ["id", "plan", "task", "milestone", "agency", "status", "percent", "on", "recorded_at",
                   "note", "evidence", "by", "source"]


def history(conn: sqlite3.Connection, *, plan_id: str | None = None, task_id: str | None = None,
            agency_codes: list[tuple[str, str]] | None = None, since: date | None = None,
            until: date | None = None):
    """Every progress event, oldest first (by the day it happened, then by when it was recorded)."""
    params: dict = {"plan": plan_id, "task": task_id, "since": since.isoformat() if since else None,
                    "until": until.isoformat() if until else None}
    # Only the filters given, each a plain comparison, so that an index serves them.
    where = [condition for value, condition in ((plan_id, "plan_id = :plan"), (task_id, "task_id = :task"),
                                                (since, "happened_on >= :since"), (until, "happened_on <= :until"))
             if value is not None] or ["1 = 1"]
    if agency_codes is not None:
        import json

        params["agencies"] = json.dumps([f"{p}|{c}" for p, c in agency_codes])
        where.append("plan_id || '|' || agency IN (SELECT value FROM json_each(:agencies))")
    sql = f"""SELECT id, plan_id, task_id, milestone, agency, status, percent, happened_on, recorded_at, note,
                     evidence, recorded_by, source FROM events WHERE {' AND '.join(where)}
              ORDER BY happened_on, id"""  # noqa: S608
    for r in conn.execute(sql, params):
        yield dict(zip(HISTORY_COLUMNS, r))


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
               scope: AgencyScope | None = None) -> list[dict]:
    """Milestones not done as of as_of, one row per reporting agency for group-led
    tasks (the rows of a spreadsheet template)."""
    params: dict = {"as_of": as_of.isoformat(), "plan": plan_id}
    where = [_plan_is(plan_id)]
    sql = _state_query(where, params, scope, all_units=True) + """
        SELECT us.plan_id, us.task_id, us.label, us.member, t.title, us.due
        FROM unit_state us JOIN tasks t ON t.plan_id = us.plan_id AND t.task_id = us.task_id
        JOIN milestones m ON m.plan_id = us.plan_id AND m.task_id = us.task_id AND m.label = us.label
        WHERE us.status IS NOT 'done'
        ORDER BY us.due, us.plan_id, t.seq, m.seq,
                 (SELECT seq FROM agencies a WHERE a.plan_id = us.plan_id AND a.code = us.member)"""
    own = scope.code if scope else ""
    return [{"plan": r[0], "task": r[1], "milestone": r[2], "agency": r[3] or own, "title": r[4], "due": r[5]}
            for r in conn.execute(sql, params)]


# ── Summary ─────────────────────────────────────────────────────────────────

def overdue_by_agency(conn: sqlite3.Connection, as_of: date, plan_id: str | None = None) -> list[dict]:
    """Agencies ranked by the overdue milestones they owe: a group-led milestone
    counts once for each member that has not reported done; others count for
    their lead agencies."""
    params: dict = {"as_of": as_of.isoformat(), "plan": plan_id}
    where = ["m.due < :as_of", _plan_is(plan_id)]
    sql = _state_query(where, params, None, all_units=True) + """,
    owed AS (
      SELECT us.plan_id, us.member AS code FROM unit_state us
      WHERE us.member <> '' AND us.status IS NOT 'done'
      UNION ALL
      SELECT us.plan_id, ta.agency_code FROM unit_state us
      JOIN task_agencies ta ON ta.plan_id = us.plan_id AND ta.task_id = us.task_id AND ta.role = 'lead'
      WHERE us.member = '' AND us.status IS NOT 'done'
    )
    SELECT o.plan_id, o.code, a.name, a.name_en, count(*) AS n FROM owed o
    JOIN agencies a ON a.plan_id = o.plan_id AND a.code = o.code
    GROUP BY o.plan_id, o.code ORDER BY n DESC, o.plan_id, a.seq"""
    return [{"plan": r[0], "agency": r[1], "name": r[2], "name_en": r[3], "overdue": r[4]}
            for r in conn.execute(sql, params)]


# The standings of milestones with a due date (a task with none is "ongoing").
DATED_STANDINGS = ("done-on-time", "done-late", "within-deadline", "overdue")


def standing_counts(conn: sqlite3.Connection, as_of: date, plan_id: str | None = None) -> dict[str, int]:
    """How many milestones stand in each category on as_of, counted in SQL."""
    params: dict = {"as_of": as_of.isoformat(), "plan": plan_id}
    sql = (_state_query([_plan_is(plan_id)], params, None)
           + "SELECT standing, count(*) FROM state GROUP BY standing")
    counts = {standing: 0 for standing in DATED_STANDINGS}
    counts.update(dict(conn.execute(sql, params).fetchall()))
    counts["ongoing"] = conn.execute(
        f"""SELECT count(*) FROM tasks t WHERE {_plan_is(plan_id, "t")}
           AND NOT EXISTS (SELECT 1 FROM milestones m WHERE m.plan_id = t.plan_id AND m.task_id = t.task_id)""",
        {"plan": plan_id}).fetchone()[0]
    return counts


def summary(conn: sqlite3.Connection, as_of: date, days: int, plan_id: str | None = None) -> dict:
    """Everything the weekly mail holds, as plain data. Each part is one query over
    an index (milestone_report by due date, events by day)."""
    from datetime import timedelta

    counts = standing_counts(conn, as_of, plan_id)
    dated = sum(counts[key] for key in DATED_STANDINGS)
    done = counts["done-on-time"] + counts["done-late"]
    start = as_of - timedelta(days=days - 1)

    def open_due(first: date, last: date) -> list[dict]:
        return [{key: state[key] for key in ("plan", "task", "milestone", "due", "title", "title_en", "lead",
                                             "status", "percent", "units_done", "units")}
                for state in milestone_states(conn, as_of, plan_id=plan_id, due_from=first, due_until=last)
                if state["status"] != "done"]

    ahead = open_due(as_of, as_of + timedelta(days=max(days, 30)))  # one query serves both look-aheads
    plans = list_plans(conn, counts=False)
    if plan_id:
        plans = [p for p in plans if p["plan"] == plan_id]
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
        "changes": list(history(conn, plan_id=plan_id, since=start, until=as_of)),
        # due in the last N days and not done by the day before as_of: newly overdue
        "became_overdue": open_due(as_of - timedelta(days=days), as_of - timedelta(days=1)),
        "due_soon": [item for item in ahead if item["due"] <= (as_of + timedelta(days=days)).isoformat()],
        "due_30": [item for item in ahead if item["due"] <= (as_of + timedelta(days=30)).isoformat()],
        "agencies_by_overdue": overdue_by_agency(conn, as_of, plan_id),
    }
