"""Read and validate a plan file (YAML) into plain dataclasses.

Every validation error names the file and the line it comes from. Dates in the
file stay strings until we check them ourselves, so that 2013-09-31 is reported
with its line instead of crashing inside the YAML library.
"""

from __future__ import annotations

import os
import re
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from civreform.dates import checked_date, parse_user_date
from civreform.deadlines import (
    DeadlineSpec, Milestone, milestones_for, parse_time_text, read_quarter,
)
from civreform.errors import DateInputError, DeadlineError, PlanFileError

FORMAT = "civreform-plan/1"
AGENCY_KINDS = ("committee", "department", "city", "district", "commune", "group", "other")
CODE_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]*")
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
TASK_FIELDS = frozenset({"id", "section", "title", "title_en", "content", "content_en", "lead_text", "lead",
                         "support_text", "support", "time_text", "deadline", "note", "target"})
_TASK_TEXT_DEFAULTS = {"content": "", "section": "appendix", "title": "", "title_en": "", "content_en": "",
                       "lead_text": "", "support_text": "", "note": ""}
_TASK_TEXTS = frozenset(_TASK_TEXT_DEFAULTS)
_KNOWN_TASK_FIELDS = TASK_FIELDS - {"target"}
_KNOWN_LIMIT = 1 << 16  # distinct codes or deadlines remembered for _Validator._known_task
RULE_FIELDS = frozenset({"quarter", "half", "month", "day", "date", "year", "every", "label", "label_vi"})


@dataclass
class Agency:
    code: str
    name: str
    name_en: str = ""
    kind: str = "other"
    aliases: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    note: str = ""


@dataclass
class Task:
    id: str
    seq: int
    content: str
    lead: list[str]
    milestones: list[Milestone]
    section: str = "appendix"
    title: str = ""
    title_en: str = ""
    content_en: str = ""
    lead_text: str = ""
    support_text: str = ""
    time_text: str = ""
    support: list[str] = field(default_factory=list)
    deadline: list[DeadlineSpec] = field(default_factory=list)
    note: str = ""
    target: dict | None = None
    line: int | None = None

    @property
    def ongoing(self) -> bool:
        return not self.milestones


@dataclass
class Plan:
    id: str
    number: str
    issued: date
    title: str
    agencies: list[Agency]
    tasks: list[Task]
    title_en: str = ""
    period_start: date | None = None
    period_end: date | None = None
    meta: dict = field(default_factory=dict)
    source: str = ""

    def agency(self, code: str) -> Agency:
        return next(a for a in self.agencies if a.code == code)


# ── YAML with line numbers ──────────────────────────────────────────────────

class _Located(dict):
    """A mapping that remembers the line of itself and of each key (None when the
    file was read by the fast JSON path, which knows no lines)."""

    line: int | None = None
    lines: dict = {}  # noqa: RUF012 (read-only default; YAML-built mappings get their own)


class _LocatedList(list):
    line: int | None = None
    lines: list = []  # noqa: RUF012


class FlatEntry:
    """A task of one-line `key: value` entries as yaml_tasks' line reader finds it:
    `values` by key (in file order; for a flow collection, the reader's recipe of it),
    `flows` (the file's text of each flow collection, by key) and `line`, its first.
    located() gives it as PyYAML builds it. The validator takes a task whose codes and
    deadline it has already validated, in another task of the same text, straight from
    these (_Validator._known_task): no mapping with lines is built for it."""

    __slots__ = ("values", "flows", "line")

    def __init__(self, values: dict, flows: dict, line: int):
        self.values, self.flows, self.line = values, flows, line

    def located(self) -> _Located:
        raise NotImplementedError


def _line_at(items: list, index: int) -> int | None:
    return items.lines[index] if isinstance(items, _LocatedList) and items.lines else None


def _new_task(task_id: str, seq: int, texts: dict[str, str], lead: list[str], support: list[str], time_text: str,
              specs: list[DeadlineSpec], milestones: list[Milestone], target: dict | None, line: int | None) -> Task:
    """A Task from its checked parts; `texts`: its text fields (see _TASK_TEXT_DEFAULTS)."""
    content = texts["content"]
    return Task(
        id=task_id, seq=seq, content=content, lead=lead, milestones=milestones,
        section=texts["section"], title=texts["title"] or _short(content), title_en=texts["title_en"],
        content_en=texts["content_en"], lead_text=texts["lead_text"], support_text=texts["support_text"],
        time_text=time_text, support=support, deadline=specs, note=texts["note"], target=target, line=line,
    )


def _deadline_key(values: dict, flows: dict, time_text: str) -> tuple | None:
    """What a flat task's deadlines depend on: its deadline's text, or, when it has
    none, its time_text (None for a deadline that is neither a flow collection nor text)."""
    if "deadline" in flows:
        return ("flow", flows["deadline"])
    deadline = values.get("deadline")
    if deadline is None:
        return ("time_text", time_text)
    return ("text", deadline) if type(deadline) is str else None


def _json_object(pairs: list[tuple]) -> _Located:
    mapping = _Located(pairs)
    if len(mapping) != len(pairs):
        seen: set = set()
        twice = next(key for key, _value in pairs if key in seen or seen.add(key))
        raise PlanFileError(f"the key {twice!r} appears twice", None, None)
    return mapping


def _check_yaml_key(mapping: _Located, key, line: int) -> None:
    """A YAML mapping's key must be plain text (or a number) and come once."""
    if not isinstance(key, (str, int, float, bool)) or key is None:
        raise PlanFileError(f"a key must be plain text, not {key!r}", None, line)
    if key in mapping:
        raise PlanFileError(f"the key {key!r} appears twice", None, line)


