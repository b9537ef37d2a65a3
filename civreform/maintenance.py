"""Checking and copying the database file."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from civreform import reports
from civreform.db import PROTECTING_TRIGGERS, SCHEMA_VERSION, Database, describe_sqlite_error, schema_version
from civreform.errors import DatabaseError


@dataclass
class CheckReport:
    ok: bool = True
    lines: list[str] = field(default_factory=list)


def check(database: Database, repair: bool = False) -> CheckReport:
    conn, report = database.conn, CheckReport()
    try:
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    except sqlite3.Error as error:
        raise DatabaseError(describe_sqlite_error(str(database.path), error)) from None
    if problems == ["ok"]:
        report.lines.append(f"integrity: ok ({database.path})")
    else:
        report.ok = False
        report.lines.append(f"integrity: FAILED ({len(problems)} problem(s)): {problems[0]}")
    report.lines.append(f"schema version: {schema_version(conn)} (this civreform: {SCHEMA_VERSION})")
    plans = conn.execute("SELECT plan_id, number, (SELECT count(*) FROM tasks t WHERE t.plan_id = p.plan_id), "
                         "(SELECT count(*) FROM events e WHERE e.plan_id = p.plan_id) FROM plans p ORDER BY plan_id").fetchall()
    report.lines.append(f"plans: {len(plans)}")
    for plan_id, number, tasks, events in plans:
        report.lines.append(f"  {plan_id} ({number}): {tasks} tasks, {events} progress events")
    orphans = reports.orphan_groups(conn)
    total = sum(row[3] for row in orphans)
    report.lines.append(f"orphaned progress events: {total}")
    for plan_id, task_id, milestone, count in orphans:
        report.lines.append(f"  {plan_id} task {task_id} milestone {milestone or '-'}: {count} event(s), kept")
    if total:
        report.ok = False
    _check_protection(conn, report, repair)
    _check_search_index(conn, report, repair)
    return report


def _check_search_index(conn: sqlite3.Connection, report: CheckReport, repair: bool) -> None:
    """The search index against the tasks and events it indexes (it holds nothing else)."""
    from civreform import search
    from civreform.db import write_transaction

    wrong = search.differences(conn)
    if not wrong:
        report.lines.append("search index: agrees with the tasks and events")
        return
    if not repair:
        report.ok = False
        report.lines.append(f"search index: FAILED, {wrong} entries missing or stale; run `civreform check --repair`")
        return
    with write_transaction(conn):
        search.rebuild(conn)
    report.lines.append(f"search index: rebuilt ({wrong} entries were missing or stale)")


def _check_protection(conn: sqlite3.Connection, report: CheckReport, repair: bool) -> None:
    """The triggers that keep the event log append-only (against sqlite3 users too)."""
    present = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    missing = [name for name in PROTECTING_TRIGGERS if name not in present]
    if not missing:
        report.lines.append(f"append-only protection: all {len(PROTECTING_TRIGGERS)} triggers in place")
        return
    if not repair:
        report.ok = False
        report.lines.append(f"append-only protection: FAILED, missing {', '.join(missing)}; events may have been "
                            "changed outside civreform; run `civreform check --repair` to restore the triggers")
        return
    from civreform.db import write_transaction

    with write_transaction(conn):
        for name in missing:
            conn.execute(PROTECTING_TRIGGERS[name])
    report.lines.append(f"append-only protection: restored {', '.join(missing)} (the events as they are now are "
                        "kept; whatever was changed while they were missing cannot be known)")


def backup(database: Database, target: Path) -> int:
    """A consistent copy through SQLite's online backup API, in a file of its own
    (output_files.new_file: never over anything already there), then checked with
    PRAGMA quick_check: damage is copied as it is, and reported. Returns the pages copied."""
    from civreform.output_files import new_file

    pages = 0

    def count(_status, _remaining, total):
        nonlocal pages
        pages = total

    with new_file(target) as temporary:
        copy = sqlite3.connect(str(temporary))
        try:
            database.conn.backup(copy, pages=1024, progress=count)
            copy.execute("PRAGMA journal_mode = WAL")
        except sqlite3.Error as error:
            raise DatabaseError(_backup_error(database.path, target, error)) from None
        else:
            problems = _quick_check(copy)
        finally:
            copy.close()
    if problems != ["ok"]:  # the copy is kept: it may be the best there is
        raise DatabaseError(f"{database.path}: the database is damaged ({len(problems)} problem(s): {problems[0]}); "
                            f"copied anyway to {target}, damage included; restore from an older backup if there is one")
    return pages


def _quick_check(conn: sqlite3.Connection) -> list[str]:
    """PRAGMA quick_check's findings (["ok"] when there are none); damage bad enough
    to stop the check is a finding too."""
    try:
        return [row[0] for row in conn.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as error:
        return [str(error)]


def _backup_error(source: Path, target: Path, error: sqlite3.Error) -> str:
    """The error's line, naming the file it is about: reading a damaged or locked
    database is the source's; anything else (a full disk, a read-only folder) the copy's."""
    lowered = str(error).lower()
    about_source = any(word in lowered for word in ("malformed", "corrupt", "locked", "busy", "not a database"))
    return describe_sqlite_error(str(source if about_source else target), error)
