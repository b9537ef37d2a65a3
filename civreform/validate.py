"""Checking located plan data and building the Plan: each value's shape, then what it refers to.

The checks are written out here rather than declared for a schema library (msgspec,
pydantic): every error must name the exact line of the value at fault, read as one
plain sentence in the vocabulary of the plan ("task 12: lead must name at least one
agency"), and come in the order of the file. A schema library reports a path into the
data, not a line, and its messages would need rewriting one by one; the checks
would stay as long, with a translation layer on top.
"""

from __future__ import annotations

import re
from datetime import date

from civreform.dates import parse_user_date
from civreform.deadlines import RULE_KEYS, DeadlineSpec, milestones_for
from civreform.errors import DateInputError, DeadlineError, PlanFileError
from civreform.model import Agency, Plan, Task
from civreform.plan_source import Located, LocatedList, line_at

FORMAT = "civreform-plan/1"
AGENCY_KINDS = ("committee", "department", "city", "district", "commune", "group", "other")
CODE_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]*")
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
TASK_FIELDS = frozenset({"id", "section", "title", "title_en", "content", "content_en", "lead_text", "lead",
                         "support_text", "support", "time_text", "deadline", "note", "target"})
_TASK_TEXT_DEFAULTS = {"content": "", "section": "appendix", "title": "", "title_en": "", "content_en": "",
                       "lead_text": "", "support_text": "", "note": ""}
RULE_FIELDS = frozenset(RULE_KEYS)  # deadlines.rule_from_mapping reads them

# Limits on what a plan holds (real plans: 10-300 tasks, some 50 agencies, cells of a few hundred characters).
MAX_TASKS = 5_000
MAX_AGENCIES = 1_000
MAX_TEXT_CHARS = 10_000  # one text field: a task's content, a name, a note
MAX_MILESTONES = 50_000  # deadlines laid out over the plan's years (a yearly rule gives one a year)
MAX_GROUP_LEVELS = 10  # groups whose members are groups, and so on
MAX_GROUP_REACH = 10_000  # agencies a group reaches through its members, counted once per path


def validate_plan(document, name: str) -> Plan:
    """The Plan in `document` (from plan_source), or the first PlanFileError in file order."""
    fields = _Fields(name)
    if document is None:
        raise fields.fail("the file is empty", None)
    root = fields.mapping(document, "the plan file", 1)
    fields.check_keys(root, {"format", "plan", "agencies", "tasks"}, ("plan", "agencies", "tasks"), "the plan file")
    if "format" in root and root["format"] != FORMAT:
        raise fields.fail(f"unknown format {root['format']!r} (this civreform reads {FORMAT})",
                          fields.line_of(root, "format"))
    plan, known = _head(fields, root)
    tasks, line = root["tasks"], fields.line_of(root, "tasks")
    if not isinstance(tasks, list) or not tasks:
        raise fields.fail("tasks must be a non-empty list", line)
    if len(tasks) > MAX_TASKS:
        raise fields.fail(f"{len(tasks):,} tasks; a plan file holds at most {MAX_TASKS:,}", line)
    reader = _TaskReader(fields, known, plan.period_start, plan.period_end)
    plan.tasks = [reader.task(item, line_at(tasks, index), index) for index, item in enumerate(tasks)]
    return plan


