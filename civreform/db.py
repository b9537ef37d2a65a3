"""The only module that opens SQLite: where the file is, connection setup, migrations.

The schema version lives in PRAGMA user_version, so a command on an up-to-date
database checks it with one read and never imports sqlite-utils; only a database
that needs migrating pays for that import.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from contextlib import contextmanager
from pathlib import Path

from civreform.errors import DatabaseError

DEFAULT_BUSY_TIMEOUT_MS = 30_000


def busy_timeout_ms() -> int:
    """How long a command waits for another writer's lock (CIVREFORM_BUSY_TIMEOUT_MS, default 30 s;
    unset or empty means the default). A value that is not a whole number of milliseconds
    SQLite can take (a C int) is refused, not quietly replaced by the default."""
    text = os.environ.get("CIVREFORM_BUSY_TIMEOUT_MS", "").strip()
    if not text:
        return DEFAULT_BUSY_TIMEOUT_MS
    longest = 2**31 - 1
    if not (text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= longest):
        from civreform.errors import SettingError

        raise SettingError(f"CIVREFORM_BUSY_TIMEOUT_MS={text!r}: not a number of milliseconds from 0 to "
                           f"{longest} (default {DEFAULT_BUSY_TIMEOUT_MS})")
    return int(text)
OUR_TABLES = {"plans", "agencies", "agency_members", "tasks", "task_agencies", "task_members",
              "milestones", "events", "unit_now", "milestone_now", "milestone_report",
              "_sqlite_migrations", "sqlite_sequence"}


def default_db_path() -> Path:
    """The platform's per-user data directory (XDG on Linux), file civreform.db."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "civreform" / "civreform.db"


def resolve_db_path(option: str | None) -> tuple[Path, bool]:
    """--db, else CIVREFORM_DB, else the user data directory. Returns (path, is_default)."""
    if option:
        return Path(option), False
    if os.environ.get("CIVREFORM_DB"):
        return Path(os.environ["CIVREFORM_DB"]), False
    return default_db_path(), True


def _split_sql(script: str) -> list[str]:
    """Split a script into statements, keeping trigger bodies whole."""
    statements, current = [], []
    for line in script.splitlines():
        if not current and (not line.strip() or line.strip().startswith("--")):
            continue
        current.append(line)
        candidate = "\n".join(current)
        if sqlite3.complete_statement(candidate):
            statements.append(candidate)
            current = []
    if current and "\n".join(current).strip():
        statements.append("\n".join(current))
    return statements


# ── Migrations ──────────────────────────────────────────────────────────────
# Forward only, never drop-and-recreate. Each step is SQL run in the same
# transaction as the record that it ran (sqlite-utils' Migrations) and as the
# bump of user_version.