def _make_loader():
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[misc, valid-type]
        pass

    # Keep dates as strings: we check them ourselves and report the line.
    Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }

    def construct_mapping(loader, node):
        loader.flatten_mapping(node)
        mapping = _Located()
        mapping.line = node.start_mark.line + 1
        mapping.lines = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            _check_yaml_key(mapping, key, line)
            mapping[key] = loader.construct_object(value_node, deep=True)
            mapping.lines[key] = line
        return mapping

    def construct_sequence(loader, node):
        items = _LocatedList(loader.construct_object(child, deep=True) for child in node.value)
        items.line = node.start_mark.line + 1
        items.lines = [child.start_mark.line + 1 for child in node.value]
        return items

    Loader.add_constructor("tag:yaml.org,2002:map", construct_mapping)
    Loader.add_constructor("tag:yaml.org,2002:seq", construct_sequence)
    return Loader


def read_plan_file(path: str | Path, stream: bool = False) -> Plan:
    """Read, validate and lay out a plan file. Raises PlanFileError.

    With stream=True a large plan (JSON or YAML) comes back with its tasks as a
    TaskStream: the plan and its agencies are checked now, each task as it is consumed.
    """
    path = Path(path)
    name = str(path)
    with _file_errors(name):
        if stream and path.stat().st_size >= STREAM_FROM_BYTES:
            window = _TextWindow(path.open("rb"), name)
            try:
                is_json = name.lower().endswith(".json") or window.first_character() == "{"
                plan = _stream_json_plan(window, name) if is_json else None
            except BaseException:
                window.close()
                raise
            if plan is not None:
                return plan  # its tasks read on from the window, which closes at their end
            window.close()
            if not is_json:
                plan = _stream_yaml_plan(path, name)
                if plan is not None:
                    return plan
        text = path.read_text(encoding="utf-8-sig")  # a small file, or one laid out otherwise
    return parse_plan_text(text, name)


@contextmanager
def _file_errors(name: str):
    """Reading the file: what can go wrong, as one PlanFileError."""
    try:
        yield
    except FileNotFoundError:
        raise PlanFileError("no such file", name) from None
    except IsADirectoryError:
        raise PlanFileError("is a directory, not a plan file", name) from None
    except UnicodeDecodeError as error:
        raise PlanFileError(f"not UTF-8 text (byte {error.start})", name) from None
    except OSError as error:
        raise PlanFileError(error.strerror or str(error), name) from None


class _TextWindow:
    """A large file's text, decoded a piece at a time and kept only from the first
    position still needed: a JSON plan of 33 MB held whole took 64 MB as a Python
    string, and twice that while it was decoded. Positions are the file's own
    (characters from its start); `text` holds those from `start` on."""

    def __init__(self, handle, name: str):
        import codecs

        self.handle, self.name, self.size = handle, name, os.fstat(handle.fileno()).st_size
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.text, self.start, self.bytes_read, self.eof = "", 0, 0, False
        self.lines_before = 0  # lines of the file before self.start
        self.counted_to, self.line = 0, 1  # the line at position counted_to (positions come in order)

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    def more(self) -> bool:
        """Decode the next piece of the file onto the window; False at its end."""
        if self.eof:
            return False
        chunk = self.handle.read(WINDOW_CHARS)
        pending = len(self.decoder.getstate()[0])  # bytes of a character cut by the last piece
        try:
            self.text += self.decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as error:
            raise PlanFileError(f"not UTF-8 text (byte {self.bytes_read - pending + error.start})",
                                self.name) from None
        self.bytes_read += len(chunk)
        if not chunk:
            self.eof = True
            self.close()
        return bool(chunk)

    def first_character(self) -> str:
        while not self.text.lstrip() and self.more():
            pass
        return self.text.lstrip()[:1]

    def forget_before(self, position: int) -> None:
        """Let go of the text before `position` (when a piece's worth has been read)."""
        cut = position - self.start
        if cut >= WINDOW_CHARS:
            self.lines_before = self.line_at(position) - 1
            self.text, self.start = self.text[cut:], position

    def line_at(self, position: int) -> int:
        """The line of a position, counted on from the last one asked for."""
        if position >= self.counted_to:
            self.line += self.text.count("\n", self.counted_to - self.start, position - self.start)
        else:
            self.line -= self.text.count("\n", position - self.start, self.counted_to - self.start)
        self.counted_to = position
        return self.line

    def close(self) -> None:
        self.handle.close()


WINDOW_CHARS = 1 << 20  # how much of a streamed JSON file is read (bytes) and kept (characters) at a time


class TaskStream:
    """The tasks of a large plan file, read and validated one at a time as they are
    consumed (once), so that a plan of 100,000 tasks never sits in memory whole.
    `position` / `size` tell how far through the file the reading is."""

    def __init__(self, size: int):
        self.tasks = iter(())
        self.position = 0
        self.size = size

    def __iter__(self):
        return self.tasks


def _streamed_plan(name: str, root: _Located, size: int, read_tasks, locate=None) -> Plan:
    """The plan a streaming reader found: `root` (the keys before the tasks) is checked
    now; `read_tasks(stream)` is a generator of (entry, line) that keeps stream.position
    and returns the keys after the tasks, which are checked once every task is stored.
    `locate()`, when given, re-reads the root for an error with its exact line."""
    validator = _Validator(name)
    root["tasks"] = []  # stands in for the tasks while the rest of the root is checked
    try:
        validator.check_root(root)
        plan, known = validator.head(root)
    except PlanFileError as error:
        located = locate() if locate is not None else None
        raise (located or error) from None
    stream = TaskStream(size)

    def entries():
        rest = yield from read_tasks(stream)
        merged = _Located({**root, **rest})
        merged.line, merged.lines = 1, {**root.lines, **rest.lines}
        validator.check_root(merged)

    stream.tasks = validator.iter_tasks(entries(), known, plan.period_start, plan.period_end)
    plan.tasks = stream
    return plan


_JSON_SPACE = re.compile(r"[ \t\n\r]*")
STREAM_FROM_BYTES = 1_000_000  # smaller plans are read whole: simpler, and errors get exact lines


