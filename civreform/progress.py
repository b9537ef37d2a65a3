"""Recording progress: validation, then one transaction. Events are append-only: a
mistake is taken back by a retraction (an event naming the event), never by an edit."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from civreform import reports
from civreform.db import write_transaction
from civreform.dates import parse_user_date
from civreform.errors import CivreformError, DateInputError, ImportFileError, NotFoundError, ProgressError
from civreform.search import index_event

STATUSES = ("not-started", "in-progress", "done", "blocked")

# The words officials type in a sheet's status column (folded: no case, no diacritics).
STATUS_WORDS = {
    "chua thuc hien": "not-started", "chua bat dau": "not-started",
    "dang thuc hien": "in-progress", "dang trien khai": "in-progress",
    "da hoan thanh": "done", "hoan thanh": "done",
    "vuong mac": "blocked", "gap kho khan vuong mac": "blocked", "gap kho khan": "blocked",
}
STATUS_VI = {"not-started": "Chưa thực hiện", "in-progress": "Đang thực hiện", "done": "Đã hoàn thành",
             "blocked": "Vướng mắc"}

TEXT_LIMIT = 4000  # characters in a note or an evidence


@dataclass
class Draft:
    """A validated event, ready to insert."""

    plan_id: str
    task_id: str
    milestone: str
    agency: str
    status: str | None
    percent: int | None
    on: date
    note: str = ""
    evidence: str = ""
    by: str = ""
    source: str = "cli"
    due: date | None = None
    role: str = "lead"  # lead: decides the milestone; support: kept and shown only
    kind: str = "progress"
    retracts: int | None = None

    def key(self) -> tuple:
        """What makes two progress events the same report (for idempotent imports)."""
        return (self.plan_id, self.task_id, self.milestone, self.agency, self.status, self.percent,
                self.on.isoformat(), self.note, self.evidence)


def check_status(status: str) -> str:
    """A status as typed: the English word, or the Vietnamese one a sheet holds."""
    from civreform.names import fold

    value = (status or "").strip().lower()
    if value in STATUSES:
        return value
    folded = fold(value)
    if folded in STATUS_WORDS:
        return STATUS_WORDS[folded]
    raise ProgressError(f"unknown status {status!r} (one of {', '.join(STATUSES)}, "
                        f"or {', '.join(STATUS_VI.values())})")


def check_percent(status: str, percent) -> int | None:
    if percent in (None, ""):
        return {"done": 100, "not-started": 0}.get(status)
    try:
        value = int(str(percent).strip().rstrip("%").strip())
    except ValueError:
        raise ProgressError(f"percent {percent!r} is not a whole number from 0 to 100") from None
    if not 0 <= value <= 100:
        raise ProgressError(f"percent {value} is out of range (0 to 100)")
    if status == "done" and value != 100:
        raise ProgressError(f"status done means 100 %, not {value} %")
    if status == "not-started" and value != 0:
        raise ProgressError(f"status not-started means 0 %, not {value} %")
    return value


def check_text(value: str, what: str) -> str:
    value = value or ""
    if "\x00" in value:
        raise ProgressError(f"the {what} holds a NUL character")
    if len(value) > TEXT_LIMIT:
        raise ProgressError(f"the {what} is {len(value)} characters long (at most {TEXT_LIMIT})")
    return value


def _event_day(conn, plan_id: str, on, today: date) -> date:
    issued, = conn.execute("SELECT issued FROM plans WHERE plan_id = ?", (plan_id,)).fetchone()
    on_date = on if isinstance(on, date) else parse_user_date(on, today)
    if on_date < date.fromisoformat(issued):
        raise DateInputError(f"{on_date.isoformat()} is before the plan was issued ({issued})")
    if on_date > today:
        raise DateInputError(f"{on_date.isoformat()} is in the future (today is {today.isoformat()}); "
                             "record progress when it has happened")
    return on_date


def draft_event(conn: sqlite3.Connection, *, task: str, status: str, today: date, percent=None,
                on: date | str | None = None, milestone: str | None = None, agency: str | None = None,
                plan: str | None = None, note: str = "", evidence: str = "", by: str = "",
                source: str = "cli", agency_cache: dict | None = None) -> Draft:
    """Check one progress report against the plan; raise a CivreformError saying what is wrong.
    agency_cache: agencies already resolved in this command (an import resolves each once)."""
    status = check_status(status)
    percent = check_percent(status, percent)
    note, evidence = check_text(note, "note"), check_text(evidence, "evidence")
    plan_id, task_id = reports.find_task(conn, str(task).strip(), reports.resolve_plan(conn, plan))
    on_date = _event_day(conn, plan_id, today if on in (None, "") else on, today)
    per_member, = conn.execute("SELECT per_member FROM tasks WHERE plan_id = ? AND task_id = ?",
                               (plan_id, task_id)).fetchone()
    agency_code, role = _check_agency(conn, plan_id, task_id, per_member, agency, agency_cache)
    unit = agency_code if per_member and role == "lead" else ""
    label, due = _pick_milestone(conn, plan_id, task_id, unit, milestone, today)
    return Draft(plan_id, task_id, label, agency_code, status, percent, on_date, note, evidence, by or "", source,
                 due, role)


def _check_agency(conn, plan_id: str, task_id: str, per_member: int, agency: str | None,
                  cache: dict | None = None) -> tuple[str, str]:
    """(agency code, role) of the agency reporting: `lead` when its report decides the
    milestone (a lead agency, or a member of a leading group for its own unit), `support`
    when it is named on the task otherwise. An agency not named on the task is refused."""
    members = [r[0] for r in conn.execute(
        """SELECT agency_code FROM task_members tm WHERE plan_id = ? AND task_id = ?
           ORDER BY (SELECT seq FROM agencies a WHERE a.plan_id = tm.plan_id AND a.code = tm.agency_code)""",
        (plan_id, task_id))]
    if not agency:
        if per_member:
            raise ProgressError(
                f"task {task_id} is reported by each of its {len(members)} agencies: add --agency "
                f"(for example --agency {members[0]})")
        return "", "lead"
    key = (plan_id, agency)
    if cache is not None and key in cache:
        scope, related = cache[key]
    else:
        scope = reports.resolve_agency(conn, agency, plan_id)
        related = scope.lead_codes(conn, plan_id)
        if cache is not None:
            cache[key] = scope, related
    code = scope.code
    if code in members:
        return code, "lead"
    roles = dict(conn.execute(
        "SELECT agency_code, role FROM task_agencies WHERE plan_id = ? AND task_id = ?", (plan_id, task_id)))
    if roles.get(code) == "lead" and not per_member:
        return code, "lead"
    if roles.get(code) != "lead" and related & set(roles):
        return code, "support"
    if per_member:
        raise ProgressError(f"{code} does not report on task {task_id} (its reporting agencies: {', '.join(members)})")
    raise ProgressError(f"{code} is not named on task {task_id} (lead or support: {', '.join(sorted(roles))})")


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
        by_year = [r for r in rows if (r[1] or "")[:4] == wanted]
        chosen = exact or by_year
        if len(chosen) == 1:
            return chosen[0][0], _day(chosen[0][1])
        labels = ", ".join(f"{label} (due {due or 'on its event'})" for label, due in rows)
        if len(chosen) > 1:
            raise NotFoundError(f"task {task_id} has several milestones in {wanted}: {labels}; name one by label")
        raise NotFoundError(f"task {task_id} has no milestone {wanted!r} (milestones: {labels})")
    done = _done_labels(conn, plan_id, task_id, member, today)
    for label, due in rows:
        if label not in done:
            return label, _day(due)
    label, due = rows[-1]  # all done already: a further report goes to the last one
    return label, _day(due)


def _day(iso: str | None) -> date | None:
    return date.fromisoformat(iso) if iso else None


def _done_labels(conn, plan_id: str, task_id: str, member: str, as_of: date) -> set[str]:
    """The task's milestones done by as_of: the member's own share, or the milestone."""
    params = {"as_of": as_of.isoformat(), "plan": plan_id, "task": task_id, "member": member}
    head = reports.state_query(["t.plan_id = :plan", "t.task_id = :task"], params)
    sql = head + ("SELECT label FROM unit_state WHERE member = :member AND status = 'done'" if member
                  else "SELECT label FROM state WHERE status = 'done'")
    return {r[0] for r in conn.execute(sql, params)}


def insert_events(conn: sqlite3.Connection, drafts: list[Draft]) -> list[int]:
    """Append events in one transaction; all land or none."""
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    ids = []
    with write_transaction(conn):
        for d in drafts:
            cursor = conn.execute(
                """INSERT INTO events (plan_id, task_id, milestone, agency, status, percent, happened_on,
                     recorded_at, note, evidence, recorded_by, source, kind, retracts)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (d.plan_id, d.task_id, d.milestone, d.agency, d.status, d.percent, d.on.isoformat(), now,
                 d.note, d.evidence, d.by, d.source, d.kind, d.retracts),
            )
            ids.append(cursor.lastrowid)
            index_event(conn, cursor.lastrowid, d.plan_id, d.task_id, d.note, d.evidence)
    return ids