SCHEMA_V1 = """
CREATE TABLE plans (
    plan_id      TEXT PRIMARY KEY,
    number       TEXT NOT NULL,
    issued       TEXT NOT NULL,
    title        TEXT NOT NULL,
    title_en     TEXT NOT NULL DEFAULT '',
    period_start TEXT,
    period_end   TEXT,
    meta         TEXT NOT NULL DEFAULT '{}',
    source       TEXT NOT NULL DEFAULT '',
    loaded_at    TEXT NOT NULL
);
CREATE TABLE agencies (
    plan_id    TEXT NOT NULL REFERENCES plans(plan_id),
    code       TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    name       TEXT NOT NULL,
    name_en    TEXT NOT NULL DEFAULT '',
    kind       TEXT NOT NULL,
    aliases    TEXT NOT NULL DEFAULT '[]',
    note       TEXT NOT NULL DEFAULT '',
    search_key TEXT NOT NULL,
    PRIMARY KEY (plan_id, code)
);
CREATE TABLE agency_members (
    plan_id     TEXT NOT NULL,
    group_code  TEXT NOT NULL,
    member_code TEXT NOT NULL,
    PRIMARY KEY (plan_id, group_code, member_code)
);
CREATE INDEX agency_members_by_member ON agency_members (plan_id, member_code);
CREATE TABLE tasks (
    plan_id      TEXT NOT NULL REFERENCES plans(plan_id),
    task_id      TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    section      TEXT NOT NULL,
    title        TEXT NOT NULL,
    title_en     TEXT NOT NULL DEFAULT '',
    content      TEXT NOT NULL,
    content_en   TEXT NOT NULL DEFAULT '',
    lead_text    TEXT NOT NULL DEFAULT '',
    support_text TEXT NOT NULL DEFAULT '',
    time_text    TEXT NOT NULL DEFAULT '',
    deadline     TEXT NOT NULL DEFAULT '[]',
    note         TEXT NOT NULL DEFAULT '',
    target       TEXT,
    per_member   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (plan_id, task_id)
);
CREATE TABLE task_agencies (
    plan_id     TEXT NOT NULL,
    task_id     TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('lead', 'support')),
    agency_code TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    PRIMARY KEY (plan_id, task_id, role, agency_code)
);
CREATE INDEX task_agencies_by_agency ON task_agencies (plan_id, agency_code, role);
-- Tasks led by a group with known members are reported member by member:
-- one row per member that owes its own report.
CREATE TABLE task_members (
    plan_id     TEXT NOT NULL,
    task_id     TEXT NOT NULL,
    agency_code TEXT NOT NULL,
    via         TEXT NOT NULL,
    PRIMARY KEY (plan_id, task_id, agency_code)
);
CREATE INDEX task_members_by_agency ON task_members (plan_id, agency_code);
CREATE TABLE milestones (
    plan_id  TEXT NOT NULL,
    task_id  TEXT NOT NULL,
    label    TEXT NOT NULL,
    label_vi TEXT,
    due      TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    PRIMARY KEY (plan_id, task_id, label)
);
CREATE INDEX milestones_by_due ON milestones (due);
-- Progress: append-only, keyed by natural keys (no foreign keys), so that a
-- reload of the plan can never delete or rewrite it.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id     TEXT NOT NULL,
    task_id     TEXT NOT NULL,
    milestone   TEXT NOT NULL,
    agency      TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL CHECK (status IN ('not-started', 'in-progress', 'done', 'blocked')),
    percent     INTEGER CHECK (percent BETWEEN 0 AND 100),
    happened_on TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    evidence    TEXT NOT NULL DEFAULT '',
    recorded_by TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_by_unit ON events (plan_id, task_id, milestone, agency, happened_on, id);
CREATE INDEX events_by_milestone ON events (plan_id, task_id, milestone, happened_on, id);
CREATE INDEX events_by_day ON events (happened_on);
CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'progress events are append-only: record a correction instead'); END;
CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'progress events are append-only: record a correction instead'); END;

-- Views for sqlite3 and Datasette users.
CREATE VIEW milestone_view AS
SELECT m.plan_id, m.task_id, t.title, t.title_en, m.label AS milestone, m.due,
       (SELECT group_concat(agency_code, ',') FROM (SELECT agency_code FROM task_agencies ta
         WHERE ta.plan_id = m.plan_id AND ta.task_id = m.task_id AND ta.role = 'lead' ORDER BY ta.seq)) AS lead,
       (SELECT group_concat(name, '; ') FROM (SELECT a.name FROM task_agencies ta
         JOIN agencies a ON a.plan_id = ta.plan_id AND a.code = ta.agency_code
         WHERE ta.plan_id = m.plan_id AND ta.task_id = m.task_id AND ta.role = 'lead' ORDER BY ta.seq)) AS lead_names,
       t.time_text
FROM milestones m JOIN tasks t ON t.plan_id = m.plan_id AND t.task_id = m.task_id;
CREATE VIEW task_view AS
SELECT t.plan_id, t.task_id, t.seq, t.section, t.title, t.title_en, t.lead_text, t.support_text, t.time_text,
       (SELECT group_concat(agency_code, ',') FROM (SELECT agency_code FROM task_agencies ta
         WHERE ta.plan_id = t.plan_id AND ta.task_id = t.task_id AND ta.role = 'lead' ORDER BY ta.seq)) AS lead,
       (SELECT group_concat(agency_code, ',') FROM (SELECT agency_code FROM task_agencies ta
         WHERE ta.plan_id = t.plan_id AND ta.task_id = t.task_id AND ta.role = 'support' ORDER BY ta.seq)) AS support,
       (SELECT min(due) FROM milestones m WHERE m.plan_id = t.plan_id AND m.task_id = t.task_id) AS first_due,
       (SELECT max(due) FROM milestones m WHERE m.plan_id = t.plan_id AND m.task_id = t.task_id) AS last_due
FROM tasks t;
CREATE VIEW latest_progress_view AS
SELECT e.* FROM events e
WHERE e.id = (SELECT e2.id FROM events e2
              WHERE e2.plan_id = e.plan_id AND e2.task_id = e.task_id
                AND e2.milestone = e.milestone AND e2.agency = e.agency
              ORDER BY e2.happened_on DESC, e2.id DESC LIMIT 1);
CREATE VIEW orphan_event_view AS
SELECT e.* FROM events e
WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.plan_id = e.plan_id AND t.task_id = e.task_id)
   OR (e.milestone <> '' AND NOT EXISTS (SELECT 1 FROM milestones m
        WHERE m.plan_id = e.plan_id AND m.task_id = e.task_id AND m.label = e.milestone))
   OR (e.milestone = '' AND EXISTS (SELECT 1 FROM milestones m
        WHERE m.plan_id = e.plan_id AND m.task_id = e.task_id));
"""