def _stream_json_plan(window: _TextWindow, name: str) -> Plan | None:
    """A JSON plan whose tasks are read lazily, when the file lays out "plan" and
    "agencies" before "tasks" (as civreform's own files do); None when it does not,
    and the caller reads the whole document instead."""
    import json

    decoder = json.JSONDecoder(object_pairs_hook=_json_object)

    def space(pos: int) -> int:
        while True:
            end = _JSON_SPACE.match(window.text, pos - window.start).end()
            if end < len(window.text) or not window.more():
                return window.start + end

    def character(pos: int) -> str:
        while pos >= window.end and window.more():
            pass
        return window.text[pos - window.start:pos - window.start + 1]

    def value_at(pos: int):
        while True:
            try:
                value, end = decoder.raw_decode(window.text, pos - window.start)
            except json.JSONDecodeError as error:
                if window.more():  # perhaps only cut off by the end of the window
                    continue
                raise PlanFileError(f"JSON syntax error: {error.msg}", name,
                                    window.lines_before + error.lineno) from None
            except RecursionError:
                raise PlanFileError("JSON nested too deeply", name, window.line_at(pos)) from None
            # A value that ends where the window ends may go on (a number's digits).
            if end < len(window.text) or not window.more():
                return value, window.start + end

    def expect(pos: int, characters: str) -> tuple[str, int]:
        pos = space(pos)
        found = character(pos)
        if not found or found not in characters:
            raise PlanFileError(f"JSON syntax error: expected {' or '.join(map(repr, characters))}", name,
                                window.line_at(pos))
        return found, pos + 1

    pos = space(0)
    if character(pos) != "{":
        return None
    pos += 1
    root = _Located()
    while True:
        pos = space(pos)
        if character(pos) == "}":
            return None  # no tasks: the whole-document path says what is wrong
        key_at = pos
        key, pos = value_at(pos)
        _, pos = expect(pos, ":")
        pos = space(pos)
        if key == "tasks":
            if "plan" not in root or "agencies" not in root or character(pos) != "[":
                return None
            break
        if not isinstance(key, str) or key in root:
            return None
        root[key], pos = value_at(pos)
        separator, pos = expect(pos, ",}")
        if separator == "}":
            return None
    head = window.text[:key_at - window.start]  # nothing is forgotten before the tasks

    def locate() -> PlanFileError | None:
        # The exact line: read the part before the tasks again as YAML (JSON is YAML).
        try:
            _parse_yaml_plan(head + '"tasks": []}', name)
        except PlanFileError as located:
            return located
        return None

    def read_tasks(stream: TaskStream):
        try:
            position = space(pos + 1)
            if character(position) == "]":
                raise PlanFileError("tasks must be a non-empty list", name, window.line_at(position))
            while True:
                position = space(position)
                window.forget_before(position)
                item, end = value_at(position)
                line = window.line_at(position)
                if isinstance(item, _Located):
                    item.line = line
                yield item, line
                stream.position = window.bytes_read
                separator, position = expect(end, ",]")
                if separator == "]":
                    break
            # Anything after the array: only keys the plan file may have, and the end.
            rest = _Located()
            rest.lines = {}
            while True:
                separator, position = expect(position, ",}")
                if separator == "}":
                    break
                key_position = space(position)
                key, position = value_at(key_position)
                rest.lines[key] = window.line_at(key_position)
                _, position = expect(position, ":")
                if key in root or key in rest:
                    raise PlanFileError(f"the key {key!r} appears twice", name, window.line_at(position))
                rest[key], position = value_at(space(position))
            if character(space(position)):
                raise PlanFileError("JSON syntax error: text after the end of the plan", name,
                                    window.line_at(space(position)))
            return rest
        finally:
            window.close()

    return _streamed_plan(name, root, window.size, read_tasks, locate)


def parse_plan_text(text: str, name: str = "<plan>") -> Plan:
    """Validate a plan given as YAML, or as JSON (the same structure, read ~40x faster).

    A JSON file that does not validate is read again as YAML (JSON is YAML), so that
    its error still names the line.
    """
    if name.lower().endswith(".json") or text.lstrip().startswith("{"):
        import json

        try:
            document = json.loads(text, object_pairs_hook=_json_object)
        except (ValueError, RecursionError, PlanFileError):
            document = None
        if isinstance(document, dict):
            try:
                return _Validator(name).plan(document)
            except PlanFileError as fast_error:
                try:
                    _parse_yaml_plan(text, name)
                except PlanFileError as located:
                    raise located from None
                raise fast_error from None
    return _parse_yaml_plan(text, name)


def _parse_yaml_plan(text: str, name: str) -> Plan:
    import yaml

    with _yaml_errors(name):
        document = yaml.load(text, Loader=_make_loader())  # noqa: S506 (a SafeLoader subclass)
    return _Validator(name).plan(document)


@contextmanager
def _yaml_errors(name: str):
    """PyYAML's errors (and ours from inside its constructors) as one PlanFileError with the line."""
    import yaml

    try:
        yield
    except PlanFileError as error:
        raise PlanFileError(error.problem, name, error.line) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "invalid YAML"
        if error.context and error.context_mark and error.problem_mark:
            problem += f" ({error.context} that starts on line {error.context_mark.line + 1})"
        raise PlanFileError(f"YAML syntax error: {problem}", name, mark.line + 1 if mark else None) from None
    except yaml.reader.ReaderError as error:  # a character YAML refuses; or, where libyaml reads
        text, bad = _read_again(name)           # the file itself, a byte that is not UTF-8
        if bad is not None:
            raise PlanFileError(f"not UTF-8 text (byte {bad})", name) from None
        if isinstance(error.character, int):  # (its position counts bytes or characters, by reader)
            code = error.character
            escape = f"\\x{code:02X}" if code < 0x100 else f"\\u{code:04X}" if code < 0x10000 else f"\\U{code:08X}"
            at = text.find(chr(code)) if text is not None else -1  # where YAML's reader stopped
            raise PlanFileError(f"YAML does not allow the character U+{code:04X} here; remove it, or write it "
                                f"as {escape} inside double quotes", name,
                                text.count("\n", 0, at) + 1 if at >= 0 else None) from None
        raise PlanFileError(f"YAML error: {' '.join(str(error).split())}", name) from None
    except yaml.YAMLError as error:
        raise PlanFileError(f"YAML error: {' '.join(str(error).split())}", name) from None
    except RecursionError:
        raise PlanFileError("YAML nested too deeply", name) from None


