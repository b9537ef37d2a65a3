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


# The tables each schema version has, to recognise a database made before 0006 set
# the application id: only a file with exactly these tables is taken for ours.
_TABLES_V1 = frozenset({"plans", "agencies", "agency_members", "tasks", "task_agencies", "task_members",
                        "milestones", "events", "_sqlite_migrations", "sqlite_sequence"})
_TABLES_V4 = _TABLES_V1 | {"unit_now", "milestone_now", "milestone_report"}
TABLES_BEFORE_MARK = {1: _TABLES_V1, 2: _TABLES_V1, 3: _TABLES_V1, 4: _TABLES_V4, 5: _TABLES_V4 - {"milestones"}}


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

# Forward only. Each step is one function of the sqlite-utils Database, applied in
# order inside one transaction with the record that it ran and the bump of
# user_version. A step states its own SQL; none is built from another's text.

def _run_script(db, script: str) -> None:
    for statement in _split_sql(script):
        db.execute(statement)


def m0001_initial(db) -> None:
    _run_script(db, SCHEMA_V1)


def m0002_status_indexes(db) -> None:
    _run_script(db, """
CREATE INDEX events_by_milestone_status ON events (plan_id, task_id, milestone, status, happened_on);
CREATE INDEX events_by_unit_status ON events (plan_id, task_id, milestone, agency, status, happened_on);
""")


def m0003_task_lead_codes(db) -> None:
    """Each task's lead codes, in the plan's order, beside it: reports print them on every row."""
    _run_script(db, """
ALTER TABLE tasks ADD COLUMN lead_codes TEXT NOT NULL DEFAULT '';
UPDATE tasks SET lead_codes = coalesce((SELECT group_concat(agency_code, ',') FROM (
    SELECT ta.agency_code FROM task_agencies ta WHERE ta.plan_id = tasks.plan_id AND ta.task_id = tasks.task_id
    AND ta.role = 'lead' ORDER BY ta.seq)), '');
""")


def m0004_current_state(db) -> None:
    """Once built trigger-kept copies of each unit's current state; 0006 removes
    them (reports work state out from the events), so a database that has not
    reached 0004 yet has nothing to build here."""


def m0005_compact_links(db) -> None:
    """The link tables stored WITHOUT ROWID: each row once, in key order. (With
    legacy_alter_table on, a rename leaves the views' table names as they are, and
    they then find the new tables.)"""
    db.execute("PRAGMA legacy_alter_table = ON")
    try:
        _run_script(db, COMPACT_LINKS_V5)
    finally:
        db.execute("PRAGMA legacy_alter_table = OFF")


COMPACT_LINKS_V5 = """
CREATE TABLE task_agencies_v5 (
    plan_id     TEXT NOT NULL,
    task_id     TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('lead', 'support')),
    agency_code TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    PRIMARY KEY (plan_id, task_id, role, agency_code)
) WITHOUT ROWID;
INSERT INTO task_agencies_v5 SELECT plan_id, task_id, role, agency_code, seq FROM task_agencies;
DROP TABLE task_agencies;
ALTER TABLE task_agencies_v5 RENAME TO task_agencies;
CREATE INDEX task_agencies_by_agency ON task_agencies (plan_id, agency_code, role);
CREATE TABLE task_members_v5 (
    plan_id     TEXT NOT NULL,
    task_id     TEXT NOT NULL,
    agency_code TEXT NOT NULL,
    via         TEXT NOT NULL,
    PRIMARY KEY (plan_id, task_id, agency_code)
) WITHOUT ROWID;
INSERT INTO task_members_v5 SELECT plan_id, task_id, agency_code, via FROM task_members;
DROP TABLE task_members;
ALTER TABLE task_members_v5 RENAME TO task_members;
CREATE INDEX task_members_by_agency ON task_members (plan_id, agency_code);
"""