# Indexes that let "when was this milestone done" be found by index seeks: the
# latest not-done report, then the first done report after it.
STATUS_INDEXES_V2 = """
CREATE INDEX events_by_milestone_status ON events (plan_id, task_id, milestone, status, happened_on);
CREATE INDEX events_by_unit_status ON events (plan_id, task_id, milestone, agency, status, happened_on);
"""

# Each task's lead codes, in the plan's order, kept beside it: reports print them
# on every row, and a per-row ordered subquery cost more than the rest of the row.
LEAD_CODES_V3 = """
ALTER TABLE tasks ADD COLUMN lead_codes TEXT NOT NULL DEFAULT '';
UPDATE tasks SET lead_codes = coalesce((SELECT group_concat(agency_code, ',') FROM (
    SELECT ta.agency_code FROM task_agencies ta WHERE ta.plan_id = tasks.plan_id AND ta.task_id = tasks.task_id
    AND ta.role = 'lead' ORDER BY ta.seq)), '');
"""


def done_since_sql(same_unit, index_status: str, as_of: str | None = None) -> str:
    """When a unit whose latest report is "done" was done: the first "done" on or after
    its last report that was not "done" (a later "done" only adds evidence). The one
    statement of that rule, for the trigger and for reports as of a past day.
    `same_unit(alias)` ties events under that alias to the unit; with `as_of` (an SQL
    expression) only reports on or before it count."""
    def until(alias: str) -> str:
        return f" AND {alias}.happened_on <= {as_of}" if as_of else ""

    return f"""(
      SELECT min(d.happened_on) FROM events d INDEXED BY {index_status}
      WHERE {same_unit("d")} AND d.status = 'done'{until("d")} AND d.happened_on >= coalesce((
        SELECT max(o.happened_on) FROM events o INDEXED BY {index_status}
        WHERE {same_unit("o")} AND o.status IN ('not-started', 'in-progress', 'blocked'){until("o")}), ''))"""


def _current_state_select(key: list[str], index_status: str) -> str:
    """The state a unit is in after all its events: the latest event (by day, then by
    order of recording), and when it is done, the day given by done_since_sql.
    `key` names the unit's columns in events."""
    def same_unit(alias: str) -> str:
        return " AND ".join(f"{alias}.{column} = e.{column}" for column in key)

    return f"""
  SELECT {", ".join(f"e.{column}" for column in key)}, e.happened_on, e.id, e.status, e.percent,
    CASE WHEN e.status = 'done' THEN {done_since_sql(same_unit, index_status)} END"""


_UNIT_KEY = ["plan_id", "task_id", "milestone", "agency"]
_MILESTONE_KEY = ["plan_id", "task_id", "milestone"]
_UNIT_STATE = _current_state_select(_UNIT_KEY, "events_by_unit_status")
_MILESTONE_STATE = _current_state_select(_MILESTONE_KEY, "events_by_milestone_status")


def _latest_for(key: list[str], source: str) -> str:
    return (" AND ".join(f"e.{column} = {source}.{column}" for column in key)
            + " ORDER BY e.happened_on DESC, e.id DESC LIMIT 1")


# Every unit's current state worked out from all the events (to fill and to check the tables).
_UNIT_STATE_FROM_EVENTS = f"""{_UNIT_STATE}
  FROM (SELECT DISTINCT plan_id, task_id, milestone, agency FROM events) k
  JOIN events e ON e.id = (SELECT e.id FROM events e INDEXED BY events_by_unit WHERE {_latest_for(_UNIT_KEY, "k")})"""
