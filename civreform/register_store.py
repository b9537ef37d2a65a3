"""Store a validated agency register, and read group membership on a day from it.

A register is stored in one transaction that replaces its province's rows and never
touches progress events. task_member_periods, the members of each group-led task with
the days they answer for it, is derived from the register and a loaded plan: rebuilt,
never edited (see docs/agency-register.md).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import date

from civreform.db import write_transaction
from civreform.names import fold, search_key
from civreform.register import Register


@dataclass
class RegisterLoadResult:
    province: str
    replaced: bool
    agencies: int
    memberships: int
    events_kept: int
    plans: list[str] = field(default_factory=list)  # plans whose task members were worked out again
    task_members: int = 0                            # rows of task_member_periods for those plans


def store_register(conn: sqlite3.Connection, register: Register, plan_ids: list[str] = ()) -> RegisterLoadResult:
    """Insert or replace the register of `register.province`, in one transaction, and
    work out again (in the same transaction) the task members of `plan_ids`, plans
    already loaded that the register serves. Events are never touched."""
    with write_transaction(conn):
        province = register.province
        replaced = conn.execute("SELECT 1 FROM register_agencies WHERE province = ? LIMIT 1",
                                (province,)).fetchone() is not None
        conn.execute("DELETE FROM register_groups WHERE province = ?", (province,))
        conn.execute("DELETE FROM register_agencies WHERE province = ?", (province,))
        conn.executemany(
            """INSERT INTO register_agencies (province, code, seq, name, name_en, kind, aliases, valid_from,
                 valid_until, successor, basis, note, search_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [(province, a.code, seq, a.name, a.name_en, a.kind, json.dumps(list(a.aliases), ensure_ascii=False),
              _iso(a.valid_from), _iso(a.valid_until), a.successor, a.basis, a.note,
              search_key(a.code, a.name, a.name_en, list(a.aliases)))
             for seq, a in enumerate(register.agencies, 1)])
        memberships = [(province, group, a.code) for a in register.agencies for group in a.groups]
        conn.executemany("INSERT INTO register_groups (province, group_code, member_code) VALUES (?, ?, ?)",
                         memberships)
        rows = 0
        for plan_id in plan_ids:
            rows += rebuild_task_member_periods(conn, plan_id, province)
            apply_to_plan(conn, plan_id)
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    return RegisterLoadResult(province, replaced, len(register.agencies), len(memberships), events,
                              list(plan_ids), rows)


def plans_for_province(conn: sqlite3.Connection, province: str) -> list[str]:
    """The loaded plans a province's register serves: those whose `place` reads as the
    province code (Nam Định ~ nam-dinh), or whose task members it gave before."""
    found = [plan_id for plan_id, meta in conn.execute("SELECT plan_id, meta FROM plans ORDER BY plan_id")
             if _place_words(meta) == _code_words(province)]
    for (plan_id,) in conn.execute("SELECT DISTINCT plan_id FROM task_member_periods WHERE province = ? "
                                   "AND plan_id IN (SELECT plan_id FROM plans) ORDER BY plan_id", (province,)):
        if plan_id not in found:
            found.append(plan_id)
    return found


def refresh_plan_members(conn: sqlite3.Connection, plan_id: str) -> int:
    """Work out again the task members of a plan just stored (call it inside the plan's
    own load transaction): from the stored register that served it before, else the one
    whose province its `place` names. Without one, the plan has no rows. Returns them."""
    row = conn.execute("SELECT province FROM task_member_periods WHERE plan_id = ? LIMIT 1", (plan_id,)).fetchone()
    province = row[0] if row else None
    if province is None:
        meta = conn.execute("SELECT meta FROM plans WHERE plan_id = ?", (plan_id,)).fetchone()
        words = _place_words(meta[0]) if meta else ""
        province = next((code for (code,) in conn.execute("SELECT DISTINCT province FROM register_agencies")
                         if words and _code_words(code) == words), None)
    if province is None:
        conn.execute("DELETE FROM task_member_periods WHERE plan_id = ?", (plan_id,))
        return 0
    return rebuild_task_member_periods(conn, plan_id, province)


def _place_words(meta: str) -> str:
    try:
        place = json.loads(meta).get("place") or ""
    except (ValueError, AttributeError):
        return ""
    return fold(place) if isinstance(place, str) else ""


def _code_words(province: str) -> str:
    return " ".join(province.replace("_", "-").split("-"))


def expand_group_on(conn: sqlite3.Connection, province: str, group_code: str, day: date) -> list[str]:
    """The codes of the stored group's members valid on `day` (from <= day < until),
    in the register's order. The database twin of register.members_on."""
    return [code for (code,) in conn.execute(
        """SELECT a.code FROM register_groups g
           JOIN register_agencies a ON a.province = g.province AND a.code = g.member_code
           WHERE g.province = ? AND g.group_code = ?
             AND (a.valid_from IS NULL OR a.valid_from <= ?) AND (a.valid_until IS NULL OR ? < a.valid_until)
           ORDER BY a.seq""", (province, group_code, day.isoformat(), day.isoformat()))]