# Views for sqlite3 and Datasette users, as of 0006.
VIEWS_V6 = """
CREATE VIEW milestone_view AS
SELECT m.plan_id, m.task_id, t.title, t.title_en, m.label AS milestone, m.due, m.after_event, m.after_days,
       t.lead_codes AS lead,
       (SELECT group_concat(name, '; ') FROM (SELECT a.name FROM task_agencies ta
         JOIN agencies a ON a.plan_id = ta.plan_id AND a.code = ta.agency_code
         WHERE ta.plan_id = m.plan_id AND ta.task_id = m.task_id AND ta.role = 'lead' ORDER BY ta.seq)) AS lead_names,
       t.time_text
FROM milestones m JOIN tasks t ON t.plan_id = m.plan_id AND t.task_id = m.task_id;
CREATE VIEW task_view AS
SELECT t.plan_id, t.task_id, t.seq, t.section, t.title, t.title_en, t.lead_text, t.support_text, t.time_text,
       t.lead_codes AS lead,
       (SELECT group_concat(agency_code, ',') FROM (SELECT agency_code FROM task_agencies ta
         WHERE ta.plan_id = t.plan_id AND ta.task_id = t.task_id AND ta.role = 'support' ORDER BY ta.seq)) AS support,
       (SELECT min(due) FROM milestones m WHERE m.plan_id = t.plan_id AND m.task_id = t.task_id) AS first_due,
       (SELECT max(due) FROM milestones m WHERE m.plan_id = t.plan_id AND m.task_id = t.task_id) AS last_due
FROM tasks t;
-- Progress events that count: not retracted (retractions and triggers are events too).
CREATE VIEW standing_event_view AS
SELECT e.* FROM events e
WHERE e.kind = 'progress' AND NOT EXISTS (SELECT 1 FROM events r WHERE r.retracts = e.id);
CREATE VIEW latest_progress_view AS
SELECT e.* FROM standing_event_view e
WHERE e.id = (SELECT e2.id FROM standing_event_view e2
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

# What keeps the event log append-only, also against sqlite3 users: no UPDATE, no
# DELETE, and no INSERT OR REPLACE (which deletes the row it conflicts with without
# firing delete triggers), and a retraction names one progress or trigger event once.
# `check` verifies that these are all there.
PROTECTING_TRIGGERS = {
    "events_are_append_only_update": """CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'progress events are append-only: record a correction instead'); END;""",
    "events_are_append_only_delete": """CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'progress events are append-only: record a correction instead'); END;""",
    "events_ids_are_never_reused": """CREATE TRIGGER events_ids_are_never_reused BEFORE INSERT ON events
WHEN NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM events WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'progress events are append-only: an event id is never reused'); END;""",
    "events_retract_what_exists": """CREATE TRIGGER events_retract_what_exists BEFORE INSERT ON events