class _NotPlain(Exception):
    """A value that a fast reader does not build itself (an anchor, an alias, a tag, a
    merge key; for yaml_tasks, a line it does not read): PyYAML's own path builds it."""


_MISSING = object()


class _PlainScalars:
    """The value of a plain (unquoted) YAML scalar, as PyYAML's resolver and
    constructors make it: text, or a number, true/false or null; _NotPlain for any
    other type (a merge key, "="), which PyYAML's path should decide. Short scalars
    repeat (keys, codes, "III"): each is worked out once, in `known`."""

    def __init__(self, loader):
        from yaml import nodes

        self.loader, self.scalar_node = loader, nodes.ScalarNode
        implicit = loader.yaml_implicit_resolvers  # as Resolver.resolve reads them
        self.wildcard = implicit.get(None, [])
        self.resolvers = {first: resolvers + self.wildcard for first, resolvers in implicit.items() if first is not None}
        self.constructed = {f"tag:yaml.org,2002:{kind}" for kind in ("int", "float", "bool", "null")}
        self.known: dict[str, object] = {}

    def __call__(self, text: str, start_mark=None, end_mark=None):
        known = self.known.get(text, _MISSING)
        if known is not _MISSING:
            return known
        value = text
        for tag, pattern in self.resolvers.get(text[:1], self.wildcard):
            if pattern.match(text):
                if tag not in self.constructed:
                    raise _NotPlain
                loader = self.loader
                value = loader.yaml_constructors[tag](loader, self.scalar_node(tag, text, start_mark, end_mark))
                break
        if len(text) <= 24 and len(self.known) < 4096:
            self.known[text] = value
        return value


class _YamlTaskReader:
    """One task of a streamed YAML plan at a time, as (value, line).

    PyYAML builds a node for each of a task's ~24 events and then a value from each
    node, in Python: most of a large YAML load. A task that is plain YAML (scalars,
    sequences and mappings, no anchors, aliases, tags or merge keys: every task
    civreform writes) is built here straight from its events, with PyYAML's own
    resolver and scalar constructors, into what PyYAML's path gives (the same
    values, lines and errors). Any other task is handed to that path, its events
    replayed from a buffer."""

    def __init__(self, loader, node_value, plain: _PlainScalars):
        from yaml import events

        self.loader, self.node_value, self.plain = loader, node_value, plain
        self.scalar_event = events.ScalarEvent
        self.mapping_start, self.sequence_start = events.MappingStartEvent, events.SequenceStartEvent
        self.collection_end = (events.MappingEndEvent, events.SequenceEndEvent)

    def __call__(self):
        buffer = self._events_of_one_value()
        try:
            value, _end = self._build(buffer, 0)
        except _NotPlain:
            value = self._replay(buffer)
        return value, buffer[0].start_mark.line + 1

    def skip(self) -> None:
        """Pass over the next value (one already read from its lines), keeping any
        anchor it defines for the aliases after it."""
        buffer = self._events_of_one_value()
        if any(getattr(event, "anchor", None) is not None for event in buffer):
            self._replay(buffer)

    def _events_of_one_value(self) -> list:
        get_event = self.loader.get_event
        first = get_event()
        buffer, depth = [first], int(isinstance(first, (self.mapping_start, self.sequence_start)))
        while depth:
            event = get_event()
            buffer.append(event)
            if isinstance(event, (self.mapping_start, self.sequence_start)):
                depth += 1
            elif isinstance(event, self.collection_end):
                depth -= 1
        return buffer

    def _scalar(self, event):
        if event.anchor is not None or event.tag is not None:
            raise _NotPlain
        if not event.implicit[0]:  # quoted, or a block of text: a string (resolve() says so too)
            return event.value
        return self.plain(event.value, event.start_mark, event.end_mark)

    def _build(self, buffer: list, index: int):
        """The value whose events start at buffer[index], and the index after them."""
        event = buffer[index]
        kind = type(event)
        if kind is self.scalar_event:
            return self._scalar(event), index + 1
        if event.anchor is not None or getattr(event, "tag", None) is not None:
            raise _NotPlain  # (an alias has an anchor)
        if kind is self.sequence_start:
            items = _LocatedList()
            items.line, items.lines = event.start_mark.line + 1, []
            index += 1
            while type(buffer[index]) not in self.collection_end:
                items.lines.append(buffer[index].start_mark.line + 1)
                value, index = self._build(buffer, index)
                items.append(value)
            return items, index + 1
        if kind is not self.mapping_start:
            raise _NotPlain
        mapping = _Located()
        mapping.line, mapping.lines = event.start_mark.line + 1, {}
        index += 1
        while type(buffer[index]) not in self.collection_end:
            key_event = buffer[index]
            if type(key_event) is not self.scalar_event:
                raise _NotPlain
            key, line = self._scalar(key_event), key_event.start_mark.line + 1
            _check_yaml_key(mapping, key, line)
            mapping[key], index = self._build(buffer, index + 1)
            mapping.lines[key] = line
        return mapping, index + 1

    def _replay(self, buffer: list):
        """PyYAML's path (composer, then constructors) on the buffered events."""
        loader, pending = self.loader, iter(buffer)
        ahead: list = []

        def peek_event():
            if not ahead:
                ahead.append(next(pending))
            return ahead[0]

        def get_event():
            event = peek_event()
            ahead.clear()
            return event

        def check_event(*choices):
            return not choices or isinstance(peek_event(), choices)

        loader.peek_event, loader.get_event, loader.check_event = peek_event, get_event, check_event
        try:
            return self.node_value()[0]
        finally:
            del loader.peek_event, loader.get_event, loader.check_event


def _read_again(name: str) -> tuple[str | None, int | None]:
    """The file at `name` read again after YAML's reader refused it: (its text, None);
    or (None, where it stops being UTF-8, counted as Python counts it: libyaml names
    the byte after a cut-short character); or (None, None) when it cannot be read."""
    try:
        return Path(name).read_bytes().decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        return None, error.start
    except OSError:
        return None, None