_MILESTONE_STATE_FROM_EVENTS = f"""{_MILESTONE_STATE}
  FROM (SELECT DISTINCT plan_id, task_id, milestone FROM events) k
  JOIN events e ON e.id = (SELECT e.id FROM events e INDEXED BY events_by_milestone WHERE {_latest_for(_MILESTONE_KEY, "k")})"""


# A milestone's state from its units' states (status, percent, last_on and done_on of
# rows prefixed `c`): one unit as it is, or every member of the leading group (one row
# each, aggregated) -- done when all members are, blocked when any is, its percent the
# members' average. Used by the trigger, by load, and by reports as of a past day.
REPORT_STATE_COLUMNS = "units, units_done, status, percent, last_on, done_on"


def one_unit_state_sql(c: str) -> str:
    return f"""1 AS units, CAST({c}status IS 'done' AS INTEGER) AS units_done,
    coalesce({c}status, 'not-started') AS status,
    CASE WHEN {c}status = 'done' THEN 100 WHEN {c}status IS NULL OR {c}status = 'not-started'
         THEN coalesce({c}percent, 0) ELSE {c}percent END AS percent, {c}last_on AS last_on, {c}done_on AS done_on"""


def member_units_state_sql(c: str) -> str:
    return f"""count(*) AS units, sum({c}status IS 'done') AS units_done,
    CASE WHEN sum({c}status IS 'done') = count(*) THEN 'done' WHEN sum({c}status IS 'blocked') > 0 THEN 'blocked'
         WHEN sum({c}status IN ('in-progress', 'done')) > 0 THEN 'in-progress' ELSE 'not-started' END AS status,
    CAST(round(avg(CASE WHEN {c}status = 'done' THEN 100 ELSE coalesce({c}percent, 0) END)) AS INTEGER) AS percent,
    max({c}last_on) AS last_on, CASE WHEN sum({c}status IS 'done') = count(*) THEN max({c}done_on) END AS done_on"""


_ONE_UNIT = one_unit_state_sql("c.")
_MEMBER_UNITS = member_units_state_sql("c.")

# Each unit's current state (one row per task, milestone and reporting agency, and one
# per milestone whoever reported), kept by a trigger on every insert into events.
# Reports as of a day on or after a unit's latest event read it in one lookup instead
# of three index searches over the events; earlier days still work from the events.
# It holds nothing that the events do not: `civreform check` recomputes and compares.
CURRENT_STATE_V4 = f"""
DROP INDEX milestones_by_due;
CREATE TABLE unit_now (
    plan_id TEXT NOT NULL, task_id TEXT NOT NULL, milestone TEXT NOT NULL, agency TEXT NOT NULL,
    last_on TEXT NOT NULL, last_id INTEGER NOT NULL, status TEXT NOT NULL, percent INTEGER, done_on TEXT,
    PRIMARY KEY (plan_id, task_id, milestone, agency)
) WITHOUT ROWID;
CREATE TABLE milestone_now (
    plan_id TEXT NOT NULL, task_id TEXT NOT NULL, milestone TEXT NOT NULL,
    last_on TEXT NOT NULL, last_id INTEGER NOT NULL, status TEXT NOT NULL, percent INTEGER, done_on TEXT,
    PRIMARY KEY (plan_id, task_id, milestone)
) WITHOUT ROWID;
INSERT INTO unit_now {_UNIT_STATE_FROM_EVENTS};
INSERT INTO milestone_now {_MILESTONE_STATE_FROM_EVENTS};
-- Every milestone in the order reports list them, with what they print and its
-- current state: a report as of today reads it front to back, with no sort. (It
-- takes over from milestones_by_due, which nothing reads any more.)
CREATE TABLE milestone_report (
    due TEXT NOT NULL, plan_id TEXT NOT NULL, task_seq INTEGER NOT NULL, milestone_seq INTEGER NOT NULL,
    task_id TEXT NOT NULL, label TEXT NOT NULL, label_vi TEXT, title TEXT NOT NULL, title_en TEXT NOT NULL,
    lead TEXT NOT NULL, per_member INTEGER NOT NULL,
    due_day INTEGER NOT NULL,  -- the due date as a day number (Python's date.toordinal()), for day counts
    units INTEGER NOT NULL, units_done INTEGER NOT NULL, status TEXT NOT NULL, percent INTEGER,
    last_on TEXT, done_on TEXT,
    PRIMARY KEY (due, plan_id, task_seq, milestone_seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX milestone_report_by_key ON milestone_report (plan_id, task_id, label);
CREATE TRIGGER events_keep_current_state AFTER INSERT ON events
BEGIN
  INSERT OR REPLACE INTO unit_now {_UNIT_STATE}
    FROM events e INDEXED BY events_by_unit WHERE {_latest_for(_UNIT_KEY, "NEW")};
  INSERT OR REPLACE INTO milestone_now {_MILESTONE_STATE}
    FROM events e INDEXED BY events_by_milestone WHERE {_latest_for(_MILESTONE_KEY, "NEW")};
  UPDATE milestone_report SET ({REPORT_STATE_COLUMNS}) = (
      SELECT {_ONE_UNIT} FROM milestone_now c
      WHERE c.plan_id = NEW.plan_id AND c.task_id = NEW.task_id AND c.milestone = NEW.milestone)
    WHERE plan_id = NEW.plan_id AND task_id = NEW.task_id AND label = NEW.milestone AND per_member = 0;
  UPDATE milestone_report SET ({REPORT_STATE_COLUMNS}) = (
      SELECT {_MEMBER_UNITS} FROM task_members tm
      LEFT JOIN unit_now c ON c.plan_id = tm.plan_id AND c.task_id = tm.task_id AND c.milestone = NEW.milestone
        AND c.agency = tm.agency_code
      WHERE tm.plan_id = NEW.plan_id AND tm.task_id = NEW.task_id)
    WHERE plan_id = NEW.plan_id AND task_id = NEW.task_id AND label = NEW.milestone AND per_member = 1;
END;
"""