class _Fields:
    """Typed reading of one value of a located mapping; every error names the file and the line."""

    def __init__(self, name: str):
        self.name = name

    def fail(self, problem: str, line: int | None) -> PlanFileError:
        return PlanFileError(problem, self.name, line)

    def mapping(self, value, what: str, line: int | None) -> Located:
        if not isinstance(value, Located):
            raise self.fail(f"{what} must be a mapping (key: value lines)", line)
        return value

    @staticmethod
    def line_of(mapping: Located, key: str) -> int | None:
        return mapping.lines.get(key, mapping.line)

    def check_keys(self, mapping: Located, allowed: set[str], required: tuple[str, ...], what: str):
        if not mapping.keys() <= allowed:  # (a set comparison in C: the common case costs little)
            key = next(key for key in mapping if key not in allowed)
            raise self.fail(f"unknown field {key!r} in {what} (allowed: {', '.join(sorted(allowed))})",
                            self.line_of(mapping, key))
        for key in required:  # callers pass them in the order to report
            if mapping.get(key) in (None, ""):
                raise self.fail(f"{what} is missing the field {key!r}", mapping.line)

    def text(self, mapping: Located, key: str, what: str, default: str = "") -> str:
        value = mapping.get(key, default)
        if type(value) is str:  # the common case, checked first: plans hold a lot of text
            if "\0" in value:  # SQLite's printf (overdue CSV, render.csv_line_sql) would end the text there
                raise self.fail(f"{what}: {key} contains a NUL character (\\0); plan text cannot hold one",
                                self.line_of(mapping, key))
            if len(value) > MAX_TEXT_CHARS:
                raise self.fail(f"{what}: {key} is {len(value):,} characters long; a text holds at most "
                                f"{MAX_TEXT_CHARS:,}", self.line_of(mapping, key))
            return value.strip()
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.fail(f"{what}: {key} must be text", self.line_of(mapping, key))
        return str(value).strip()

    def date_field(self, mapping: Located, key: str, what: str) -> date:
        raw = mapping.get(key)
        line = self.line_of(mapping, key)
        if not isinstance(raw, str):
            raise self.fail(f"{what}: {key} must be a date such as 2013-08-14", line)
        try:
            return parse_user_date(raw)
        except DateInputError as error:
            raise self.fail(f"{what}: {key}: {error}", line) from None

    def codes(self, mapping: Located, key: str, what: str, known: dict[str, Agency]) -> list[str]:
        value = mapping.get(key)
        if type(value) is LocatedList or type(value) is list:
            try:
                distinct = set(value)
            except TypeError:  # an item that cannot be a code: reported below
                distinct = None
            if distinct is not None and len(distinct) == len(value) and known.keys() >= distinct:
                return list(value)  # the common case: known codes, each once
        line = self.line_of(mapping, key)
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.fail(f"{what}: {key} must be a list of agency codes", line)
        codes: list[str] = []
        for index, code in enumerate(value):
            item_line = line_at(value, index) or line
            if not isinstance(code, str) or code not in known:
                raise self.fail(f"{what}: unknown agency code {code!r} in {key}", item_line)
            if code in codes:
                raise self.fail(f"{what}: agency {code!r} is listed twice in {key}", item_line)
            codes.append(code)
        return codes


# ── the plan and its agencies ───────────────────────────────────────────────

def _head(fields: _Fields, root: Located) -> tuple[Plan, dict[str, Agency]]:
    """The plan without its tasks, and its agencies by code."""
    head = fields.mapping(root["plan"], "plan", fields.line_of(root, "plan"))
    fields.check_keys(
        head,
        {"id", "number", "issued", "title", "title_en", "place", "issuer", "signer", "signer_title",
         "signer_title_en", "monitor", "period", "legal_bases", "note"},
        ("id", "number", "issued", "title"),
        "plan",
    )
    plan_id = fields.text(head, "id", "plan")
    if not ID_PATTERN.fullmatch(plan_id):
        raise fields.fail(f"plan id {plan_id!r} must be letters, digits, '.', '_' or '-'", fields.line_of(head, "id"))
    issued = fields.date_field(head, "issued", "plan")
    period_start = period_end = None
    if "period" in head:
        period = fields.mapping(head["period"], "plan: period", fields.line_of(head, "period"))
        fields.check_keys(period, {"start", "end", "text", "text_en"}, ("start", "end"), "plan: period")
        period_start = fields.date_field(period, "start", "plan: period")
        period_end = fields.date_field(period, "end", "plan: period")
        if period_end < period_start:
            raise fields.fail("plan: period ends before it starts", fields.line_of(period, "end"))
    agencies = _agencies(fields, root["agencies"], fields.line_of(root, "agencies"))
    known = {agency.code: agency for agency in agencies}
    for key in ("issuer", "monitor"):
        if key in head:
            fields.codes(head, key, "plan", known)
    meta = {key: _plain(value) for key, value in head.items() if key not in ("id", "number", "issued", "title", "title_en")}
    plan = Plan(
        id=plan_id, number=fields.text(head, "number", "plan"), issued=issued, title=fields.text(head, "title", "plan"),
        title_en=fields.text(head, "title_en", "plan"), period_start=period_start, period_end=period_end,
        agencies=agencies, tasks=[], meta=meta, source=fields.name,
    )
    return plan, known


