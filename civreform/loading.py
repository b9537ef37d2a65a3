"""Store a validated plan in the database: one transaction, progress untouched."""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from civreform.db import write_transaction
from civreform.names import search_key
from civreform.plan import Plan


@dataclass
class LoadResult:
    plan_id: str
    number: str
    replaced: bool
    tasks: int
    milestones: int
    agencies: int
    events_kept: int
    orphaned_events: int


def _spec_json(spec) -> dict:
    return {key: value for key, value in vars(spec).items() if value not in (None, False)}


def expand_members(plan: Plan, code: str, _seen: frozenset = frozenset()) -> list[str]:
    """A group with known members stands for its members (recursively); anything else for itself."""
    agency = plan.agency(code)
    if agency.kind != "group" or not agency.members:
        return [code]
    result: list[str] = []
    for member in agency.members:
        if member in _seen:
            continue
        for leaf in expand_members(plan, member, _seen | {code}):
            if leaf not in result:
                result.append(leaf)
    return result


def _reporting_members(plan: Plan, leads: list[str]) -> list[tuple[str, str]]:
    """(member, via lead) for a task whose leads include a group with members: each
    member reports for itself. Empty when every lead reports as one unit."""
    members: dict[str, str] = {}
    for lead in leads:
        for member in expand_members(plan, lead):
            members.setdefault(member, lead)
    return list(members.items()) if any(member != via for member, via in members.items()) else []


_TASK_INSERTS = (
    """INSERT INTO tasks (plan_id, task_id, seq, section, title, title_en, content, content_en, lead_text,
         support_text, time_text, deadline, note, target, per_member, lead_codes)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
    """INSERT INTO milestones (plan_id, task_id, label, label_vi, due, after_event, after_days, seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
    "INSERT INTO task_agencies (plan_id, task_id, role, agency_code, seq) VALUES (?, ?, ?, ?, ?)",
    "INSERT INTO task_members (plan_id, task_id, agency_code, via) VALUES (?, ?, ?, ?)",
)
TASK_BATCH = 500  # tasks stored per executemany (and per step of the progress bar)


@functools.lru_cache(maxsize=4096)
def _search_key(code: str, name: str, name_en: str, aliases: tuple[str, ...]) -> str:
    """search_key, remembered: the plans of an archive name the same agencies again and again."""
    return search_key(code, name, name_en, list(aliases))


def store_plan(conn: sqlite3.Connection, plan: Plan, progress=None, content_hash: str = "") -> LoadResult:
    """Insert or update one plan in place. Events are never touched.

    The plan's own rows (agencies, tasks, milestones) are replaced by the file's;
    events keep their natural keys, so an event whose task or milestone left the
    plan stays, and is counted as orphaned (and counts again if the plan brings
    the task back). content_hash: the hash of the file it came from (load_files skips
    that file while it is unchanged).
    """
    from civreform.reports import orphan_groups

    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with write_transaction(conn):
        replaced = conn.execute("SELECT 1 FROM plans WHERE plan_id = ?", (plan.id,)).fetchone() is not None
        for table in ("milestones", "task_members", "task_agencies", "tasks", "agency_members", "agencies"):
            conn.execute(f"DELETE FROM {table} WHERE plan_id = ?", (plan.id,))  # noqa: S608 (fixed names)
        conn.execute(
            """INSERT INTO plans (plan_id, number, issued, title, title_en, period_start, period_end, meta, source, loaded_at,
                 content_hash)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (plan_id) DO UPDATE SET number = excluded.number, issued = excluded.issued,
                 title = excluded.title, title_en = excluded.title_en, period_start = excluded.period_start,
                 period_end = excluded.period_end, meta = excluded.meta, source = excluded.source,
                 loaded_at = excluded.loaded_at, content_hash = excluded.content_hash""",
            (plan.id, plan.number, plan.issued.isoformat(), plan.title, plan.title_en,
             plan.period_start.isoformat() if plan.period_start else None,
             plan.period_end.isoformat() if plan.period_end else None,
             json.dumps(plan.meta, ensure_ascii=False, default=str), plan.source, now, content_hash),
        )
        conn.executemany(
            "INSERT INTO agencies (plan_id, code, seq, name, name_en, kind, aliases, note, search_key) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(plan.id, a.code, seq, a.name, a.name_en, a.kind, json.dumps(a.aliases, ensure_ascii=False), a.note,
              _search_key(a.code, a.name, a.name_en, tuple(a.aliases))) for seq, a in enumerate(plan.agencies, 1)],
        )
        conn.executemany(
            "INSERT INTO agency_members (plan_id, group_code, member_code) VALUES (?, ?, ?)",
            [(plan.id, a.code, m) for a in plan.agencies for m in a.members],
        )
        milestones = 0
        rows: dict[str, list] = {sql: [] for sql in _TASK_INSERTS}
        for done, task in enumerate(plan.tasks, 1):
            task_rows, ms_rows, agency_rows, member_rows = rows.values()
            members = _reporting_members(plan, task.lead)
            task_rows.append(
                (plan.id, task.id, task.seq, task.section, task.title, task.title_en, task.content, task.content_en,
                 task.lead_text, task.support_text, task.time_text,
                 json.dumps([_spec_json(s) for s in task.deadline], ensure_ascii=False), task.note,
                 json.dumps(task.target, ensure_ascii=False) if task.target is not None else None,
                 int(bool(members)), ",".join(task.lead)))
            agency_rows += [(plan.id, task.id, "lead", code, n) for n, code in enumerate(task.lead, 1)]
            agency_rows += [(plan.id, task.id, "support", code, n) for n, code in enumerate(task.support, 1)]
            member_rows += [(plan.id, task.id, member, via) for member, via in members]
            ms_rows += [(plan.id, task.id, m.label, m.label_vi, m.due.isoformat() if m.due else None,
                         getattr(m, "after_event", None), getattr(m, "after_days", None), n)
                        for n, m in enumerate(task.milestones, 1)]
            milestones += len(task.milestones)
            # One executemany per table per batch: a plan of 20 tasks is 4 statements, not 80.
            if done % TASK_BATCH == 0 or done == len(plan.tasks):
                for sql, batch in rows.items():
                    conn.executemany(sql, batch)
                    batch.clear()
                if progress is not None:
                    progress(done, len(plan.tasks))
        from civreform.search import index_plan

        index_plan(conn, plan.id)
        from civreform.register_store import apply_to_plan, refresh_plan_members

        if refresh_plan_members(conn, plan.id):  # a stored register serves this plan
            apply_to_plan(conn, plan.id)
        events_kept = conn.execute("SELECT count(*) FROM events WHERE plan_id = ?", (plan.id,)).fetchone()[0]
        orphaned = sum(group[3] for group in orphan_groups(conn, plan.id))
    return LoadResult(plan.id, plan.number, replaced, len(plan.tasks), milestones, len(plan.agencies),
                      events_kept, orphaned)