def due_day_sql(due: str) -> str:
    """The due date `due` (an SQL expression) as a day number, Python's date.toordinal()."""
    return f"CAST(julianday({due}) - 1721424.5 AS INTEGER)"


def rebuild_milestone_report(conn: sqlite3.Connection, plan_id: str | None = None,
                             table: str = "milestone_report") -> None:
    """Write milestone_report (or `table`) for one plan (or all) from the milestones
    and the units' current state. Migrations 0004 and 0005 fill the report with it
    from the milestones table; since 0005 `milestones` is a view of the report, and
    `check` uses it to work out what the report should hold."""
    where = "m.plan_id = :plan" if plan_id is not None else "1 = 1"
    params = {"plan": plan_id}
    conn.execute(f"DELETE FROM {table}" + (" WHERE plan_id = :plan" if plan_id is not None else ""),  # noqa: S608
                 params)
    columns = ("due, plan_id, task_seq, milestone_seq, task_id, label, label_vi, title, title_en, lead, per_member, "
               f"due_day, {REPORT_STATE_COLUMNS}")
    head = f"""INSERT INTO {table} ({columns})
      SELECT m.due, m.plan_id, t.seq, m.seq, m.task_id, m.label, m.label_vi, t.title, t.title_en, t.lead_codes,
             t.per_member, {due_day_sql("m.due")},"""
    conn.execute(f"""{head} {_ONE_UNIT}
      FROM milestones m JOIN tasks t ON t.plan_id = m.plan_id AND t.task_id = m.task_id
      LEFT JOIN milestone_now c ON c.plan_id = m.plan_id AND c.task_id = m.task_id AND c.milestone = m.label
      WHERE {where} AND t.per_member = 0""", params)  # noqa: S608
    conn.execute(f"""{head} {_MEMBER_UNITS}
      FROM milestones m JOIN tasks t ON t.plan_id = m.plan_id AND t.task_id = m.task_id
      JOIN task_members tm ON tm.plan_id = m.plan_id AND tm.task_id = m.task_id
      LEFT JOIN unit_now c ON c.plan_id = m.plan_id AND c.task_id = m.task_id AND c.milestone = m.label
        AND c.agency = tm.agency_code
      WHERE {where} AND t.per_member = 1 GROUP BY m.plan_id, m.task_id, m.label""", params)  # noqa: S608