WHEN NEW.kind = 'retraction' AND NOT EXISTS (SELECT 1 FROM events WHERE id = NEW.retracts AND kind <> 'retraction')
BEGIN SELECT RAISE(ABORT, 'a retraction must name a progress or trigger event'); END;""",
}


def m0006_events_kinds_and_milestones(db) -> None:
    """Events gain kinds (progress, retraction, trigger): a retraction takes a mistaken
    event back, a trigger starts a conditional deadline. The trigger-kept current-state
    tables go: reports work a milestone's state out from the events, one rule in one
    place (reports.UNIT_STATE). Milestones become a plain table again, with the
    conditional deadline's event and span; a milestone due on an event has no date."""
    _run_script(db, """
DROP TRIGGER IF EXISTS events_keep_current_state;
DROP VIEW IF EXISTS milestone_view;
DROP VIEW IF EXISTS task_view;
DROP VIEW IF EXISTS latest_progress_view;
DROP VIEW IF EXISTS orphan_event_view;
CREATE TABLE milestones_v6 (
    plan_id     TEXT NOT NULL,
    task_id     TEXT NOT NULL,
    label       TEXT NOT NULL,
    label_vi    TEXT,
    due         TEXT,
    after_event TEXT,
    after_days  INTEGER,
    seq         INTEGER NOT NULL,
    PRIMARY KEY (plan_id, task_id, label),
    CHECK ((due IS NULL) = (after_event IS NOT NULL))
) WITHOUT ROWID;
INSERT INTO milestones_v6 (plan_id, task_id, label, label_vi, due, seq)
  SELECT plan_id, task_id, label, label_vi, due, seq FROM milestones;
""")
    kind = db.execute("SELECT type FROM sqlite_master WHERE name = 'milestones'").fetchone()[0]
    _run_script(db, f"""
DROP {kind.upper()} milestones;
DROP TABLE IF EXISTS milestone_report;
DROP TABLE IF EXISTS unit_now;
DROP TABLE IF EXISTS milestone_now;
ALTER TABLE milestones_v6 RENAME TO milestones;
CREATE INDEX milestones_by_due ON milestones (due);
CREATE TABLE events_v6 (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id     TEXT NOT NULL,
    task_id     TEXT NOT NULL,
    milestone   TEXT NOT NULL,
    agency      TEXT NOT NULL DEFAULT '',
    status      TEXT CHECK (status IN ('not-started', 'in-progress', 'done', 'blocked')),
    percent     INTEGER CHECK (percent BETWEEN 0 AND 100),
    happened_on TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    evidence    TEXT NOT NULL DEFAULT '',
    recorded_by TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL DEFAULT '',
    kind        TEXT NOT NULL DEFAULT 'progress' CHECK (kind IN ('progress', 'retraction', 'trigger')),
    retracts    INTEGER,
    CHECK ((kind = 'progress') = (status IS NOT NULL)),
    CHECK ((kind = 'retraction') = (retracts IS NOT NULL))
);
INSERT INTO events_v6 (id, plan_id, task_id, milestone, agency, status, percent, happened_on, recorded_at, note,
                       evidence, recorded_by, source)
  SELECT id, plan_id, task_id, milestone, agency, status, percent, happened_on, recorded_at, note, evidence,
         recorded_by, source FROM events ORDER BY id;
DROP TABLE events;
ALTER TABLE events_v6 RENAME TO events;
CREATE INDEX events_by_unit ON events (plan_id, task_id, milestone, agency, happened_on, id);
CREATE INDEX events_by_milestone ON events (plan_id, task_id, milestone, happened_on, id);
CREATE INDEX events_by_day ON events (happened_on);
CREATE UNIQUE INDEX events_retracted_once ON events (retracts) WHERE retracts IS NOT NULL;
{VIEWS_V6}
""")
    for create in PROTECTING_TRIGGERS.values():
        db.execute(create)
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")


def m0007_search_index(db) -> None:
    """An FTS5 index of tasks' and events' words, folded (search.py), built for the
    tasks and events already there."""
    from civreform import search

    db.execute("""CREATE VIRTUAL TABLE search_index USING fts5(
        plan_id UNINDEXED, kind UNINDEXED, ref UNINDEXED, title, body, tokenize = 'unicode61')""")
    search.rebuild(db.conn)


def m0009_archive(db) -> None:
    """An archive of thousands of plans: each plan keeps the hash of the file it was
    loaded from, so `load` skips a file that has not changed; agencies are found by
    code across plans through an index (`--agency s03` with no `--plan`)."""
    _run_script(db, """
ALTER TABLE plans ADD COLUMN content_hash TEXT NOT NULL DEFAULT '';
CREATE INDEX agencies_by_code ON agencies (code);
""")


# "CIVR": marks a file as civreform's database, so that no other program's SQLite
# file is ever adopted (set by 0006; databases made before carry it from then on).
APPLICATION_ID = 0x43495652