def _standing_now(conn, draft: Draft, today: date) -> dict:
    """The milestone's standing after an event (and the member's own, for a group)."""
    if not draft.milestone:
        return {"standing": "ongoing"}
    states = reports.milestone_states(conn, today, plan_id=draft.plan_id, task_id=draft.task_id)
    state = next(s for s in states if s["milestone"] == draft.milestone)
    result = {"standing": state["standing"], "units_done": state["units_done"], "units": state["units"],
              "due": state["due"]}
    if draft.agency and draft.role == "lead" and state["units"] > 1:
        scope = reports.resolve_agency(conn, draft.agency, draft.plan_id)
        own = reports.milestone_states(conn, today, plan_id=draft.plan_id, task_id=draft.task_id, scope=scope)
        result["agency_standing"] = next(s["standing"] for s in own if s["milestone"] == draft.milestone)
    return result


def record(conn: sqlite3.Connection, *, today: date, **fields) -> dict:
    """Validate and append one event; return what was recorded and the milestone's standing now."""
    draft = draft_event(conn, today=today, **fields)
    event_id, = insert_events(conn, [draft])
    return {"event": event_id, "plan": draft.plan_id, "task": draft.task_id, "milestone": draft.milestone,
            "agency": draft.agency, "role": draft.role, "status": draft.status, "percent": draft.percent,
            "on": draft.on.isoformat(), "due": draft.due.isoformat() if draft.due else None,
            **_standing_now(conn, draft, today)}