# ── Many files ──────────────────────────────────────────────────────────────

PLAN_SUFFIXES = (".yaml", ".yml", ".json")


def plan_files(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """The files named, and the plan files (PLAN_SUFFIXES) in the folders named, recursively
    in name order; and one problem line for each path that is neither."""
    files: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in PLAN_SUFFIXES and p.is_file())
            if not found:
                problems.append(f"{path}: no plan files ({', '.join('*' + s for s in PLAN_SUFFIXES)}) in this folder")
            files += found
        elif path.exists():
            files.append(path)
        else:
            problems.append(f"{path}: no such file or folder")
    return list(dict.fromkeys(files)), problems


@dataclass
class FileLoad:
    """What became of one file: stored (result), unchanged since it was loaded, or refused (error)."""
    path: Path
    plan_id: str | None = None
    result: LoadResult | None = None
    error: str | None = None


def load_files(files: list[Path], connect: Callable[[], sqlite3.Connection], *, connect_now: bool = True,
               progress=None, task_progress=None) -> Iterator[FileLoad]:
    """Load each file as its own plan, each in its own transaction; a file that fails is
    reported and the others go on. A file whose content is what a plan was last loaded
    from is skipped (its hash is stored with the plan), so loading an archive again
    after adding ten plans reads ten. connect opens the database; with connect_now
    False (there is none yet) that waits for the first valid plan, so a refused file
    creates no database."""
    from civreform.errors import CivreformError
    from civreform.plan import read_plan_file

    conn = None
    plan_of_hash: dict[str, str] = {}
    hash_of_plan: dict[str, str] = {}

    def connection() -> sqlite3.Connection:
        nonlocal conn
        if conn is None:
            conn = connect()
            # Each plan commits on its own; in WAL mode NORMAL skips the sync at each commit
            # (a power cut may lose the last plans loaded, never damage the file, and
            # loading again restores them): 3,000 syncs were a third of an archive's load.
            conn.execute("PRAGMA synchronous = NORMAL")
            for digest, plan_id in conn.execute("SELECT content_hash, plan_id FROM plans WHERE content_hash <> ''"):
                plan_of_hash[digest], hash_of_plan[plan_id] = plan_id, digest
        return conn

    def load_one(path: Path) -> FileLoad:
        from civreform.plan_source import MAX_FILE_BYTES

        try:
            with path.open("rb") as handle:  # no further than a plan may be (/dev/zero never ends)
                digest = hashlib.sha256(handle.read(MAX_FILE_BYTES + 1)).hexdigest()
        except OSError as error:
            return FileLoad(path, error=f"{path}: {error.strerror or error}")
        if digest in plan_of_hash:
            return FileLoad(path, plan_id=plan_of_hash[digest])
        try:
            plan = read_plan_file(path)
        except CivreformError as error:
            return FileLoad(path, error=str(error))
        result = store_plan(connection(), plan, progress=task_progress, content_hash=digest)
        plan_of_hash.pop(hash_of_plan.get(plan.id, ""), None)  # the plan's old content is no longer loaded
        plan_of_hash[digest], hash_of_plan[plan.id] = plan.id, digest
        return FileLoad(path, plan_id=plan.id, result=result)

    if connect_now:
        connection()
    for done, path in enumerate(files, 1):
        yield load_one(path)
        if progress is not None:
            progress(done, len(files))