def refresh_report_state(conn: sqlite3.Connection, plan_id: str | None = None) -> None:
    """Work the state columns of milestone_report out again from unit_now and
    milestone_now, for one plan (or all): a milestone nobody reported on gets the
    state of no reports. Its other columns are the plan's and stay."""
    where = "plan_id = :plan" if plan_id is not None else "1 = 1"
    params = {"plan": plan_id}
    conn.execute(f"""UPDATE milestone_report SET ({REPORT_STATE_COLUMNS}) = (
        SELECT {_ONE_UNIT} FROM (SELECT 1) LEFT JOIN milestone_now c ON c.plan_id = milestone_report.plan_id
          AND c.task_id = milestone_report.task_id AND c.milestone = milestone_report.label)
      WHERE {where} AND per_member = 0""", params)  # noqa: S608
    conn.execute(f"""UPDATE milestone_report SET ({REPORT_STATE_COLUMNS}) = (
        SELECT {_MEMBER_UNITS} FROM task_members tm
        LEFT JOIN unit_now c ON c.plan_id = tm.plan_id AND c.task_id = tm.task_id
          AND c.milestone = milestone_report.label AND c.agency = tm.agency_code
        WHERE tm.plan_id = milestone_report.plan_id AND tm.task_id = milestone_report.task_id)
      WHERE {where} AND per_member = 1""", params)  # noqa: S608


