"""Store a validated plan in the database: one transaction, progress untouched."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone

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


def store_plan(conn: sqlite3.Connection, plan: Plan, progress=None) -> LoadResult:
    """Insert or update one plan in place. Events are never touched.

    The plan's own rows (agencies, tasks, milestones) are replaced by the file's;
    events keep their natural keys, so an event whose task or milestone left the
    plan stays, and is counted as orphaned (and counts again if the plan brings
    the task back).
    """
    from civreform.reports import orphan_groups

    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with write_transaction(conn):
        replaced = conn.execute("SELECT 1 FROM plans WHERE plan_id = ?", (plan.id,)).fetchone() is not None
        for table in ("milestones", "task_members", "task_agencies", "tasks", "agency_members", "agencies"):
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
            "INSERT INTO agencies (plan_id, code, seq, name, name_en, kind, aliases, note, search_key) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(plan.id, a.code, seq, a.name, a.name_en, a.kind, json.dumps(a.aliases, ensure_ascii=False), a.note,
              search_key(a.code, a.name, a.name_en, a.aliases)) for seq, a in enumerate(plan.agencies, 1)],
        )
        conn.executemany(
            "INSERT INTO agency_members (plan_id, group_code, member_code) VALUES (?, ?, ?)",
            [(plan.id, a.code, m) for a in plan.agencies for m in a.members],
        )
        milestones = 0
        for done, task in enumerate(plan.tasks, 1):
            members = _reporting_members(plan, task.lead)
            conn.execute(
                """INSERT INTO tasks (plan_id, task_id, seq, section, title, title_en, content, content_en, lead_text,
                     support_text, time_text, deadline, note, target, per_member, lead_codes)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (plan.id, task.id, task.seq, task.section, task.title, task.title_en, task.content, task.content_en,
                 task.lead_text, task.support_text, task.time_text,
                 json.dumps([_spec_json(s) for s in task.deadline], ensure_ascii=False), task.note,
                 json.dumps(task.target, ensure_ascii=False) if task.target is not None else None,
                 int(bool(members)), ",".join(task.lead)))
            conn.executemany(
                "INSERT INTO task_agencies (plan_id, task_id, role, agency_code, seq) VALUES (?, ?, ?, ?, ?)",
                [(plan.id, task.id, "lead", code, n) for n, code in enumerate(task.lead, 1)]
                + [(plan.id, task.id, "support", code, n) for n, code in enumerate(task.support, 1)])
            conn.executemany("INSERT INTO task_members (plan_id, task_id, agency_code, via) VALUES (?, ?, ?, ?)",
                             [(plan.id, task.id, member, via) for member, via in members])
            conn.executemany(
                """INSERT INTO milestones (plan_id, task_id, label, label_vi, due, after_event, after_days, seq)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                [(plan.id, task.id, m.label, m.label_vi, m.due.isoformat() if m.due else None,
                  getattr(m, "after_event", None), getattr(m, "after_days", None), n)
                 for n, m in enumerate(task.milestones, 1)])
            milestones += len(task.milestones)
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
