"""Recording progress: validation, then one transaction. Events are append-only;
a correction is a new event."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timezone

from civreform import reports
from civreform.db import write_transaction
from civreform.dates import parse_user_date
from civreform.errors import CivreformError, DateInputError, NotFoundError, ProgressError


STATUSES = ("not-started", "in-progress", "done", "blocked")


@dataclass
class Draft:
    """A validated event, ready to insert."""

    plan_id: str
    task_id: str
    milestone: str
    agency: str
    status: str
    percent: int | None
    on: date
    note: str = ""
    evidence: str = ""
    by: str = ""
    source: str = "cli"
    due: date | None = None


def check_status(status: str) -> str:
    value = (status or "").strip().lower()
    if value not in STATUSES:
        raise ProgressError(f"unknown status {status!r} (one of {', '.join(STATUSES)})")
    return value


def check_percent(status: str, percent) -> int | None:
    if percent in (None, ""):
        return {"done": 100, "not-started": 0}.get(status)
    try:
        value = int(str(percent).strip().rstrip("%"))
    except ValueError:
        raise ProgressError(f"percent {percent!r} is not a whole number from 0 to 100") from None
    if not 0 <= value <= 100:
        raise ProgressError(f"percent {value} is out of range (0 to 100)")
    if status == "done" and value != 100:
        raise ProgressError(f"status done means 100 %, not {value} %")
    if status == "not-started" and value != 0:
        raise ProgressError(f"status not-started means 0 %, not {value} %")
    return value


def draft_event(conn: sqlite3.Connection, *, task: str, status: str, today: date, percent=None,
                on: date | str | None = None, milestone: str | None = None, agency: str | None = None,
                plan: str | None = None, note: str = "", evidence: str = "", by: str = "",
                source: str = "cli") -> Draft:
    """Check one progress report against the plan; raise a CivreformError saying what is wrong."""
    status = check_status(status)
    percent = check_percent(status, percent)
    plan_id, task_id = reports.find_task(conn, str(task).strip(), plan)
    issued, = conn.execute("SELECT issued FROM plans WHERE plan_id = ?", (plan_id,)).fetchone()
    if on is None or on == "":
        on_date = today
    elif isinstance(on, date):
        on_date = on
    else:
        on_date = parse_user_date(on, today)
    if on_date < date.fromisoformat(issued):
        raise DateInputError(f"{on_date.isoformat()} is before the plan was issued ({issued})")
    if on_date > today:
        raise DateInputError(f"{on_date.isoformat()} is in the future (today is {today.isoformat()}); "
                             "record progress when it has happened")
    per_member, = conn.execute("SELECT per_member FROM tasks WHERE plan_id = ? AND task_id = ?",
                               (plan_id, task_id)).fetchone()
    agency_code = _check_agency(conn, plan_id, task_id, per_member, agency)
    label, due = _pick_milestone(conn, plan_id, task_id, agency_code if per_member else "", milestone, today)
    return Draft(plan_id, task_id, label, agency_code, status, percent, on_date, note or "", evidence or "",
                 by or "", source, due)


def _check_agency(conn, plan_id: str, task_id: str, per_member: int, agency: str | None) -> str:
    members = [r[0] for r in conn.execute(
        """SELECT agency_code FROM task_members tm WHERE plan_id = ? AND task_id = ?
           ORDER BY (SELECT seq FROM agencies a WHERE a.plan_id = tm.plan_id AND a.code = tm.agency_code)""",
        (plan_id, task_id))]
    if not agency:
        if per_member:
            raise ProgressError(
                f"task {task_id} is reported by each of its {len(members)} agencies: add --agency "
                f"(for example --agency {members[0]})")
        return ""
    scope = reports.resolve_agency(conn, agency, plan_id)
    code = scope.code
    if per_member:
        if code not in members:
            raise ProgressError(f"{code} does not report on task {task_id} (its reporting agencies: {', '.join(members)})")
        return code
    related = {c for _p, c in reports._related(conn, [(plan_id, code)], upward=True)}
    named = {r[0] for r in conn.execute(
        "SELECT agency_code FROM task_agencies WHERE plan_id = ? AND task_id = ?", (plan_id, task_id))}
    if not related & named:
        raise ProgressError(f"{code} is not named on task {task_id} (lead or support: {', '.join(sorted(named))})")
    return code


def _pick_milestone(conn, plan_id: str, task_id: str, member: str, wanted: str | None, today: date):
    rows = conn.execute("SELECT label, due FROM milestones WHERE plan_id = ? AND task_id = ? ORDER BY seq",
                        (plan_id, task_id)).fetchall()
    if not rows:
        if wanted:
            raise NotFoundError(f"task {task_id} is ongoing and has no milestone {wanted!r}")
        return "", None
    if wanted:
        wanted = str(wanted).strip()
        exact = [r for r in rows if r[0] == wanted or r[0].lower() == wanted.lower()]
        by_year = [r for r in rows if r[1][:4] == wanted]
        chosen = exact or by_year
        if len(chosen) == 1:
            return chosen[0][0], date.fromisoformat(chosen[0][1])
        labels = ", ".join(f"{label} (due {due})" for label, due in rows)
        if len(chosen) > 1:
            raise NotFoundError(f"task {task_id} has several milestones in {wanted}: {labels}; name one by label")
        raise NotFoundError(f"task {task_id} has no milestone {wanted!r} (milestones: {labels})")
    for label, due in rows:
        if not _unit_done(conn, plan_id, task_id, label, member, today):
            return label, date.fromisoformat(due)
    label, due = rows[-1]  # all done already: a correction goes to the last one
    return label, date.fromisoformat(due)


def _unit_done(conn, plan_id, task_id, label, member, as_of: date) -> bool:
    sql = ("SELECT status FROM events WHERE plan_id = ? AND task_id = ? AND milestone = ? AND happened_on <= ?"
           + (" AND agency = ?" if member else "") + " ORDER BY happened_on DESC, id DESC LIMIT 1")
    params = [plan_id, task_id, label, as_of.isoformat()] + ([member] if member else [])
    row = conn.execute(sql, params).fetchone()
    return bool(row and row[0] == "done")


def insert_events(conn: sqlite3.Connection, drafts: list[Draft]) -> list[int]:
    """Append events in one transaction; all land or none."""
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    ids = []
    with write_transaction(conn):
        for d in drafts:
            cursor = conn.execute(
                """INSERT INTO events (plan_id, task_id, milestone, agency, status, percent, happened_on,
                     recorded_at, note, evidence, recorded_by, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (d.plan_id, d.task_id, d.milestone, d.agency, d.status, d.percent, d.on.isoformat(), now,
                 d.note, d.evidence, d.by, d.source),
            )
            ids.append(cursor.lastrowid)
    return ids