def retract(conn: sqlite3.Connection, event_id: int, *, reason: str, today: date, by: str = "") -> dict:
    """Append a retraction of one event: from then on every report behaves as if that
    event had never been recorded; history still shows both."""
    reason = check_text((reason or "").strip(), "reason")
    if not reason:
        raise ProgressError("a retraction needs a reason (--reason)")
    row = conn.execute("SELECT plan_id, task_id, milestone, agency, kind, (SELECT id FROM events r "
                       "WHERE r.retracts = e.id) FROM events e WHERE id = ?", (event_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no event {event_id} (see `civreform history`)")
    plan_id, task_id, milestone, agency, kind, retracted_by = row
    if kind == "retraction":
        raise ProgressError(f"event {event_id} is itself a retraction; a retraction cannot be retracted "
                            "(record the event again instead)")
    if retracted_by is not None:
        raise ProgressError(f"event {event_id} was already retracted by event {retracted_by}")
    draft = Draft(plan_id, task_id, milestone, agency, None, None, today, note=reason, by=by, source="cli",
                  kind="retraction", retracts=event_id)
    retraction_id, = insert_events(conn, [draft])
    result = {"event": retraction_id, "retracts": event_id, "plan": plan_id, "task": task_id,
              "milestone": milestone, "agency": agency}
    if kind == "progress" and conn.execute("SELECT 1 FROM tasks WHERE plan_id = ? AND task_id = ?",
                                           (plan_id, task_id)).fetchone():
        draft.role = "lead"
        result.update(_standing_now(conn, draft, today))
    return result


def trigger(conn: sqlite3.Connection, *, task: str, on, today: date, milestone: str | None = None,
            plan: str | None = None, note: str = "", by: str = "") -> dict:
    """Record that the event a conditional deadline waits for has happened: the
    milestone is then due its span of days after that day (at once when it has none)."""
    plan_id, task_id = reports.find_task(conn, str(task).strip(), reports.resolve_plan(conn, plan))
    waiting = conn.execute("SELECT label, after_event, after_days FROM milestones WHERE plan_id = ? AND task_id = ? "
                           "AND after_event IS NOT NULL ORDER BY seq", (plan_id, task_id)).fetchall()
    if not waiting:
        raise ProgressError(f"task {task_id} has no deadline that waits for an event")
    if milestone:
        waiting = [w for w in waiting if w[0].lower() == str(milestone).strip().lower()]
        if not waiting:
            raise NotFoundError(f"task {task_id} has no milestone {milestone!r} that waits for an event")
    if len(waiting) > 1:
        raise ProgressError(f"task {task_id} has several deadlines that wait for an event "
                            f"({', '.join(w[0] for w in waiting)}); name one with --milestone")
    label, event, days = waiting[0]
    earlier = conn.execute(
        "SELECT id, happened_on FROM events e WHERE plan_id = ? AND task_id = ? AND milestone = ? AND kind = 'trigger' "
        f"AND {reports.not_retracted_sql('e')}", (plan_id, task_id, label)).fetchone()
    if earlier:
        raise ProgressError(f"task {task_id} milestone {label}: its event was already recorded on {earlier[1]} "
                            f"(event {earlier[0]}); retract that event first to change it")
    on_date = _event_day(conn, plan_id, on, today)
    draft = Draft(plan_id, task_id, label, "", None, None, on_date, note=check_text(note, "note"), by=by,
                  kind="trigger")
    event_id, = insert_events(conn, [draft])
    return {"event": event_id, "plan": plan_id, "task": task_id, "milestone": label, "after_event": event,
            "on": on_date.isoformat(), "due": (on_date + timedelta(days=days or 0)).isoformat()}


# ── Spreadsheets ────────────────────────────────────────────────────────────

TEMPLATE_COLUMNS = ["plan", "task", "milestone", "agency", "role", "title", "due", "status", "percent", "date",
                    "note", "evidence"]
# A sheet's headers in Vietnamese (`template --lang vi`); `import` reads either.
TEMPLATE_HEADERS_VI = {"plan": "Kế hoạch", "task": "Nhiệm vụ", "milestone": "Mốc", "agency": "Cơ quan",
                       "role": "Vai trò", "title": "Tên nhiệm vụ", "due": "Thời hạn", "status": "Tình trạng",
                       "percent": "Tỷ lệ (%)", "date": "Ngày", "note": "Ghi chú", "evidence": "Minh chứng"}
ROLE_VI = {"lead": "Chủ trì", "support": "Phối hợp"}


def template_rows(conn: sqlite3.Connection, as_of: date, plan_id: str | None = None,
                  scope: reports.AgencyScope | None = None, vi: bool = False) -> list[dict]:
    """One row per open milestone (per reporting agency for group-led tasks), to fill in,
    pre-filled with the latest report; with an agency, also the tasks it supports (its
    report there is kept as support). A row left as it is imports as nothing new."""
    rows = []
    roles = ("lead", "support") if scope is not None else ("lead",)
    for role in roles:
        for unit in reports.open_units(conn, as_of, plan_id=plan_id, scope=scope, role=role):
            if role == "support":
                unit.update(agency=scope.code, status=None, percent=None, last_update=None, note="", evidence="")
            status = unit["status"] if unit["last_update"] else None
            rows.append({"plan": unit["plan"], "task": unit["task"], "milestone": unit["milestone"],
                         "agency": unit["agency"], "role": ROLE_VI[role] if vi else role, "title": unit["title"],
                         "due": unit["due"] or "", "status": (STATUS_VI[status] if vi else status) if status else "",
                         "percent": "" if unit["percent"] is None or not status else unit["percent"],
                         "date": unit["last_update"] or "", "note": unit["note"] or "",
                         "evidence": unit["evidence"] or ""})
    seen, unique = set(), []
    for row in rows:  # a unit listed once (an agency that both leads and supports a task)
        key = (row["plan"], row["task"], row["milestone"], row["agency"])
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique


def read_csv_rows(path, data: bytes | None = None) -> tuple[list[str], list[tuple[int, dict]]]:
    """Rows of a CSV saved by a person or a spreadsheet: UTF-8 with or without BOM,
    ',' or ';' separated, any line ends, English or Vietnamese headers. Returns
    (header, [(line number, row)]). A quoted field that runs over a line end is
    refused (an unbalanced quote would swallow the rows after it).
    With `data`, those are the file's bytes and `path` only names it (standard input)."""
    import csv
    import io
    from pathlib import Path

    from civreform.names import fold

    if data is not None:
        raw = data
        if len(raw) > IMPORT_LIMIT:
            raise ImportFileError(f"{path}: larger than {IMPORT_LIMIT // 1_000_000} MB; split it into several files")
    else:
        try:
            raw = _read_capped(Path(path))
        except OSError as error:
            raise ImportFileError(f"{path}: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(f"{path}: not UTF-8 text (byte {error.start}); save the file as CSV UTF-8") from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ImportFileError(f"{path}:{line}: a NUL character; save the file as CSV UTF-8")
    first_line = text.splitlines()[0] if text else ""
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    by_vi = {fold(vi): key for key, vi in TEMPLATE_HEADERS_VI.items()}
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(f"{path}: the file is empty") from None
    except csv.Error as error:
        raise ImportFileError(f"{path}:1: {error}") from None
    header = [by_vi.get(fold(h), h.strip().lower()) for h in header]
    missing = [c for c in ("task", "status") if c not in header]
    if missing:
        raise ImportFileError(f"{path}:1: missing column(s) {', '.join(missing)} (the header is: {', '.join(header)})")
    rows = []
    line = 1
    try:
        for record in reader:
            start, line = line + 1, reader.line_num
            if line != start:
                raise ImportFileError(f"{path}:{start}: a quoted field runs over {line - start + 1} lines "
                                      "(an unbalanced quote?); nothing imported")
            if not any(cell.strip() for cell in record):
                continue
            rows.append((line, {name: (record[i].strip() if i < len(record) else "") for i, name in enumerate(header)}))
    except csv.Error as error:
        if "unexpected end of data" in str(error):
            raise ImportFileError(f"{path}:{line + 1}: a quoted field runs over the following lines to the end "
                                  "of the file (an unbalanced quote?); nothing imported") from None
        raise ImportFileError(f"{path}:{line + 1}: {error}") from None
    return header, rows


IMPORT_LIMIT = 50_000_000  # bytes of one CSV file


def _read_capped(path) -> bytes:
    """A file's bytes, refused past IMPORT_LIMIT (never read a device without end)."""
    with open(path, "rb") as handle:
        raw = handle.read(IMPORT_LIMIT + 1)
    if len(raw) > IMPORT_LIMIT:
        raise ImportFileError(f"{path}: larger than {IMPORT_LIMIT // 1_000_000} MB; split it into several files")
    return raw


def import_day(text: str) -> date:
    """A date as a sheet holds it: ISO, day-first, or a spreadsheet's serial day number
    (41590 is 2013-11-12: days since 1899-12-30, as Excel and LibreOffice count)."""
    value = text.strip()
    if value.isdigit() and 20000 <= int(value) <= 80000:
        return date(1899, 12, 30) + timedelta(days=int(value))
    return parse_user_date(value)


def import_csv(conn: sqlite3.Connection, path, *, today: date, by: str = "", progress=None,
               data: bytes | None = None, plan: str | None = None) -> dict:
    """Apply a filled-in template in one transaction. Any bad row rejects the whole file,
    and every bad row is named by its line number. Rows with no status are skipped; a
    row already recorded (the same report: task, milestone, agency, status, percent,
    date, note, evidence) is counted and not recorded again, so importing a file twice
    records its events once. `data`: the CSV's bytes when they do not come from `path`."""
    _header, rows = read_csv_rows(path, data)
    drafts: list[Draft] = []
    problems: list[str] = []
    skipped = 0
    agencies: dict = {}
    for count, (line, row) in enumerate(rows, 1):
        if not row.get("status"):
            skipped += 1
            continue
        try:
            if not row.get("date"):
                raise ProgressError("a status but no date: write the day it happened (31/12/2013 or 2013-12-31)")
            drafts.append(draft_event(
                conn, task=row.get("task", ""), status=row["status"], today=today, percent=row.get("percent"),
                on=import_day(row["date"]), milestone=row.get("milestone") or None,
                agency=row.get("agency") or None, plan=row.get("plan") or plan, note=_uncell(row.get("note", "")),
                evidence=_uncell(row.get("evidence", "")), by=row.get("by") or by, source=f"import:{path}",
                agency_cache=agencies,
            ))
        except CivreformError as error:
            problems.append(f"line {line}: {error}")
        if progress is not None:
            progress(count, len(rows))
    if problems:
        raise ImportFileError(
            f"{path}: {len(problems)} bad row(s), nothing imported\n" + "\n".join(f"  {p}" for p in problems))
    recorded = _recorded_keys(conn, drafts)
    new: list[Draft] = []
    for draft in drafts:
        if draft.key() not in recorded:
            recorded.add(draft.key())  # a row repeated within the file records once too
            new.append(draft)
    ids = insert_events(conn, new) if new else []
    return {"file": str(path), "recorded": len(ids), "already": len(drafts) - len(new), "skipped": skipped}


def _recorded_keys(conn, drafts: list[Draft]) -> set[tuple]:
    """The keys of the progress events already recorded (and not retracted) on the
    milestones these drafts report on."""
    keys: set[tuple] = set()
    for plan_id, task_id, milestone in {(d.plan_id, d.task_id, d.milestone) for d in drafts}:
        for row in conn.execute(
                "SELECT plan_id, task_id, milestone, agency, status, percent, happened_on, note, evidence FROM events e "
                f"WHERE plan_id = ? AND task_id = ? AND milestone = ? AND kind = 'progress' "
                f"AND {reports.not_retracted_sql('e')}", (plan_id, task_id, milestone)):
            keys.add(tuple(row))
    return keys


def _uncell(text: str) -> str:
    """Undo our own CSV formula neutralising (a leading apostrophe before = + - @)."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        return text[1:]
    return text
