"""Store a validated plan in the database: one transaction, progress untouched."""

from __future__ import annotations

import gc
import json
import sqlite3
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from operator import itemgetter

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


BATCH_TASKS = 5000  # tasks per round of inserts (and of the progress bar)
FIRST_BATCH_TASKS = 1000  # a small first batch: the progress bar moves sooner


def sql_text(value: str) -> str:
    """An SQL string literal. The plan id goes into the insert statements as one, so
    that no row binds it: at 100k tasks that is 600k parameters fewer."""
    return "'" + value.replace("'", "''") + "'"


class _Batch:
    """The rows of a few thousand tasks, without their plan id (which every row shares)."""

    def __init__(self):
        self.tasks, self.leads, self.supports, self.members, self.milestones = [], [], [], [], []
        self.in_key_order = False

    def add(self, task, expanded: dict[str, list[str]], known: tuple[dict, dict, dict]) -> None:
        """The task's rows. `known` keeps what tasks share, by leads, by deadline and by
        due date (plans repeat a few of each many times): worked out once each."""
        by_leads, by_deadline, by_due = known
        leads = tuple(task.lead)
        by_lead = by_leads.get(leads)
        if by_lead is None:
            members: dict[str, str] = {}
            for lead in leads:
                for member in expanded[lead]:
                    members.setdefault(member, lead)
            per_member = any(member != via for member, via in members.items())
            by_lead = by_leads[leads] = (list(members.items()) if per_member else None, int(per_member),
                                      len(members) if per_member else 1, ",".join(leads))
        members, per_member, units, lead_codes = by_lead
        deadline = tuple(task.deadline)
        deadline_json = by_deadline.get(deadline)
        if deadline_json is None:
            deadline_json = by_deadline[deadline] = json.dumps([_spec_json(s) for s in deadline], ensure_ascii=False)
        task_id, seq, title, title_en = task.id, task.seq, task.title, task.title_en
        self.tasks.append(
            (task_id, seq, task.section, title, title_en, task.content, task.content_en,
             task.lead_text, task.support_text, task.time_text, deadline_json, task.note,
             json.dumps(task.target, ensure_ascii=False) if task.target is not None else None, per_member,
             lead_codes))
        self.leads += [(task_id, code, number) for number, code in enumerate(leads, 1)]
        if task.support:
            self.supports += [(task_id, code, number) for number, code in enumerate(task.support, 1)]
        if members:
            self.members += [(task_id, member, via) for member, via in members]
        for number, milestone in enumerate(task.milestones, 1):
            due = by_due.get(milestone.due)
            if due is None:
                due = by_due[milestone.due] = (milestone.due.isoformat(), milestone.due.toordinal())
            self.milestones.append((due[0], seq, number, task_id, milestone.label, milestone.label_vi, title,
                                    title_en, lead_codes, per_member, due[1], units))

    def write(self, conn: sqlite3.Connection, plan_id: str) -> None:
        """Insert the rows table by table, each in key order (rows in key order
        append to a b-tree instead of landing all over it); milestones go into
        milestone_report with the state of no reports yet."""
        plan = sql_text(plan_id)
        self.rows()
        conn.executemany(
            f"""INSERT INTO tasks (plan_id, task_id, seq, section, title, title_en, content, content_en, lead_text,
                  support_text, time_text, deadline, note, target, per_member, lead_codes)
                VALUES ({plan}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", self.tasks)  # noqa: S608
        for role, rows in (("lead", self.leads), ("support", self.supports)):
            conn.executemany(f"INSERT INTO task_agencies (plan_id, task_id, role, agency_code, seq) "  # noqa: S608
                             f"VALUES ({plan}, ?, '{role}', ?, ?)", rows)
        conn.executemany(f"INSERT INTO task_members (plan_id, task_id, agency_code, via) "  # noqa: S608
                         f"VALUES ({plan}, ?, ?, ?)", self.members)
        conn.executemany(
            f"""INSERT INTO milestone_report (due, plan_id, task_seq, milestone_seq, task_id, label, label_vi, title,
                  title_en, lead, per_member, due_day, units, units_done, status, percent, last_on, done_on)
                VALUES (?, {plan}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 'not-started', 0, NULL, NULL)""",  # noqa: S608
            self.milestones)
        self.__init__()

    def rows(self) -> tuple:
        """The rows, each list sorted by its table's key (inserted in that order they
        store ~0.25 s faster at 100k tasks)."""
        if not self.in_key_order:
            for rows in (self.tasks, self.leads, self.supports, self.members):
                rows.sort()
            self.milestones.sort(key=itemgetter(3, 4))  # by task and label: the report's key index
            self.in_key_order = True
        return self.tasks, self.leads, self.supports, self.members, self.milestones


@contextmanager
def _collector_paused():
    """Python's cycle collector off while batches of rows come and go: at 100k tasks
    it would walk ~600k row tuples, none of them in a cycle, ~0.1 s of the store."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def task_batches(plan: Plan):
    """The plan's tasks as batches of rows: yields
    (batch, tasks so far, milestones so far, (done, total)) after the first
    FIRST_BATCH_TASKS tasks, then every BATCH_TASKS, and at the end."""
    expanded = {agency.code: expand_members(plan, agency.code) for agency in plan.agencies}
    known: tuple[dict, dict, dict] = ({}, {}, {})  # see _Batch.add
    batch, tasks, milestones, full_at = _Batch(), 0, 0, FIRST_BATCH_TASKS
    for task in plan.tasks:
        batch.add(task, expanded, known)
        tasks += 1
        milestones += len(task.milestones)
        if tasks == full_at:
            yield batch, tasks, milestones, (tasks, len(plan.tasks))
            batch, full_at = _Batch(), full_at + BATCH_TASKS
    yield batch, tasks, milestones, (1, 1)


def store_plan(conn: sqlite3.Connection, plan: Plan, progress=None) -> LoadResult:
    """Insert or update one plan in place. Events are never touched.

    The plan's own rows (agencies, tasks, milestones) are replaced by the file's;
    events keep their natural keys, so an event whose task or milestone left the
    plan stays, and is counted as orphaned.
    """
    from civreform.reports import orphan_groups

    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    batches = task_batches(plan)
    with closing(batches), write_transaction(conn):
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
        task_count = milestone_count = 0
        with _collector_paused():
            for batch, task_count, milestone_count, done in batches:
                batch.write(conn, plan.id)
                if progress is not None:
                    progress(*done)
        events_kept = conn.execute("SELECT count(*) FROM events WHERE plan_id = ?", (plan.id,)).fetchone()[0]
        if events_kept:
            refresh_report_state(conn, plan.id)  # a reload: reports already made count
        orphaned = sum(group[3] for group in orphan_groups(conn, plan.id))
    return LoadResult(plan.id, plan.number, replaced, task_count, milestone_count, len(plan.agencies),
                      events_kept, orphaned)