def _agencies(fields: _Fields, value, line: int | None) -> list[Agency]:
    if not isinstance(value, list) or not value:
        raise fields.fail("agencies must be a non-empty list", line)
    if len(value) > MAX_AGENCIES:
        raise fields.fail(f"{len(value):,} agencies; a plan file holds at most {MAX_AGENCIES:,}", line)
    agencies: list[Agency] = []
    seen: dict[str, int | None] = {}
    member_lines: dict[str, int | None] = {}
    for index, item in enumerate(value):
        entry = fields.mapping(item, "an agency", line_at(value, index))
        what = f"agency {entry.get('code', '#' + str(index + 1))}"
        fields.check_keys(entry, {"code", "name", "name_en", "kind", "aliases", "members", "note"}, ("code", "name"), what)
        code = fields.text(entry, "code", what)
        if not CODE_PATTERN.fullmatch(code):
            raise fields.fail(f"agency code {code!r} must be lower-case ASCII letters, digits, '.', '_' or '-'",
                              fields.line_of(entry, "code"))
        if code in seen:
            raise fields.fail(f"duplicate agency code {code!r} (first on line {seen[code]})", fields.line_of(entry, "code"))
        seen[code] = fields.line_of(entry, "code")
        kind = fields.text(entry, "kind", what, "other")
        if kind not in AGENCY_KINDS:
            raise fields.fail(f"{what}: unknown kind {kind!r} (one of {', '.join(AGENCY_KINDS)})",
                              fields.line_of(entry, "kind"))
        aliases = entry.get("aliases") or []
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise fields.fail(f"{what}: aliases must be a list of names", fields.line_of(entry, "aliases"))
        members = entry.get("members") or []
        if members and kind != "group":
            raise fields.fail(f"{what}: only an agency of kind group has members", fields.line_of(entry, "members"))
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise fields.fail(f"{what}: members must be a list of agency codes", fields.line_of(entry, "members"))
        member_lines[code] = fields.line_of(entry, "members")
        agencies.append(Agency(
            code=code, name=fields.text(entry, "name", what), name_en=fields.text(entry, "name_en", what),
            kind=kind, aliases=[a.strip() for a in aliases], members=list(members),
            note=fields.text(entry, "note", what),
        ))
    for agency in agencies:
        for member in agency.members:
            if member not in seen:
                raise fields.fail(f"agency {agency.code}: unknown member code {member!r}", member_lines[agency.code])
            if member == agency.code:
                raise fields.fail(f"agency {agency.code} cannot be its own member", member_lines[agency.code])
    _check_groups(agencies, lambda code, problem: fields.fail(problem, member_lines[code]))
    return agencies


def _check_groups(agencies: list[Agency], fail) -> None:
    """No group is its own member through others; groups within groups stay few and shallow
    (each load expands a group through every path to its members)."""
    members = {agency.code: agency.members for agency in agencies}
    for start in members:
        stack, seen = list(members[start]), set()
        while stack:
            code = stack.pop()
            if code == start:
                raise fail(start, f"agency {start} is a member of itself through its members")
            if code not in seen:
                seen.add(code)
                stack.extend(members.get(code, []))
    levels: dict[str, int] = {}
    reach: dict[str, int] = {}
    for code in _members_first(members):
        levels[code] = 1 + max((levels[m] for m in members[code]), default=0) if members[code] else 0
        reach[code] = len(members[code]) + sum(reach[m] for m in members[code])
        if levels[code] > MAX_GROUP_LEVELS:
            raise fail(code, f"agency {code}: groups within groups nest more than {MAX_GROUP_LEVELS} levels")
        if reach[code] > MAX_GROUP_REACH:
            raise fail(code, f"agency {code}: its members, through groups within groups, come to more than "
                             f"{MAX_GROUP_REACH:,}")


