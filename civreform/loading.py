"""Store a validated plan in the database: one transaction, progress untouched."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone

from civreform.db import refresh_report_state, write_transaction
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


BATCH_TASKS = 5000  # tasks per round of inserts: bounds memory when the tasks are streamed


def sql_text(value: str) -> str:
    """An SQL string literal. The plan id goes into the insert statements as one, so
    that no row binds it: at 100k tasks that is 600k parameters fewer."""
    return "'" + value.replace("'", "''") + "'"


class _Batch:
    """The rows of a few thousand tasks, without their plan id (which every row shares)."""

    def __init__(self):
        self.tasks, self.leads, self.supports, self.members, self.milestones = [], [], [], [], []

    def add(self, task, expanded: dict[str, list[str]], deadline_json: dict[tuple, str]) -> None:
        members: dict[str, str] = {}
        for lead in task.lead:
            for member in expanded[lead]:
                members.setdefault(member, lead)
        per_member = any(member != via for member, via in members.items())
        lead_codes = ",".join(task.lead)
        self.tasks.append(
            (task.id, task.seq, task.section, task.title, task.title_en, task.content, task.content_en,
             task.lead_text, task.support_text, task.time_text,
             deadline_json.get(key := tuple(task.deadline)) or deadline_json.setdefault(
                 key, json.dumps([_spec_json(s) for s in task.deadline], ensure_ascii=False)), task.note,
             json.dumps(task.target, ensure_ascii=False) if task.target is not None else None, int(per_member),
             lead_codes))
        self.leads += [(task.id, code, seq) for seq, code in enumerate(task.lead, 1)]
        self.supports += [(task.id, code, seq) for seq, code in enumerate(task.support, 1)]
        if per_member:
            self.members += [(task.id, member, via) for member, via in members.items()]
        units = len(members) if per_member else 1
        self.milestones += [(m.due.isoformat(), task.seq, seq, task.id, m.label, m.label_vi, task.title,
                             task.title_en, lead_codes, int(per_member), m.due.toordinal(), units)
                            for seq, m in enumerate(task.milestones, 1)]

    def write(self, conn: sqlite3.Connection, plan_id: str) -> None:
        """Insert the rows table by table, each sorted by its key (rows in key order
        append to a b-tree instead of landing all over it); milestones go into
        milestone_report with the state of no reports yet."""
        plan = sql_text(plan_id)
        self.tasks.sort()
        conn.executemany(
            f"""INSERT INTO tasks (plan_id, task_id, seq, section, title, title_en, content, content_en, lead_text,
                  support_text, time_text, deadline, note, target, per_member, lead_codes)
                VALUES ({plan}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", self.tasks)  # noqa: S608
        for role, rows in (("lead", self.leads), ("support", self.supports)):
            rows.sort()
            conn.executemany(f"INSERT INTO task_agencies (plan_id, task_id, role, agency_code, seq) "  # noqa: S608
                             f"VALUES ({plan}, ?, '{role}', ?, ?)", rows)
        self.members.sort()
        conn.executemany(f"INSERT INTO task_members (plan_id, task_id, agency_code, via) "  # noqa: S608
                         f"VALUES ({plan}, ?, ?, ?)", self.members)
        self.milestones.sort(key=lambda row: (row[3], row[4]))  # by task and label: the report's key index
        conn.executemany(
            f"""INSERT INTO milestone_report (due, plan_id, task_seq, milestone_seq, task_id, label, label_vi, title,
                  title_en, lead, per_member, due_day, units, units_done, status, percent, last_on, done_on)
                VALUES (?, {plan}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 'not-started', 0, NULL, NULL)""",  # noqa: S608
            self.milestones)
        self.__init__()


def _progress_of(tasks, done: int) -> tuple[int, int]:
    """(done, total) for a progress bar: tasks of a list, characters of a stream."""
    if isinstance(tasks, list):
        return done, len(tasks)
    return tasks.position, tasks.size


def store_plan(conn: sqlite3.Connection, plan: Plan, progress=None) -> LoadResult:
    """Insert or update one plan in place. Events are never touched.

    The plan's own rows (agencies, tasks, milestones) are replaced by the file's;
    events keep their natural keys, so an event whose task or milestone left the
    plan stays, and is counted as orphaned.
    """
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with write_transaction(conn):
        replaced = conn.execute("SELECT 1 FROM plans WHERE plan_id = ?", (plan.id,)).fetchone() is not None
        for table in ("milestone_report", "task_members", "task_agencies", "tasks", "agency_members", "agencies"):
            conn.execute(f"DELETE FROM {table} WHERE plan_id = ?", (plan.id,))  # noqa: S608 (fixed names)
        conn.execute(
            """INSERT INTO plans (plan_id, number, issued, title, title_en, period_start, period_end, meta, source, loaded_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (plan_id) DO UPDATE SET number = excluded.number, issued = excluded.issued,
                 title = excluded.title, title_en = excluded.title_en, period_start = excluded.period_start,
                 period_end = excluded.period_end, meta = excluded.meta, source = excluded.source,
                 loaded_at = excluded.loaded_at""",
            (plan.id, plan.number, plan.issued.isoformat(), plan.title, plan.title_en,
             plan.period_start.isoformat() if plan.period_start else None,
             plan.period_end.isoformat() if plan.period_end else None,
             json.dumps(plan.meta, ensure_ascii=False, default=str), plan.source, now),
        )
        conn.executemany(
            "INSERT INTO agencies (plan_id, code, seq, name, name_en, kind, aliases, note, search_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(plan.id, a.code, seq, a.name, a.name_en, a.kind, json.dumps(a.aliases, ensure_ascii=False), a.note,
              search_key(a.code, a.name, a.name_en, a.aliases)) for seq, a in enumerate(plan.agencies, 1)],
        )
        conn.executemany(
            "INSERT INTO agency_members (plan_id, group_code, member_code) VALUES (?, ?, ?)",
            [(plan.id, a.code, m) for a in plan.agencies for m in a.members],
        )
        expanded = {agency.code: expand_members(plan, agency.code) for agency in plan.agencies}
        deadline_json: dict[tuple, str] = {}  # plans repeat a few deadlines many times
        batch = _Batch()
        task_count = milestone_count = 0
        for task in plan.tasks:
            batch.add(task, expanded, deadline_json)
            task_count += 1
            milestone_count += len(task.milestones)
            if task_count % BATCH_TASKS == 0:
                batch.write(conn, plan.id)
                if progress is not None:
                    progress(*_progress_of(plan.tasks, task_count))
        batch.write(conn, plan.id)
        if progress is not None:
            progress(1, 1)
        if conn.execute("SELECT 1 FROM events WHERE plan_id = ? LIMIT 1", (plan.id,)).fetchone():
            refresh_report_state(conn, plan.id)  # a reload: reports already made count
        events_kept = conn.execute("SELECT count(*) FROM events WHERE plan_id = ?", (plan.id,)).fetchone()[0]
        orphaned = conn.execute("SELECT count(*) FROM orphan_event_view WHERE plan_id = ?", (plan.id,)).fetchone()[0]
    return LoadResult(plan.id, plan.number, replaced, task_count, milestone_count, len(plan.agencies),
                      events_kept, orphaned)