def m0008_agency_register(db) -> None:
    """A province's agency register (register.py): its bodies with their validity and
    successors, the groups they belong to, and each group-led task's members with the
    days they answer for it (task_member_periods, rebuilt from the register and the plan
    whenever either is stored: a cache, never the source of truth). No event is touched."""
    _run_script(db, """
CREATE TABLE register_agencies (
    province    TEXT NOT NULL,
    code        TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    name        TEXT NOT NULL,
    name_en     TEXT NOT NULL DEFAULT '',
    kind        TEXT NOT NULL,
    aliases     TEXT NOT NULL DEFAULT '[]',
    valid_from  TEXT,
    valid_until TEXT,
    successor   TEXT,
    basis       TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    search_key  TEXT NOT NULL,
    PRIMARY KEY (province, code)
) WITHOUT ROWID;
CREATE INDEX register_agencies_by_code ON register_agencies (code);
CREATE TABLE register_groups (
    province    TEXT NOT NULL,
    group_code  TEXT NOT NULL,
    member_code TEXT NOT NULL,
    PRIMARY KEY (province, group_code, member_code)
) WITHOUT ROWID;
CREATE INDEX register_groups_by_member ON register_groups (province, member_code);
CREATE TABLE task_member_periods (
    plan_id     TEXT NOT NULL,
    task_id     TEXT NOT NULL,
    agency_code TEXT NOT NULL,
    valid_from  TEXT,
    valid_until TEXT,
    via         TEXT NOT NULL,
    province    TEXT NOT NULL,
    PRIMARY KEY (plan_id, task_id, agency_code)
) WITHOUT ROWID;
CREATE INDEX task_member_periods_by_agency ON task_member_periods (plan_id, agency_code);
ALTER TABLE task_members ADD COLUMN valid_from TEXT;
ALTER TABLE task_members ADD COLUMN valid_until TEXT;
""")


MIGRATIONS = [m0001_initial, m0002_status_indexes, m0003_task_lead_codes, m0004_current_state,
              m0005_compact_links, m0006_events_kinds_and_milestones, m0007_search_index,
              m0008_agency_register, m0009_archive]
SCHEMA_VERSION = len(MIGRATIONS)


def _migration_set():
    from sqlite_utils.migrations import Migrations

    migrations = Migrations("civreform")
    for number, migration in enumerate(MIGRATIONS, start=1):
        def step(db, migration=migration, number=number):
            migration(db)
            db.execute(f"PRAGMA user_version = {number}")

        migrations(name=migration.__name__[1:])(step)  # recorded as "0001_initial", as always
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
        exists = False  # a zero-byte file (a first run that failed): a new database
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
        if exists:
            _check_ours(conn, name, version)
        if version > SCHEMA_VERSION:
            raise DatabaseError(
                f"{name}: made by a newer civreform (schema version {version}; this civreform "
                f"knows up to {SCHEMA_VERSION}); upgrade civreform to use it"
            )
        if version < SCHEMA_VERSION:
            _migrate(conn, name)
        conn.execute("PRAGMA foreign_keys = ON")
        _add_functions(conn)
    except DatabaseError:
        conn.close()
        raise
    except sqlite3.Error as error:
        conn.close()
        raise DatabaseError(describe_sqlite_error(name, error)) from None
    return Database(path=path, conn=conn, created=not exists)


def _add_functions(conn: sqlite3.Connection) -> None:
    """SQL functions the queries use: standing(due, done_on, as_of, pending) is
    deadlines.standing itself, so that SQL and Python share one statement of the rule."""
    from civreform.deadlines import standing

    def standing_sql(due, done_on, as_of, pending):
        return standing(due, done_on, as_of, pending=bool(pending))

    conn.create_function("standing", 4, standing_sql, deterministic=True)


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
        raise DatabaseError(f"{name}: not an SQLite database file")
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


def _check_ours(conn: sqlite3.Connection, name: str, version: int) -> None:
    """Refuse, before anything changes the file, a database that is not civreform's:
    ours carries the application id, or (made before it was set) exactly the tables
    of its schema version."""
    application_id = conn.execute("PRAGMA application_id").fetchone()[0]
    if application_id == APPLICATION_ID:
        return
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if application_id == 0 and tables == TABLES_BEFORE_MARK.get(version):
        return
    if application_id != 0:
        raise DatabaseError(f"{name}: an SQLite database of another program (application id {application_id}); "
                            "not touched")
    raise DatabaseError(f"{name}: an SQLite database, but not civreform's; not touched")


def _migrate(conn: sqlite3.Connection, name: str) -> None:
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
        return f"{name}: not an SQLite database file"
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