def fill_task_member_periods(conn: sqlite3.Connection, plan_id: str, province: str) -> int:
    """Work out again, in one transaction, the members of plan_id's group-led tasks from
    the stored register of `province`. Returns the number of rows."""
    with write_transaction(conn):
        return rebuild_task_member_periods(conn, plan_id, province)


def rebuild_task_member_periods(conn: sqlite3.Connection, plan_id: str, province: str) -> int:
    """fill_task_member_periods inside the caller's transaction.

    A task led by a group the register gives members gets one row per member that
    ever belongs to it, with the member's validity: a report can then take the members
    valid on a milestone's due date (valid_from <= due < valid_until, NULL ends open).
    A member of two leading groups counts once, through the first. A lead that is not
    such a group answers for itself beside them, valid as the register says (always,
    if it does not know it). Tasks with no such group get no rows: their leads report
    as before."""
    conn.execute("DELETE FROM task_member_periods WHERE plan_id = ?", (plan_id,))
    params = {"plan": plan_id, "province": province}
    conn.execute("""
        INSERT OR IGNORE INTO task_member_periods (plan_id, task_id, agency_code, valid_from, valid_until, via, province)
        SELECT ta.plan_id, ta.task_id, a.code, a.valid_from, a.valid_until, ta.agency_code, :province
        FROM task_agencies ta
        JOIN register_groups g ON g.province = :province AND g.group_code = ta.agency_code
        JOIN register_agencies a ON a.province = :province AND a.code = g.member_code
        WHERE ta.plan_id = :plan AND ta.role = 'lead'
        ORDER BY ta.task_id, ta.seq, a.seq""", params)
    conn.execute("""
        INSERT OR IGNORE INTO task_member_periods (plan_id, task_id, agency_code, valid_from, valid_until, via, province)
        SELECT ta.plan_id, ta.task_id, ta.agency_code, a.valid_from, a.valid_until, ta.agency_code, :province
        FROM task_agencies ta
        LEFT JOIN register_agencies a ON a.province = :province AND a.code = ta.agency_code
        WHERE ta.plan_id = :plan AND ta.role = 'lead'
          AND NOT EXISTS (SELECT 1 FROM register_groups g WHERE g.province = :province
                          AND g.group_code = ta.agency_code)
          AND EXISTS (SELECT 1 FROM task_member_periods p WHERE p.plan_id = ta.plan_id AND p.task_id = ta.task_id)
        ORDER BY ta.task_id, ta.seq""", params)
    return conn.execute("SELECT count(*) FROM task_member_periods WHERE plan_id = ?", (plan_id,)).fetchone()[0]


def apply_to_plan(conn: sqlite3.Connection, plan_id: str) -> None:
    """Give a stored plan the register's view of its agencies (inside the caller's
    transaction): each task a register group leads is reported by that group's members
    with the days they answer for it (task_members with valid_from/valid_until, from
    task_member_periods), and the register's bodies the plan does not name join the
    plan's agencies and groups, so that they can be found, shown and can report. The
    plan file's own rows are written again by every load, and this runs after them."""
    province = conn.execute("SELECT province FROM task_member_periods WHERE plan_id = ? LIMIT 1",
                            (plan_id,)).fetchone()
    if province is None:
        return
    params = {"plan": plan_id, "province": province[0]}
    seq = conn.execute("SELECT coalesce(max(seq), 0) FROM agencies WHERE plan_id = :plan", params).fetchone()[0]
    conn.execute("""
        INSERT INTO agencies (plan_id, code, seq, name, name_en, kind, aliases, note, search_key)
        SELECT :plan, r.code, :seq + r.seq, r.name, r.name_en, r.kind, r.aliases,
               'from the agency register of ' || r.province, r.search_key
        FROM register_agencies r WHERE r.province = :province
          AND NOT EXISTS (SELECT 1 FROM agencies a WHERE a.plan_id = :plan AND a.code = r.code)""",
                 {**params, "seq": seq})
    conn.execute("""
        INSERT OR IGNORE INTO agency_members (plan_id, group_code, member_code)
        SELECT :plan, g.group_code, g.member_code FROM register_groups g
        WHERE g.province = :province
          AND EXISTS (SELECT 1 FROM agencies a WHERE a.plan_id = :plan AND a.code = g.group_code)""", params)
    conn.execute("""DELETE FROM task_members WHERE plan_id = :plan
                    AND task_id IN (SELECT task_id FROM task_member_periods WHERE plan_id = :plan)""", params)
    conn.execute("""
        INSERT INTO task_members (plan_id, task_id, agency_code, via, valid_from, valid_until)
        SELECT plan_id, task_id, agency_code, via, valid_from, valid_until FROM task_member_periods
        WHERE plan_id = :plan""", params)
    conn.execute("""UPDATE tasks SET per_member = 1 WHERE plan_id = :plan
                    AND task_id IN (SELECT task_id FROM task_member_periods WHERE plan_id = :plan)""", params)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None