def record(conn: sqlite3.Connection, *, today: date, **fields) -> dict:
    """Validate and append one event; return what was recorded and the milestone's standing now."""
    draft = draft_event(conn, today=today, **fields)
    event_id, = insert_events(conn, [draft])
    result = {"event": event_id, "plan": draft.plan_id, "task": draft.task_id, "milestone": draft.milestone,
              "agency": draft.agency, "status": draft.status, "percent": draft.percent, "on": draft.on.isoformat(),
              "due": draft.due.isoformat() if draft.due else None}
    if draft.due is None:
        result["standing"] = "ongoing"
        return result
    states = reports.milestone_states(conn, today, plan_id=draft.plan_id, task_id=draft.task_id)
    state = next(s for s in states if s["task"] == draft.task_id and s["milestone"] == draft.milestone)
    result["standing"] = state["standing"]
    result["units_done"], result["units"] = state["units_done"], state["units"]
    if draft.agency and state["units"] > 1:
        # The member's own standing, from the same query the reports use.
        scope = reports.resolve_agency(conn, draft.agency, draft.plan_id)
        own = reports.milestone_states(conn, today, plan_id=draft.plan_id, task_id=draft.task_id, scope=scope)
        result["agency_standing"] = next(s["standing"] for s in own if s["milestone"] == draft.milestone)
    return result


