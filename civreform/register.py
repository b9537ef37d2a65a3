"""Read and validate a province's agency register (YAML) into plain dataclasses.

A plan names agencies loosely ("Các sở, ban, ngành"); the register says who those are
on a given day, and who took over the tasks of a body that merged or ended. Pure: no
terminal, no database (register_store.py stores it). Every error names the file and
line, as plan files' errors do. The format is documented in docs/agency-register.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from civreform.errors import DateInputError, PlanFileError, RegisterFileError

FORMAT = "civreform-register/1"
KINDS = ("committee", "department", "board", "city", "district", "commune", "group", "other")
CODE_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]*")
TOP_FIELDS = frozenset({"format", "province", "name", "note", "agencies"})
AGENCY_FIELDS = frozenset({"code", "name", "name_en", "kind", "aliases", "groups", "from", "until", "successor",
                           "basis", "note"})
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


@dataclass(frozen=True)
class RegisterAgency:
    code: str
    name: str
    kind: str
    name_en: str = ""
    aliases: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    valid_from: date | None = None   # None: existed before the register's horizon
    valid_until: date | None = None  # exclusive: the first day it no longer exists; None: still exists
    successor: str | None = None
    basis: str = ""
    note: str = ""
    line: int | None = None

    def valid_on(self, day: date) -> bool:
        """from <= day < until (either end open when absent)."""
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_until is None
                                                                        or day < self.valid_until)


@dataclass
class Register:
    province: str
    agencies: list[RegisterAgency]
    name: str = ""
    note: str = ""
    source: str = ""
    by_code: dict[str, RegisterAgency] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self.by_code = {agency.code: agency for agency in self.agencies}

    def agency(self, code: str) -> RegisterAgency:
        return self.by_code[code]

    def members(self, group_code: str) -> list[RegisterAgency]:
        """Every agency that ever belongs to the group, in the register's order."""
        return [agency for agency in self.agencies if group_code in agency.groups]


# ── Questions a register answers ───────────────────────────────────────────

def members_on(register: Register, group_code: str, day: date) -> list[str]:
    """The codes of the group's members valid on `day` (from <= day < until), in the
    register's order. A code that is not a group of the register has no members."""
    return [agency.code for agency in register.members(group_code) if agency.valid_on(day)]


def successor_chain(register: Register, code: str, day: date) -> list[str]:
    """Who answers for `code`'s tasks on `day`: the code itself, then, while the last
    one had ended by `day`, its successor. The last code is the answer; it may itself
    have ended with no successor the register knows (check `valid_on`). A code the
    register does not know answers for itself. Validation has refused cycles."""
    chain = [code]
    agency = register.by_code.get(code)
    while agency is not None and agency.valid_until is not None and day >= agency.valid_until \
            and agency.successor is not None:
        chain.append(agency.successor)
        agency = register.by_code[agency.successor]
    return chain


def plan_agencies(register: Register, plan_agency_codes) -> list[str]:
    """The codes a plan uses that the register does not know (for a warning on load),
    in the plan's order, each once."""
    unknown: list[str] = []
    for code in plan_agency_codes:
        if code not in register.by_code and code not in unknown:
            unknown.append(code)
    return unknown


# ── Reading ────────────────────────────────────────────────────────────────

def bundled_register_path() -> Path:
    """The register shipped with civreform (Nam Định), in a wheel or in a source checkout."""
    from importlib.resources import files

    packaged = Path(str(files("civreform"))) / "data" / "agencies" / "nam_dinh.yaml"
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "data" / "agencies" / "nam_dinh.yaml"


def read_register_file(path: str | Path) -> Register:
    """Read and validate a register file. Raises RegisterFileError (FILE:LINE: problem)."""
    from civreform.plan_source import read_text

    name = str(path)
    if Path(path).is_dir():
        raise RegisterFileError("is a directory, not a register file", name)
    try:
        text = read_text(Path(path))  # the plan reader's size cap and file errors
    except RegisterFileError:
        raise
    except PlanFileError as error:
        raise RegisterFileError(error.problem, name, error.line) from None
    return parse_register_text(text, name)


def parse_register_text(text: str, name: str = "<register>") -> Register:
    """A register's text through the plan reader's YAML loader: safe, dates kept as text,
    every mapping and list remembering its lines, within the same limits."""
    from civreform.plan_source import load_yaml

    try:
        document = load_yaml(text, name)
    except RegisterFileError:
        raise
    except PlanFileError as error:
        raise RegisterFileError(error.problem, name, error.line) from None
    return _Validator(name).register(document)