READ_TASK_LINES = True  # read a streamed YAML plan's tasks from their lines where they allow it (yaml_tasks)


def _stream_yaml_plan(path: Path, name: str) -> Plan | None:
    """A YAML plan whose tasks are built and checked one at a time (PyYAML would
    otherwise build the whole document first: 1.5 GiB for 100,000 tasks). None when
    the layout does not allow it (then the caller reads the whole file)."""
    source = _yaml_task_source(path, name)
    if source is None:
        return None
    root, read_tasks, size = source
    return _streamed_plan(name, root, size, read_tasks)


def _yaml_task_source(path: Path, name: str):
    """(the keys before the tasks, read_tasks, the file's size) for _streamed_plan,
    or None. libyaml reads and parses the file, and PyYAML's own Composer, run on
    this loader one node at a time, builds the keys around the tasks. The tasks are
    read from their lines by yaml_tasks.PlainTaskReader (~4x faster) where their
    lines allow it; from there on (or with READ_TASK_LINES off) each is built from
    libyaml's events by _YamlTaskReader."""
    import yaml
    from yaml import events

    loader_class = _make_loader()
    for method in ("compose_node", "compose_scalar_node", "compose_sequence_node", "compose_mapping_node"):
        setattr(loader_class, method, getattr(yaml.composer.Composer, method))
    # libyaml reads the file itself, a piece at a time (and its UTF-8, with or without a BOM).
    handle = path.open("rb")
    loader = loader_class(handle)
    loader.anchors = {}

    def node_value():
        node = loader.compose_node(None, None)
        return loader.construct_document(node), node.start_mark.line + 1

    plain = _PlainScalars(loader)
    task_value = _YamlTaskReader(loader, node_value, plain)

    def read_root() -> _Located | None:
        with _yaml_errors(name):
            loader.get_event(), loader.get_event()  # stream start, document start
            if not loader.check_event(events.MappingStartEvent):
                return None
            loader.get_event()
            root = _Located()
            root.line, root.lines = 1, {}
            while True:
                if loader.check_event(events.MappingEndEvent):
                    return None  # no tasks: the whole-document path says what is wrong
                key, line = node_value()
                if not isinstance(key, str) or key in root:
                    return None
                if key == "tasks":
                    if "plan" not in root or "agencies" not in root or not loader.check_event(
                            events.SequenceStartEvent):
                        return None
                    root.lines[key] = line
                    return root
                root[key], _line = node_value()
                root.lines[key] = line

    try:
        root = read_root()
    except BaseException:
        handle.close()
        raise
    if root is None:
        handle.close()
        return None

    def read_tasks(stream: TaskStream):
        rest = _Located()  # the keys after the tasks
        rest.line, rest.lines = 1, {}
        with closing(handle), _yaml_errors(name):
            given = 0
            start = loader.peek_event()
            if READ_TASK_LINES and not start.flow_style:
                from civreform.yaml_tasks import GiveUp, PlainTaskReader

                reader = PlainTaskReader(path, start.start_mark.line + 1, start.start_mark.column, loader, plain)
                try:
                    for item, line in reader:
                        yield item, line
                        given += 1
                        stream.position = reader.position
                    return rest  # (none: the tasks end the file)
                except GiveUp:  # libyaml reads on from the task after those given
                    pass
            loader.get_event()  # sequence start
            if loader.check_event(events.SequenceEndEvent):
                raise PlanFileError("tasks must be a non-empty list", name, root.lines["tasks"])
            for _ in range(given):
                task_value.skip()
            while not loader.check_event(events.SequenceEndEvent):
                item, line = task_value()
                yield item, line
                stream.position = handle.tell()  # bytes libyaml has read
            loader.get_event()
            while not loader.check_event(events.MappingEndEvent):
                key, line = node_value()
                if key in root or key in rest:
                    raise PlanFileError(f"the key {key!r} appears twice", name, line)
                rest[key], _line = node_value()
                rest.lines[key] = line
            loader.get_event(), loader.get_event()  # mapping end, document end
            if not loader.check_event(events.StreamEndEvent):
                raise PlanFileError("a plan file holds one YAML document", name, loader.peek_event().start_mark.line + 1)
        return rest

    return root, read_tasks, os.fstat(handle.fileno()).st_size


# ── Validation ──────────────────────────────────────────────────────────────