# ── Spreadsheets ────────────────────────────────────────────────────────────

TEMPLATE_COLUMNS = ["plan", "task", "milestone", "agency", "title", "due", "status", "percent", "date", "note",
                    "evidence"]


def template_rows(conn: sqlite3.Connection, as_of: date, plan_id: str | None = None,
                  scope: reports.AgencyScope | None = None) -> list[dict]:
    """One row per open milestone (per reporting agency for group-led tasks), to fill in."""
    rows = []
    for unit in reports.open_units(conn, as_of, plan_id=plan_id, scope=scope):
        rows.append({"plan": unit["plan"], "task": unit["task"], "milestone": unit["milestone"],
                     "agency": unit["agency"], "title": unit["title"], "due": unit["due"],
                     "status": "", "percent": "", "date": "", "note": "", "evidence": ""})
    return rows


def read_csv_rows(path, data: bytes | None = None) -> tuple[list[str], list[tuple[int, dict]]]:
    """Rows of a CSV saved by a person or a spreadsheet: UTF-8 with or without BOM,
    ',' or ';' separated, any line ends. Returns (header, [(line number, row)]).
    With `data`, those are the file's bytes and `path` only names it (standard input)."""
    import csv
    from pathlib import Path

    from civreform.errors import ImportFileError

    if data is not None:
        raw = data
    else:
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise ImportFileError(f"{path}: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(f"{path}: not UTF-8 text (byte {error.start}); save the file as CSV UTF-8") from None
    first_line = text.splitlines()[0] if text else ""
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    import io

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(f"{path}: the file is empty") from None
    except csv.Error as error:
        raise ImportFileError(f"{path}:1: {error}") from None
    header = [h.strip().lower() for h in header]
    missing = [c for c in ("task", "status") if c not in header]
    if missing:
        raise ImportFileError(f"{path}:1: missing column(s) {', '.join(missing)} (the header is: {', '.join(header)})")
    rows = []
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            rows.append((line, {name: (record[i].strip() if i < len(record) else "") for i, name in enumerate(header)}))
    except csv.Error as error:
        raise ImportFileError(f"{path}:{reader.line_num}: {error}") from None
    return header, rows


def import_csv(conn: sqlite3.Connection, path, *, today: date, by: str = "", progress=None,
               data: bytes | None = None) -> dict:
    """Apply a filled-in template in one transaction. Any bad row rejects the whole file,
    and every bad row is named by its line number. Rows with no status are skipped.
    `data`: the CSV's bytes when they do not come from `path` (standard input)."""
    from civreform.errors import ImportFileError

    _header, rows = read_csv_rows(path, data)
    drafts: list[Draft] = []
    problems: list[str] = []
    skipped = 0
    for count, (line, row) in enumerate(rows, 1):
        if not row.get("status"):
            skipped += 1
            continue
        try:
            drafts.append(draft_event(
                conn, task=row.get("task", ""), status=row["status"], today=today, percent=row.get("percent"),
                on=row.get("date") or None, milestone=row.get("milestone") or None,
                agency=row.get("agency") or None, plan=row.get("plan") or None, note=_uncell(row.get("note", "")),
                evidence=_uncell(row.get("evidence", "")), by=row.get("by") or by, source=f"import:{path}",
            ))
        except CivreformError as error:
            problems.append(f"line {line}: {error}")
        if progress is not None:
            progress(count, len(rows))
    if problems:
        raise ImportFileError(
            f"{path}: {len(problems)} bad row(s), nothing imported\n" + "\n".join(f"  {p}" for p in problems))
    ids = insert_events(conn, drafts) if drafts else []
    return {"file": str(path), "recorded": len(ids), "skipped": skipped}


def _uncell(text: str) -> str:
    """Undo our own CSV formula neutralising (a leading apostrophe before = + - @)."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        return text[1:]
    return text