class _Validator:
    def __init__(self, name: str):
        self.name = name

    def fail(self, problem: str, line: int | None) -> RegisterFileError:
        return RegisterFileError(problem, self.name, line)

    @staticmethod
    def line_of(mapping, key=None) -> int | None:
        if key is not None and key in getattr(mapping, "lines", {}):
            return mapping.lines[key]
        return getattr(mapping, "line", None)

    def mapping(self, value, what: str, line: int | None, allowed: frozenset) -> dict:
        if not isinstance(value, dict):
            raise self.fail(f"{what} must be a mapping of key: value", getattr(value, "line", None) or line)
        for key in value:
            if key not in allowed:
                raise self.fail(f"unknown key {key!r} in {what} (known: {', '.join(sorted(allowed))})",
                                self.line_of(value, key))
        return value

    def text(self, mapping, key: str, required: bool = False) -> str:
        value = mapping.get(key)
        if value is None or value == "":
            if required:
                raise self.fail(f"{key!r} is required", self.line_of(mapping))
            return ""
        if not isinstance(value, str):
            raise self.fail(f"{key!r} must be text, not {value!r}", self.line_of(mapping, key))
        if "\0" in value:
            raise self.fail(f"{key!r} holds a NUL character", self.line_of(mapping, key))
        return value.strip()

    def code(self, value, line: int | None, what: str) -> str:
        if not isinstance(value, str) or not CODE_PATTERN.fullmatch(value):
            raise self.fail(f"{what} {value!r} is not a code (lower-case letters, digits, '.', '_', '-')", line)
        return value

    def texts(self, mapping, key: str) -> list:
        """A list of text (or one text) under key, with each item's line."""
        value = mapping.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            return [(value, self.line_of(mapping, key))]
        if not isinstance(value, list):
            raise self.fail(f"{key!r} must be a list", self.line_of(mapping, key))
        lines = getattr(value, "lines", None) or [self.line_of(mapping, key)] * len(value)
        items = []
        for item, line in zip(value, lines):
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{key!r} holds {item!r}, not text", line)
            items.append((item.strip(), line))
        return items

    def day(self, mapping, key: str) -> date | None:
        value = mapping.get(key)
        if value is None:
            return None
        line = self.line_of(mapping, key)
        match = _ISO_DATE.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            raise self.fail(f"{key!r} must be a date written YYYY-MM-DD, not {value!r}", line)
        from civreform.dates import checked_date

        try:
            return checked_date(*(int(part) for part in match.groups()), value)
        except DateInputError as error:
            raise self.fail(str(error), line) from None

    def register(self, document) -> Register:
        if document is None:
            raise self.fail("the file is empty", None)
        written = document.get("format") if isinstance(document, dict) else None
        if written != FORMAT:  # first: a plan file given here is told so, not that its keys are unknown
            raise self.fail(f"'format' must be {FORMAT!r}" + (f", not {written!r}" if written is not None else ""),
                            self.line_of(document, "format") if written is not None else self.line_of(document))
        root = self.mapping(document, "the register", 1, TOP_FIELDS)
        province = self.code(root.get("province"), self.line_of(root, "province"), "'province'")
        entries = root.get("agencies")
        if not isinstance(entries, list) or not entries:
            raise self.fail("'agencies' must be a non-empty list", self.line_of(root, "agencies"))
        agencies = [self.agency(entry, line) for entry, line in zip(entries, entries.lines)]
        self.check_links(agencies)
        return Register(province=province, agencies=agencies, name=self.text(root, "name"),
                        note=self.text(root, "note"), source=self.name)

    def agency(self, entry, line: int | None) -> RegisterAgency:
        entry = self.mapping(entry, "an agency", line, AGENCY_FIELDS)
        line = self.line_of(entry) or line
        code = self.code(entry.get("code"), self.line_of(entry, "code"), "'code'")
        kind = self.text(entry, "kind", required=True)
        if kind not in KINDS:
            raise self.fail(f"'kind' {kind!r} is not one of {', '.join(KINDS)}", self.line_of(entry, "kind"))
        groups = tuple(self.code(value, at, "group") for value, at in self.texts(entry, "groups"))
        valid_from, valid_until = self.day(entry, "from"), self.day(entry, "until")
        if valid_from is not None and valid_until is not None and valid_until <= valid_from:
            raise self.fail(f"{code}: 'until' ({valid_until}) must come after 'from' ({valid_from})",
                            self.line_of(entry, "until"))
        successor = entry.get("successor")
        if successor is not None:
            successor = self.code(successor, self.line_of(entry, "successor"), "'successor'")
            if valid_until is None:
                raise self.fail(f"{code}: a successor takes over when a body ends; give 'until' too",
                                self.line_of(entry, "successor"))
        return RegisterAgency(code=code, name=self.text(entry, "name", required=True), kind=kind,
                              name_en=self.text(entry, "name_en"),
                              aliases=tuple(value for value, _ in self.texts(entry, "aliases")), groups=groups,
                              valid_from=valid_from, valid_until=valid_until, successor=successor,
                              basis=self.text(entry, "basis"), note=self.text(entry, "note"), line=line)

    def check_links(self, agencies: list[RegisterAgency]) -> None:
        """Codes once each; groups and successors that exist; no cycle of successors."""
        by_code: dict[str, RegisterAgency] = {}
        for agency in agencies:
            if agency.code in by_code:
                raise self.fail(f"the code {agency.code!r} appears twice (first on line {by_code[agency.code].line})",
                                agency.line)
            by_code[agency.code] = agency
        for agency in agencies:
            for group in agency.groups:
                target = by_code.get(group)
                if target is None:
                    raise self.fail(f"{agency.code}: no agency {group!r} in the register (in 'groups')", agency.line)
                if target.kind != "group":
                    raise self.fail(f"{agency.code}: {group!r} is not a group (its kind is {target.kind!r})",
                                    agency.line)
                if agency.kind == "group":
                    raise self.fail(f"{agency.code}: a group cannot belong to a group ({group!r})", agency.line)
            if agency.successor is not None:
                if agency.successor not in by_code:
                    raise self.fail(f"{agency.code}: no agency {agency.successor!r} in the register (its successor)",
                                    agency.line)
                if agency.successor == agency.code:
                    raise self.fail(f"{agency.code}: an agency cannot be its own successor", agency.line)
        for agency in agencies:
            seen = [agency.code]
            current = agency
            while current.successor is not None:
                if current.successor in seen:
                    cycle = " -> ".join([*seen[seen.index(current.successor):], current.successor])
                    raise self.fail(f"a cycle of successors: {cycle}", agency.line)
                seen.append(current.successor)
                current = by_code[current.successor]