def current_state_differences(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows of unit_now, milestone_now and milestone_report that differ from what the
    events and the plans say they should be (all zero in a sound database)."""
    differences = {}
    for table, expected in (("unit_now", _UNIT_STATE_FROM_EVENTS), ("milestone_now", _MILESTONE_STATE_FROM_EVENTS)):
        differences[table] = conn.execute(
            f"""SELECT (SELECT count(*) FROM ({expected} EXCEPT SELECT * FROM {table}))
                     + (SELECT count(*) FROM (SELECT * FROM {table} EXCEPT {expected}))""").fetchone()[0]  # noqa: S608
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS expected_report AS SELECT * FROM milestone_report WHERE 0")
    rebuild_milestone_report(conn, None, table="temp.expected_report")
    differences["milestone_report"] = conn.execute(
        """SELECT (SELECT count(*) FROM (SELECT * FROM temp.expected_report EXCEPT SELECT * FROM milestone_report))
                + (SELECT count(*) FROM (SELECT * FROM milestone_report EXCEPT SELECT * FROM temp.expected_report))"""
    ).fetchone()[0]
    conn.execute("DROP TABLE temp.expected_report")
    return differences


def rebuild_current_state(conn: sqlite3.Connection) -> None:
    """Work the current-state tables out again from the events, in one transaction;
    and milestone_report's copies of its tasks' columns from the tasks (the rest of
    a report row is the milestone itself, which nothing else holds since 0005)."""
    with write_transaction(conn):
        conn.execute("DELETE FROM unit_now")
        conn.execute("DELETE FROM milestone_now")
        conn.execute(f"INSERT INTO unit_now {_UNIT_STATE_FROM_EVENTS}")  # noqa: S608
        conn.execute(f"INSERT INTO milestone_now {_MILESTONE_STATE_FROM_EVENTS}")  # noqa: S608
        conn.execute(f"""UPDATE milestone_report SET (task_seq, title, title_en, lead, per_member) = (
            SELECT t.seq, t.title, t.title_en, t.lead_codes, t.per_member FROM tasks t
            WHERE t.plan_id = milestone_report.plan_id AND t.task_id = milestone_report.task_id),
          due_day = {due_day_sql("due")}
          WHERE EXISTS (SELECT 1 FROM tasks t WHERE t.plan_id = milestone_report.plan_id
                          AND t.task_id = milestone_report.task_id)""")
        refresh_report_state(conn)


# The link tables kept each row twice, in the table and in its primary key's index:
# WITHOUT ROWID keeps it once, in key order. And every milestone has its row in
# milestone_report already, so the milestones table becomes a view of it, and a load
# writes each milestone once: at 100k tasks this leaves out 145k rows of 340k and
# a quarter of the file. The report is worked out again first, from the milestones
# table, so that the view starts from the plan's milestones. Views and the trigger
# name the old tables: with legacy_alter_table on, a rename leaves those names as
# they are, and they then find the new tables.
def _without_rowid(table: str) -> str:
    """`table` as migration 0001 made it (same columns, checks and key), named
    <table>_v5 and stored WITHOUT ROWID."""
    create = next(statement for statement in _split_sql(SCHEMA_V1)
                  if statement.startswith(f"CREATE TABLE {table} ("))
    return create.replace(f"CREATE TABLE {table} (", f"CREATE TABLE {table}_v5 (", 1).rstrip(";\n ") + \
        " WITHOUT ROWID;"


COMPACT_LINKS_V5 = f"""
{_without_rowid("task_agencies")}
INSERT INTO task_agencies_v5 SELECT plan_id, task_id, role, agency_code, seq FROM task_agencies;
DROP TABLE task_agencies;
ALTER TABLE task_agencies_v5 RENAME TO task_agencies;
CREATE INDEX task_agencies_by_agency ON task_agencies (plan_id, agency_code, role);
{_without_rowid("task_members")}
INSERT INTO task_members_v5 SELECT plan_id, task_id, agency_code, via FROM task_members;
DROP TABLE task_members;
ALTER TABLE task_members_v5 RENAME TO task_members;
CREATE INDEX task_members_by_agency ON task_members (plan_id, agency_code);
DROP TABLE milestones;
CREATE VIEW milestones AS
SELECT plan_id, task_id, label, label_vi, due, milestone_seq AS seq FROM milestone_report;
"""


def compact_links_v5(conn: sqlite3.Connection) -> None:
    rebuild_milestone_report(conn)
    conn.execute("PRAGMA legacy_alter_table = ON")
    try:
        for statement in _split_sql(COMPACT_LINKS_V5):
            conn.execute(statement)
    finally:
        conn.execute("PRAGMA legacy_alter_table = OFF")


# (name, SQL) in order; never edit or reorder a step that has shipped.
MIGRATIONS: list[tuple] = [  # (name, SQL) or (name, SQL, then a function of the connection)
    ("0001_initial", SCHEMA_V1),
    ("0002_status_indexes", STATUS_INDEXES_V2),
    ("0003_task_lead_codes", LEAD_CODES_V3),
    ("0004_current_state", CURRENT_STATE_V4, rebuild_milestone_report),
    ("0005_compact_links", "", compact_links_v5),
]
SCHEMA_VERSION = len(MIGRATIONS)


def _migration_set():
    from sqlite_utils.migrations import Migrations

    migrations = Migrations("civreform")
    for number, (name, sql, *then) in enumerate(MIGRATIONS, start=1):
        def step(db, sql=sql, number=number, then=then):
            for statement in _split_sql(sql):
                db.execute(statement)
            for function in then:
                function(db.conn)
            db.execute(f"PRAGMA user_version = {number}")

        migrations(name=name)(step)
    return migrations


# ── Opening ─────────────────────────────────────────────────────────────────

class Database:
    """An open civreform database: its path, the connection, and whether this call created it."""

    def __init__(self, path: Path, conn: sqlite3.Connection, created: bool):
        self.path, self.conn, self.created = path, conn, created

    def __repr__(self) -> str:
        return f"Database(path={self.path!r}, created={self.created})"

    def close(self) -> None:
        self.conn.close()


# A new database's page size. A 100k-task load stores ~5 % faster with 8 KiB pages
# than with SQLite's 4 KiB (2.25 s against 2.36 s, median of 6 interleaved runs);
# reports and `record` take the same time. A database that is there keeps its own.
NEW_PAGE_SIZE = 8192


def open_database(path: Path, *, create: bool = True, make_parent: bool = False) -> Database:
    """Open (and if needed create and migrate) the civreform database at path.

    Never recreates or "repairs" a file that is there: a file that is not a
    civreform database, or a database from a newer civreform, is refused as is.
    """
    name = str(path)
    if path.is_dir():
        raise DatabaseError(f"{name}: is a directory, not a database file")
    exists = path.exists()
    if not exists:
        if not create:
            raise DatabaseError(f"{name}: no such database")
        if make_parent:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise DatabaseError(f"{path.parent}: cannot create the folder ({error.strerror})") from None
        if not path.parent.is_dir():
            raise DatabaseError(f"{name}: the folder {path.parent} does not exist")
    elif not os.access(path, os.R_OK):
        raise DatabaseError(f"{name}: permission denied (cannot read the file)")
    elif path.stat().st_size == 0:
        # SQLite would quietly turn an empty file into a new database; it may be a
        # database that lost its contents, so leave it for a person to look at.
        raise DatabaseError(f"{name}: the file is empty (0 bytes), not a civreform database; "
                            "remove it to start a new database there")
    if exists:
        _check_header(path)
    timeout = busy_timeout_ms()
    # On read-only media SQLite cannot create the -wal/-shm files WAL mode needs:
    # open the file immutable, so reports still work and any write is refused.
    read_only_media = exists and not os.access(path.parent, os.W_OK)
    if read_only_media and _wal_has_changes(path):
        raise DatabaseError(f"{name}: the folder is read-only and {path.name}-wal holds changes not yet in the "
                            "database file; copy both files to a writable folder to read them")
    target = f"{path.resolve().as_uri()}?mode=ro&immutable=1" if read_only_media else name
    try:
        conn = sqlite3.connect(target, timeout=timeout / 1000, isolation_level=None, check_same_thread=False,
                               uri=read_only_media)
    except sqlite3.Error as error:
        raise DatabaseError(f"{name}: cannot open the database ({error})") from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {timeout}")
        if not exists:
            conn.execute(f"PRAGMA page_size = {NEW_PAGE_SIZE}")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if read_only_media and version != SCHEMA_VERSION:
            raise DatabaseError(f"{name}: the folder is read-only, so this database (schema version {version}) "
                                f"cannot be brought to version {SCHEMA_VERSION}")
        if version > SCHEMA_VERSION:
            raise DatabaseError(
                f"{name}: made by a newer civreform (schema version {version}; this civreform "
                f"knows up to {SCHEMA_VERSION}); upgrade civreform to use it"
            )
        if version < SCHEMA_VERSION:
            _migrate(conn, name)
        conn.execute("PRAGMA foreign_keys = ON")
    except DatabaseError:
        conn.close()
        raise
    except sqlite3.Error as error:
        conn.close()
        raise DatabaseError(describe_sqlite_error(name, error)) from None
    return Database(path=path, conn=conn, created=not exists)


def _wal_has_changes(path: Path) -> bool:
    """Whether the database's -wal file holds frames not yet copied into the file."""
    wal = Path(f"{path}-wal")
    return wal.exists() and wal.stat().st_size > 0


def _check_header(path: Path) -> None:
    """Cheap checks before SQLite touches the file: the magic string, and a file
    shorter than its own header says (a truncated copy). Damage deeper inside is
    met when a command reads it, or by `civreform check` (a full integrity check)."""
    name = str(path)
    with path.open("rb") as handle:
        header = handle.read(100)
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        raise DatabaseError(f"{name}: not a database file (file is not a database)")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    page_count = int.from_bytes(header[28:32], "big")
    change_counter, valid_for = header[24:28], header[92:96]
    size = path.stat().st_size
    if _wal_has_changes(path):
        return  # a checkpoint cut short can leave the file short; SQLite completes it from the WAL
    if change_counter == valid_for and page_count and size < page_count * page_size:
        raise DatabaseError(f"{name}: the database file is damaged (truncated: {size} bytes, its header "
                            f"says {page_count * page_size}); restore it from a backup")


def _migrate(conn: sqlite3.Connection, name: str) -> None:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == 0 and tables - OUR_TABLES - {v for v in tables if v.endswith("_view")}:
        raise DatabaseError(f"{name}: an SQLite database, but not civreform's (it has other tables); not touched")
    # WAL lets readers (a report) run while one process writes (an import).
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode.lower() != "wal":
        raise DatabaseError(f"{name}: cannot switch the database to WAL mode (got {mode})")
    import sqlite_utils

    conn.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have migrated while we waited for the lock.
        if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            db = sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)
            _migration_set().apply(db)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


@contextmanager
def write_transaction(conn: sqlite3.Connection):
    """One write transaction that takes the write lock up front (BEGIN IMMEDIATE).

    Everything inside commits together or not at all.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def describe_sqlite_error(name: str, error: sqlite3.Error) -> str:
    """One line a person can act on, for an SQLite error on the file `name`."""
    text = str(error)
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return f"{name}: the database is locked by another process (waited {busy_timeout_ms() / 1000:g} s); try again"
    if "not a database" in lowered:
        return f"{name}: not a database file (file is not a database)"
    if "malformed" in lowered or "corrupt" in lowered:
        return f"{name}: the database file is damaged ({text}); restore it from a backup"
    if "disk is full" in lowered:
        return f"{name}: the disk is full (SQLITE_FULL); nothing was written"
    if "readonly" in lowered or "read-only" in lowered:
        return f"{name}: the database is read-only here ({text}); nothing was written"
    if "unable to open" in lowered:
        return f"{name}: cannot open the database ({text})"
    return f"{name}: database error: {text}"


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]