def _members_first(members: dict[str, list[str]]) -> list[str]:
    """The codes ordered so that every group comes after its members (there is no cycle)."""
    order: list[str] = []
    done: set[str] = set()
    for start in members:
        stack = [(start, False)]
        while stack:
            code, expanded = stack.pop()
            if code in done:
                continue
            if expanded:
                done.add(code)
                order.append(code)
            else:
                stack.append((code, True))
                stack.extend((m, False) for m in members[code] if m not in done)
    return order


# ── tasks and their deadlines ───────────────────────────────────────────────

class _TaskReader:
    """The tasks, one at a time. Plans repeat a handful of deadlines many times ("Quý IV
    hàng năm"): a rule or phrase that validated once gives the same result again
    (errors are never remembered)."""

    def __init__(self, fields: _Fields, known: dict[str, Agency], start: date | None, end: date | None):
        self.fields, self.known, self.start, self.end = fields, known, start, end
        self.seen: dict[str, int | None] = {}
        self.milestones = 0
        self.rules: dict[tuple, DeadlineSpec] = {}
        self.phrases: dict[str, list[DeadlineSpec]] = {}
        self.laid_out: dict[tuple, list] = {}

    def task(self, item, item_line: int | None, index: int) -> Task:
        """One task, every field checked (the errors name the field and its line)."""
        fields, seen = self.fields, self.seen
        entry = fields.mapping(item, "a task", item_line)
        raw_id = entry.get("id")
        what = f"task {raw_id}" if raw_id is not None else f"task #{index + 1}"
        fields.check_keys(entry, TASK_FIELDS, ("id", "content", "lead"), what)
        if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)):
            raise fields.fail(f"{what}: id must be text such as \"1\" or \"IV.2-plan\"", fields.line_of(entry, "id"))
        task_id = str(raw_id).strip()
        if not ID_PATTERN.fullmatch(task_id):
            raise fields.fail(f"task id {task_id!r} must be letters, digits, '.', '_' or '-'", fields.line_of(entry, "id"))
        if task_id in seen:
            raise fields.fail(f"duplicate task id {task_id!r} (first on line {seen[task_id]})", fields.line_of(entry, "id"))
        seen[task_id] = fields.line_of(entry, "id")
        lead = fields.codes(entry, "lead", what, self.known)
        if not lead:
            raise fields.fail(f"{what}: lead must name at least one agency", fields.line_of(entry, "lead"))
        support = fields.codes(entry, "support", what, self.known)
        time_text = fields.text(entry, "time_text", what)
        specs = self.deadline(entry, what, time_text)
        deadline_line = fields.line_of(entry, "deadline" if "deadline" in entry else "time_text")
        laid_out = self.laid_out.get(key := tuple(specs))
        if laid_out is None:
            try:
                laid_out = self.laid_out[key] = milestones_for(specs, self.start, self.end)
            except DeadlineError as error:
                raise fields.fail(f"{what}: {error}", deadline_line) from None
        self.milestones += len(laid_out)
        if self.milestones > MAX_MILESTONES:
            raise fields.fail(f"{what}: the plan's deadlines come to more than {MAX_MILESTONES:,} milestones",
                              deadline_line)
        content = fields.text(entry, "content", what)
        target = entry.get("target")
        if target is not None and not isinstance(target, dict):
            raise fields.fail(f"{what}: target must be a mapping", fields.line_of(entry, "target"))
        texts = {key: fields.text(entry, key, what, default) for key, default in _TASK_TEXT_DEFAULTS.items()}
        return Task(
            id=task_id, seq=index + 1, content=content, lead=lead, milestones=list(laid_out),
            section=texts["section"], title=texts["title"] or _short(content), title_en=texts["title_en"],
            content_en=texts["content_en"], lead_text=texts["lead_text"], support_text=texts["support_text"],
            time_text=time_text, support=support, deadline=specs, note=texts["note"],
            target=_plain(target) if target is not None else None, line=entry.line,
        )

    def deadline(self, entry: Located, what: str, time_text: str) -> list[DeadlineSpec]:
        fields = self.fields
        if "deadline" not in entry or entry["deadline"] is None:
            if not time_text:
                raise fields.fail(f"{what} is missing the field 'deadline' (or a 'time_text' to read it from)", entry.line)
            if time_text not in self.phrases:
                try:
                    from civreform.phrases import parse_time_text  # (most plans give deadline: rules)

                    self.phrases[time_text] = parse_time_text(time_text)
                except DeadlineError as error:
                    raise fields.fail(f"{what}: {error}", fields.line_of(entry, "time_text")) from None
            return list(self.phrases[time_text])
        value = entry["deadline"]
        line = fields.line_of(entry, "deadline")
        if value == "ongoing":
            return [DeadlineSpec("ongoing")]
        if isinstance(value, Located):
            return [self.rule(value, what, single=True)]
        if isinstance(value, list) and value:
            specs = [self.rule(fields.mapping(item, f"{what}: a deadline", line_at(value, i)), what, single=False)
                     for i, item in enumerate(value)]
            labels = [spec.label for spec in specs]
            if len(set(labels)) != len(labels):
                raise fields.fail(f"{what}: two deadlines share the label", line)
            return specs
        raise fields.fail(f"{what}: deadline must be 'ongoing', a rule or a list of rules", line)

    def rule(self, rule: Located, what: str, single: bool) -> DeadlineSpec:
        """One rule mapping: its fields as a plan file has them, then deadline_rule."""
        # The key keeps each value's type: 1, 1.0 and True are equal in Python but not here.
        key = (single, tuple(rule.items()), tuple(map(type, rule.values())))
        try:
            return self.rules[key]
        except (KeyError, TypeError):  # new, or holds a value that cannot be a key (then it fails below)
            pass
        fields = self.fields
        fields.check_keys(rule, RULE_FIELDS, (), f"{what}: deadline")
        label = fields.text(rule, "label", what) or None
        fields.text(rule, "label_vi", what)
        if not single and not label:
            raise fields.fail(f"{what}: each of several deadlines needs a label", rule.line)
        if label and not ID_PATTERN.fullmatch(label):
            raise fields.fail(f"{what}: deadline label {label!r} must be letters, digits, '.', '_' or '-'",
                              fields.line_of(rule, "label"))
        spec = deadline_rule(rule, what, fields.name)
        try:
            self.rules[key] = spec
        except TypeError:
            pass
        return spec


def deadline_rule(rule: Located, what: str, name: str) -> DeadlineSpec:
    """The one seam between a plan file and deadline rules: deadlines.rule_from_mapping
    reads the rule; its DeadlineError becomes a PlanFileError on the line of the key it
    names (its messages start with the key, or say "unknown field 'key'"), else the rule's."""
    from civreform.deadlines import rule_from_mapping

    try:
        return rule_from_mapping(dict(rule))
    except DeadlineError as error:
        raise PlanFileError(f"{what}: {error}", name, rule.lines.get(_key_at_fault(str(error), rule), rule.line)) \
            from None


def _key_at_fault(message: str, rule: dict) -> str | None:
    match = re.match(r"unknown field '([^']*)'", message) or re.match(r"(\w+)\b", message)
    return match.group(1) if match and match.group(1) in rule else None


def _short(content: str, width: int = 60) -> str:
    first = re.split(r"[.;]", content, maxsplit=1)[0].strip()
    return first if len(first) <= width else first[: width - 1].rstrip() + "…"


def _plain(value):
    """Strip the line-number wrappers so values can be stored as JSON."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