class _Validator:
    def __init__(self, name: str):
        self.name = name
        # Plans repeat a handful of deadlines thousands of times ("Quý IV hàng năm"):
        # a rule that validated once gives the same result again (errors are never cached).
        self._rules: dict[tuple, DeadlineSpec] = {}
        self._known_codes: dict[tuple, tuple] = {}  # see _known_task
        self._known_deadlines: dict[tuple, tuple] = {}
        self._phrases: dict[str, list[DeadlineSpec]] = {}
        self._laid_out: dict[tuple, list] = {}

    def fail(self, problem: str, line: int | None) -> PlanFileError:
        return PlanFileError(problem, self.name, line)

    # small typed getters -------------------------------------------------

    def mapping(self, value, what: str, line: int | None) -> _Located:
        if not isinstance(value, _Located):
            raise self.fail(f"{what} must be a mapping (key: value lines)", line)
        return value

    def line_of(self, mapping: _Located, key: str) -> int:
        return mapping.lines.get(key, mapping.line)

    def check_keys(self, mapping: _Located, allowed: set[str], required: tuple[str, ...], what: str):
        if not mapping.keys() <= allowed:  # (a set comparison in C: the common case costs little)
            self._unknown_key(mapping, allowed, what)
        for key in required:  # callers pass them in the order to report
            if mapping.get(key) in (None, ""):
                raise self.fail(f"{what} is missing the field {key!r}", mapping.line)

    def _unknown_key(self, mapping: _Located, allowed: set[str], what: str):
        for key in mapping:
            if key not in allowed:
                raise self.fail(
                    f"unknown field {key!r} in {what} (allowed: {', '.join(sorted(allowed))})",
                    self.line_of(mapping, key),
                )

    def text(self, mapping: _Located, key: str, what: str, default: str = "") -> str:
        value = mapping.get(key, default)
        if type(value) is str:  # the common case, checked first: plans hold a lot of text
            if "\0" in value:  # SQLite's printf (overdue CSV, render.csv_line_sql) would end the text there
                raise self.fail(f"{what}: {key} contains a NUL character (\\0); plan text cannot hold one",
                                self.line_of(mapping, key))
            return value.strip()
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.fail(f"{what}: {key} must be text", self.line_of(mapping, key))
        return str(value).strip()

    def date_field(self, mapping: _Located, key: str, what: str) -> date:
        raw = mapping.get(key)
        line = self.line_of(mapping, key)
        if not isinstance(raw, str):
            raise self.fail(f"{what}: {key} must be a date such as 2013-08-14", line)
        try:
            return parse_user_date(raw)
        except DateInputError as error:
            raise self.fail(f"{what}: {key}: {error}", line) from None

    def codes(self, mapping: _Located, key: str, what: str, known: dict[str, Agency]) -> list[str]:
        value = mapping.get(key)
        if type(value) is list or type(value) is _LocatedList:
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
            value = _LocatedList([value])
            value.line, value.lines = line, [line]
        if not isinstance(value, list):
            raise self.fail(f"{what}: {key} must be a list of agency codes", line)
        codes: list[str] = []
        for index, code in enumerate(value):
            item_line = _line_at(value, index) or line
            if not isinstance(code, str) or code not in known:
                raise self.fail(f"{what}: unknown agency code {code!r} in {key}", item_line)
            if code in codes:
                raise self.fail(f"{what}: agency {code!r} is listed twice in {key}", item_line)
            codes.append(code)
        return codes

    # the document --------------------------------------------------------

    def plan(self, document) -> Plan:
        if document is None:
            raise self.fail("the file is empty", None)
        root = self.mapping(document, "the plan file", 1)
        self.check_root(root)
        plan, known = self.head(root)
        plan.tasks = self.tasks(root["tasks"], self.line_of(root, "tasks"), known, plan.period_start, plan.period_end)
        return plan

    def check_root(self, root: _Located) -> None:
        self.check_keys(root, {"format", "plan", "agencies", "tasks"}, ("plan", "agencies", "tasks"), "the plan file")
        if "format" in root and root["format"] != FORMAT:
            raise self.fail(f"unknown format {root['format']!r} (this civreform reads {FORMAT})", self.line_of(root, "format"))

    def head(self, root: _Located) -> tuple[Plan, dict[str, Agency]]:
        """The plan without its tasks, and its agencies by code."""
        head = self.mapping(root["plan"], "plan", self.line_of(root, "plan"))
        self.check_keys(
            head,
            {"id", "number", "issued", "title", "title_en", "place", "issuer", "signer", "signer_title",
             "signer_title_en", "monitor", "period", "legal_bases", "note"},
            ("id", "number", "issued", "title"),
            "plan",
        )
        plan_id = self.text(head, "id", "plan")
        if not ID_PATTERN.fullmatch(plan_id):
            raise self.fail(f"plan id {plan_id!r} must be letters, digits, '.', '_' or '-'", self.line_of(head, "id"))
        issued = self.date_field(head, "issued", "plan")
        period_start = period_end = None
        if "period" in head:
            period = self.mapping(head["period"], "plan: period", self.line_of(head, "period"))
            self.check_keys(period, {"start", "end", "text", "text_en"}, ("start", "end"), "plan: period")
            period_start = self.date_field(period, "start", "plan: period")
            period_end = self.date_field(period, "end", "plan: period")
            if period_end < period_start:
                raise self.fail("plan: period ends before it starts", self.line_of(period, "end"))

        agencies = self.agencies(root["agencies"], self.line_of(root, "agencies"))
        known = {agency.code: agency for agency in agencies}
        for key in ("issuer", "monitor"):
            if key in head:
                self.codes(head, key, "plan", known)
        meta = {key: _plain(value) for key, value in head.items() if key not in ("id", "number", "issued", "title", "title_en")}
        plan = Plan(
            id=plan_id,
            number=self.text(head, "number", "plan"),
            issued=issued,
            title=self.text(head, "title", "plan"),
            title_en=self.text(head, "title_en", "plan"),
            period_start=period_start,
            period_end=period_end,
            agencies=agencies,
            tasks=[],
            meta=meta,
            source=self.name,
        )
        return plan, known

    def agencies(self, value, line: int) -> list[Agency]:
        if not isinstance(value, list) or not value:
            raise self.fail("agencies must be a non-empty list", line)
        agencies: list[Agency] = []
        seen: dict[str, int] = {}
        member_lines: dict[str, int] = {}
        for index, item in enumerate(value):
            entry = self.mapping(item, "an agency", _line_at(value, index))
            what = f"agency {entry.get('code', '#' + str(index + 1))}"
            self.check_keys(entry, {"code", "name", "name_en", "kind", "aliases", "members", "note"}, ("code", "name"), what)
            code = self.text(entry, "code", what)
            if not CODE_PATTERN.fullmatch(code):
                raise self.fail(f"agency code {code!r} must be lower-case ASCII letters, digits, '.', '_' or '-'", self.line_of(entry, "code"))
            if code in seen:
                raise self.fail(f"duplicate agency code {code!r} (first on line {seen[code]})", self.line_of(entry, "code"))
            seen[code] = self.line_of(entry, "code")
            kind = self.text(entry, "kind", what, "other")
            if kind not in AGENCY_KINDS:
                raise self.fail(f"{what}: unknown kind {kind!r} (one of {', '.join(AGENCY_KINDS)})", self.line_of(entry, "kind"))
            aliases = entry.get("aliases") or []
            if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
                raise self.fail(f"{what}: aliases must be a list of names", self.line_of(entry, "aliases"))
            members = entry.get("members") or []
            if members and kind != "group":
                raise self.fail(f"{what}: only an agency of kind group has members", self.line_of(entry, "members"))
            if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
                raise self.fail(f"{what}: members must be a list of agency codes", self.line_of(entry, "members"))
            member_lines[code] = self.line_of(entry, "members")
            agencies.append(Agency(
                code=code, name=self.text(entry, "name", what), name_en=self.text(entry, "name_en", what),
                kind=kind, aliases=[a.strip() for a in aliases], members=list(members),
                note=self.text(entry, "note", what),
            ))
        for agency in agencies:
            for member in agency.members:
                if member not in seen:
                    raise self.fail(f"agency {agency.code}: unknown member code {member!r}", member_lines[agency.code])
                if member == agency.code:
                    raise self.fail(f"agency {agency.code} cannot be its own member", member_lines[agency.code])
        _check_no_cycles(agencies, lambda code, problem: self.fail(problem, member_lines[code]))
        return agencies

    def tasks(self, value, line: int, known: dict[str, Agency], start: date | None, end: date | None) -> list[Task]:
        if not isinstance(value, list) or not value:
            raise self.fail("tasks must be a non-empty list", line)
        entries = ((item, _line_at(value, index)) for index, item in enumerate(value))
        return list(self.iter_tasks(entries, known, start, end))

    def iter_tasks(self, entries, known: dict[str, Agency], start: date | None, end: date | None):
        """Validated tasks from (entry, line) pairs, one at a time (a generator)."""
        seen: dict[str, int] = {}
        for index, (item, item_line) in enumerate(entries):
            if isinstance(item, FlatEntry):
                task = self._known_task(item, index + 1, seen)
                if task is None:
                    task = self._task(item.located(), item_line, index, seen, known, start, end)
                    self._learn(item, task)
                yield task
            else:
                yield self._task(item, item_line, index, seen, known, start, end)

    def _task(self, item, item_line: int | None, index: int, seen: dict[str, int], known: dict[str, Agency],
              start: date | None, end: date | None) -> Task:
        """One task, every field checked (the errors name the field and its line)."""
        entry = self.mapping(item, "a task", item_line)
        raw_id = entry.get("id")
        what = f"task {raw_id}" if raw_id is not None else f"task #{index + 1}"
        self.check_keys(
            entry,
            TASK_FIELDS,
            ("id", "content", "lead"),
            what,
        )
        if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)):
            raise self.fail(f"{what}: id must be text such as \"1\" or \"IV.2-plan\"", self.line_of(entry, "id"))
        task_id = str(raw_id).strip()
        if not ID_PATTERN.fullmatch(task_id):
            raise self.fail(f"task id {task_id!r} must be letters, digits, '.', '_' or '-'", self.line_of(entry, "id"))
        if task_id in seen:
            raise self.fail(f"duplicate task id {task_id!r} (first on line {seen[task_id]})", self.line_of(entry, "id"))
        seen[task_id] = self.line_of(entry, "id")
        lead = self.codes(entry, "lead", what, known)
        if not lead:
            raise self.fail(f"{what}: lead must name at least one agency", self.line_of(entry, "lead"))
        support = self.codes(entry, "support", what, known)
        time_text = self.text(entry, "time_text", what)
        specs = self.deadline(entry, what, time_text)
        laid_out = self._laid_out.get(key := tuple(specs))
        if laid_out is None:
            try:
                laid_out = self._laid_out[key] = milestones_for(specs, start, end)
            except DeadlineError as error:
                raise self.fail(f"{what}: {error}", self.line_of(entry, "deadline" if "deadline" in entry else "time_text")) from None
        texts = self.plain_texts(entry)
        if texts is None:
            self.text(entry, "content", what)  # (its error comes before the target's)
        target = entry.get("target")
        if target is not None and not isinstance(target, dict):
            raise self.fail(f"{what}: target must be a mapping", self.line_of(entry, "target"))
        if texts is None:  # some field is not plain text: each is checked (or fails) in turn
            texts = {key: self.text(entry, key, what, default) for key, default in _TASK_TEXT_DEFAULTS.items()}
        return _new_task(task_id, index + 1, texts, lead, support, time_text, specs, list(laid_out),
                         _plain(target) if target is not None else None, entry.line)

    # A task of flat lines whose codes and deadline are written as in a task before
    # it that validated: most tasks of a large plan. The codes and the deadline are
    # the same values then (a value is a function of its text), so they are checked
    # already; what is the task's own (its id, its texts) is checked here, as _task
    # checks it. Anything else, or anything new, goes to _task, which has the errors.

    def _known_task(self, item: FlatEntry, seq: int, seen: dict[str, int]) -> Task | None:
        """The task, when everything in it is known to validate; else None."""
        values, flows = item.values, item.flows
        if not values.keys() <= _KNOWN_TASK_FIELDS or not values.get("content"):
            return None
        lead = self._known_codes.get(("lead", flows.get("lead")))
        support = self._known_codes.get(("support", flows.get("support"))) if "support" in values else ()
        if lead is None or support is None:
            return None
        time_text = values.get("time_text", "")
        if type(time_text) is not str or "\0" in time_text:
            return None
        time_text = time_text.strip()
        deadline = self._known_deadlines.get(_deadline_key(values, flows, time_text))
        if deadline is None:
            return None
        raw_id = values.get("id")
        if type(raw_id) is str:
            task_id = raw_id.strip()
        elif type(raw_id) is int:  # (not a bool: its type is bool)
            task_id = str(raw_id)
        else:
            return None
        if task_id in seen or not ID_PATTERN.fullmatch(task_id):
            return None
        texts = self.plain_texts(values)
        if texts is None:
            return None
        seen[task_id] = item.line if next(iter(values)) == "id" else item.line + list(values).index("id")
        specs, milestones = deadline
        return _new_task(task_id, seq, texts, list(lead), list(support), time_text, list(specs), list(milestones),
                         None, item.line)

    def _learn(self, item: FlatEntry, task: Task) -> None:
        """Remember the codes and deadline of a task _task validated, by their text."""
        if len(self._known_codes) >= _KNOWN_LIMIT or len(self._known_deadlines) >= _KNOWN_LIMIT:
            return  # (a plan with more distinct ones than that is read the general way)
        flows = item.flows
        for role in ("lead", "support"):
            if role in flows:
                self._known_codes[(role, flows[role])] = tuple(getattr(task, role))
        key = _deadline_key(item.values, flows, task.time_text)
        if key is not None:
            self._known_deadlines[key] = (tuple(task.deadline), tuple(task.milestones))

    @staticmethod
    def plain_texts(entry: dict) -> dict[str, str] | None:
        """A task's text fields (but time_text) in one pass, when every one it has is
        plain text (the common case); else None, and text() checks each."""
        texts = dict(_TASK_TEXT_DEFAULTS)
        for key in _TASK_TEXTS.intersection(entry):
            value = entry[key]
            if type(value) is not str or "\0" in value:
                return None
            texts[key] = value.strip()
        return texts

    def deadline(self, entry: _Located, what: str, time_text: str) -> list[DeadlineSpec]:
        if "deadline" not in entry or entry["deadline"] is None:
            if not time_text:
                raise self.fail(f"{what} is missing the field 'deadline' (or a 'time_text' to read it from)", entry.line)
            if time_text not in self._phrases:
                try:
                    self._phrases[time_text] = parse_time_text(time_text)
                except DeadlineError as error:
                    raise self.fail(f"{what}: {error}", self.line_of(entry, "time_text")) from None
            return list(self._phrases[time_text])
        value = entry["deadline"]
        line = self.line_of(entry, "deadline")
        if value == "ongoing":
            return [DeadlineSpec("ongoing")]
        if isinstance(value, _Located):
            return [self.deadline_rule(value, what, single=True)]
        if isinstance(value, list) and value:
            specs = [self.deadline_rule(self.mapping(item, f"{what}: a deadline", _line_at(value, i)), what, single=False)
                     for i, item in enumerate(value)]
            labels = [spec.label for spec in specs]
            if len(set(labels)) != len(labels):
                raise self.fail(f"{what}: two deadlines share the label", line)
            return specs
        raise self.fail(f"{what}: deadline must be 'ongoing', a rule or a list of rules", line)

    def deadline_rule(self, rule: _Located, what: str, single: bool) -> DeadlineSpec:
        # The key keeps each value's type: 1, 1.0 and True are equal in Python but not here.
        key = (single, tuple(rule.items()), tuple(map(type, rule.values())))
        try:
            return self._rules[key]
        except (KeyError, TypeError):  # new, or holds a value that cannot be a key (then it fails below)
            pass
        spec = self._deadline_rule(rule, what, single)
        try:
            self._rules[key] = spec
        except TypeError:
            pass
        return spec

    def _deadline_rule(self, rule: _Located, what: str, single: bool) -> DeadlineSpec:
        self.check_keys(rule, RULE_FIELDS, (), f"{what}: deadline")
        line = rule.line
        label = self.text(rule, "label", what) or None
        if not single and not label:
            raise self.fail(f"{what}: each of several deadlines needs a label", line)
        if label and not ID_PATTERN.fullmatch(label):
            raise self.fail(f"{what}: deadline label {label!r} must be letters, digits, '.', '_' or '-'", self.line_of(rule, "label"))
        every = rule.get("every")
        if every not in (None, "year"):
            raise self.fail(f"{what}: every must be 'year'", self.line_of(rule, "every"))
        yearly = every == "year"
        year = rule.get("year")
        if year is not None and (isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2200):
            raise self.fail(f"{what}: year must be a year such as 2014", self.line_of(rule, "year"))
        if yearly and year is not None:
            raise self.fail(f"{what}: give either year or every: year, not both", self.line_of(rule, "every"))
        kinds = [k for k in ("quarter", "half", "month", "date") if k in rule]
        if len(kinds) > 1:
            raise self.fail(f"{what}: a deadline has one of quarter, half, month or date, not {' and '.join(kinds)}", line)
        common = {"label": label, "label_vi": self.text(rule, "label_vi", what) or None}
        kind = kinds[0] if kinds else None
        if kind == "date":
            if yearly or year is not None:
                raise self.fail(f"{what}: a date deadline carries its own year", self.line_of(rule, "date"))
            due = self.date_field(rule, "date", f"{what}: deadline")
            return DeadlineSpec("date", year=due.year, month=due.month, day=due.day, **common)
        if not yearly and year is None:
            raise self.fail(f"{what}: the deadline needs a year (or every: year)", line)
        if kind == "quarter":
            try:
                quarter = read_quarter(rule["quarter"])
            except DeadlineError as error:
                raise self.fail(f"{what}: {error}", self.line_of(rule, "quarter")) from None
            return DeadlineSpec("quarter", year=year, quarter=quarter, yearly=yearly, **common)
        if kind == "half":
            if rule["half"] not in (1, 2):
                raise self.fail(f"{what}: half must be 1 or 2", self.line_of(rule, "half"))
            return DeadlineSpec("half", year=year, half=rule["half"], yearly=yearly, **common)
        if "day" in rule and kind != "month":
            raise self.fail(f"{what}: day needs a month", self.line_of(rule, "day"))
        if kind == "month":
            month = rule["month"]
            if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
                raise self.fail(f"{what}: month must be 1 to 12", self.line_of(rule, "month"))
            if "day" in rule:
                day = rule["day"]
                check_year = year if year is not None else 2000  # 2000: 29/02 exists
                try:
                    checked_date(check_year, month, day if isinstance(day, int) else -1, f"{day}/{month}")
                except DateInputError as error:
                    raise self.fail(f"{what}: {error}", self.line_of(rule, "day")) from None
                return DeadlineSpec("date", year=year, month=month, day=day, yearly=yearly, **common)
            return DeadlineSpec("month", year=year, month=month, yearly=yearly, **common)
        return DeadlineSpec("year-end", year=year, yearly=yearly, **common)


def _check_no_cycles(agencies: list[Agency], fail) -> None:
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


def bundled_plan_path() -> Path:
    """The plan shipped with civreform, in a wheel or in a source checkout."""
    from importlib.resources import files

    packaged = Path(str(files("civreform"))) / "data" / "plan_55_2013.yaml"
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "data" / "plan_55_2013.yaml"
