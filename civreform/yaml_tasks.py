"""The tasks of a large YAML plan read straight from their lines, where the lines are
the plain block style that civreform's plans are written in.

libyaml alone needs ~3 s of one core to turn 100,000 tasks into events, before any
value is built. This reader builds a task from its lines instead, when every line of
it is one whose meaning it knows exactly: `key: value` and `- value` lines whose
values are plain or quoted text (no escapes) or a flow collection of words
([a, b], {quarter: IV, year: 2013}), each on its one line. What it builds is what
PyYAML builds (the same values, keys and lines). A task of one-line entries only
(a flat task) is given as a plan.FlatEntry, with the text of its flow collections,
so that the validator can take it from what it has met before (see
plan._Validator._known_task) without building its values with their lines.
Otherwise:

- a task with any other line (a block scalar, a value over several lines, an
  escape, a tab, an anchor) is read by PyYAML from that task's own lines;
- where this reader cannot be sure of the rest of the file (an alias of an anchor
  outside the task, a line break that YAML counts and Python does not, more of
  the document after the tasks, a byte that is not UTF-8, a YAML error) it raises
  GiveUp, and the caller reads on with libyaml, skipping the tasks already given.
"""

from __future__ import annotations

import re

from civreform.errors import PlanFileError
from civreform.plan import _MISSING, FlatEntry, _Located, _LocatedList, _make_loader, _NotPlain, _PlainScalars

CHUNK_BYTES = 1 << 20  # how much of the file is read, decoded and split at a time


class GiveUp(Exception):
    """This reader cannot be sure of the rest of the file."""


# Characters YAML reads as text anywhere, in lines that Python counts as YAML does:
# YAML's printable characters less the tab and the byte order mark.
_UNUSUAL = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
_LINE_BREAKS_ONLY_YAML_COUNTS = re.compile("[\r\x85\u2028\u2029]")
# A flow collection on one line, of words (codes, numbers, names) and collections.
_FLOW_WORD = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"
_FLOW_TEXT = re.compile(rf"(?:[\[\]{{}},]|{_FLOW_WORD}(?:: )?| )*")
_FLOW_PART = re.compile(rf"[\[\]{{}},]|({_FLOW_WORD})(: )?")
_NOT_PLAIN_FIRST = frozenset("-?:,[]{}#&*!|>'\"%@`")


def _is_entry(text: str) -> bool:
    """`- ...` or a lone `-`: an item of a block sequence."""
    return text[0] == "-" and (len(text) == 1 or text[1] == " ")


class PlainTaskReader:
    """(task, line) for each task of the block sequence whose first `-` is on line
    `first_line` (counted from 1) at `column` of the file at `path`; `loader` is the
    PyYAML loader reading the file, and `plain` its reading of plain words (the
    one libyaml's events path uses). `position` is how many bytes of the file have
    been read."""

    def __init__(self, path, first_line: int, column: int, loader, plain: _PlainScalars):
        self.path, self.first_line, self.column = path, first_line, column
        self.key_start = "\n" + " " * (column + 2)  # a line of a flat task's keys
        self.plain = plain
        self.keys: dict[str, object] = {}  # a key's text: its value
        self.text_keys: set[str] = set()  # the keys YAML reads as the word itself
        # A value's first characters that need a look (quotes, flow collections, words
        # YAML may read as a number, true or null); the rest start plain text.
        self.special = _NOT_PLAIN_FIRST | set(plain.resolvers) | {" "}
        self.flow: dict[str, tuple] = {}
        self.loader_class = None  # for a task PyYAML reads
        self.anchors = set(getattr(loader, "anchors", {}))  # defined so far (before the tasks, and in them)
        self.position = 0

    # the lines of each task ------------------------------------------------

    def _chunks(self, handle):
        """(first line's number, text of whole lines with no final line break, numbers of
        lines with unusual characters) per chunk."""
        number = 1
        for _ in range(self.first_line - 1):
            line = handle.readline()
            try:
                text = line.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                raise GiveUp from None
            text = text[:-2] if text.endswith("\r\n") else text[:-1]  # (the line's own break)
            if not line or _LINE_BREAKS_ONLY_YAML_COUNTS.search(text):
                raise GiveUp  # libyaml counted a line there that Python does not
            number += 1
        while True:
            data = handle.read(CHUNK_BYTES)
            if not data:
                return
            data += handle.readline()  # whole lines only (a "\n" byte is never inside a character)
            self.position = handle.tell()
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise GiveUp from None
            if "\r" in text:
                text = text.replace("\r\n", "\n")
            if text.endswith("\n"):
                text = text[:-1]
            unusual = set()
            for found in _UNUSUAL.finditer(text):
                if _LINE_BREAKS_ONLY_YAML_COUNTS.match(found.group()):
                    raise GiveUp
                unusual.add(number + text.count("\n", 0, found.start()))
            yield number, text, unusual
            number += text.count("\n") + 1

    def __iter__(self):
        with open(self.path, "rb") as handle:
            yield from self._tasks(handle)

    def _tasks(self, handle):
        """The tasks, then GiveUp if anything but blank and comment lines follows them.

        Each chunk is cut into tasks where a line starts with the tasks' `- ` (a line
        break is always a line's start); a task whose every other line starts at its
        keys' column is cut into those lines the same way: both in C, not line by line."""
        column = self.column
        task_start = "\n" + " " * column + "- "
        pending, first = None, self.first_line  # the last task of a chunk (it may go on), its line
        unusual_lines: set = set()
        for number, text, unusual in self._chunks(handle):
            if unusual:
                unusual_lines = {n for n in unusual_lines if n >= first} | unusual
            if pending is None:
                pieces = ("\n" + text).split(task_start)
                if pieces[0] or len(pieces) == 1:
                    raise GiveUp  # the first line is not where the tasks were said to start
                del pieces[0]
            else:
                pieces = (pending + "\n" + text).split(task_start)
            pending = pieces.pop()
            for piece in pieces:
                lines = piece.count("\n") + 1
                yield from self._piece(piece, first, lines, unusual_lines)
                first += lines
        if pending is not None:
            yield from self._piece(pending, first, pending.count("\n") + 1, unusual_lines, last=True)

    def _piece(self, piece: str, first: int, lines: int, unusual_lines: set, last: bool = False):
        """The task whose `lines` lines (after its `- `) are `piece`, the first on line
        `first`; for the `last`, GiveUp after it if the document goes on."""
        unusual = bool(unusual_lines) and not unusual_lines.isdisjoint(range(first, first + lines))
        if not unusual:
            entries = piece.split(self.key_start)
            if len(entries) == lines:  # every line at the keys' column: maybe a flat task
                mapping = self._flat_task(piece, entries, first)
                if mapping is not None:
                    yield mapping, first
                    return
        column, inside = self.column, " " * (self.column + 1)
        item = (" " * column + "- " + piece).split("\n")
        for end, line in enumerate(item):  # where the task ends: its last line
            if end and not line.startswith(inside):
                text = line.lstrip(" ")
                if text and text[0] != "#":
                    if not last or text == "-":
                        raise GiveUp  # (an item whose value starts on the next line)
                    yield self._task(item[:end], first, unusual)
                    raise GiveUp  # more of the document after the tasks: libyaml reads it
        yield self._task(item, first, unusual)

    def _task(self, item: list, first: int, unusual: bool) -> tuple:
        """A task from its lines, by the first way that can read it."""
        if not unusual:
            lines = [(number, len(line) - len(text), text.rstrip(" "))
                     for number, line in enumerate(item, first)
                     if (text := line.lstrip(" ")) and text[0] != "#"]
            try:
                items, end = self._sequence(lines, 0, self.column)
                if end == len(lines) and len(items) == 1:
                    return items[0], items.lines[0]
            except _NotPlain:
                pass
        return self._read_by_pyyaml(item, first)

    def _flat_task(self, piece: str, entries: list, first: int) -> _FlatTask | None:
        """A task of one-line `key: value` entries only (`entries`: its lines without their
        indentation; `piece`: them as in the file): the common case, read with as little
        work per line as can be; None for a task with any other line."""
        if not piece or " #" in piece or " \n" in piece or ":\n" in piece or "\\" in piece or piece[-1] in " :":
            return None  # a comment, a trailing space, a key with no value, an escape: not flat
        values: dict = {}  # (a plain dict takes items faster than a subclass)
        special, plain, flow = self.special, self.plain, self.flow
        flows, colons = {}, len(entries)  # every ": " is a key's, or in a quoted value or flow collection
        try:
            for entry in entries:
                key, _colon, value = entry.partition(": ")
                start = value[0]
                if start in special:  # quoted, a flow collection, or a word YAML may read as a number
                    if start == '"':
                        colons += value.count(": ")
                        if value[-1] != '"' or len(value) < 2 or '"' in value[1:-1]:
                            return None
                        value = value[1:-1]
                    elif start == "[" or start == "{":
                        colons += value.count(": ")
                        flows[key] = value
                        value = flow.get(value) or self._flow(value)
                    elif start in _NOT_PLAIN_FIRST or start == " ":
                        return None
                    else:
                        known = plain.known.get(value, _MISSING)
                        value = plain(value) if known is _MISSING else known
                values[key] = value
        except (IndexError, _NotPlain):  # ("key:" with nothing after it)
            return None
        if len(values) != len(entries) or piece.count(": ") != colons:
            return None  # a key twice (PyYAML's path says so, with the line); ": " inside a value
        if not values.keys() <= self.text_keys and not self._keys_are_text(values):
            return None
        return _FlatTask(values, flows, first)

    def _keys_are_text(self, mapping: dict) -> bool:
        """Whether every key of `mapping` is a plain word that YAML reads as itself."""
        for key in mapping.keys() - self.text_keys:
            self._key(key)
        return mapping.keys() <= self.text_keys

    def _key(self, text: str):
        """A mapping key written as a plain word, or _MISSING."""
        key = self.keys.get(text, _MISSING)
        if key is not _MISSING:
            return key
        if not text.isidentifier():
            return _MISSING
        try:
            key = self.plain(text)
        except _NotPlain:
            return _MISSING
        if key is None:
            return _MISSING  # (PyYAML's path says what is wrong with it)
        if len(self.keys) < 4096:
            self.keys[text] = key
            if type(key) is str:  # (an identifier that reads as text reads as itself)
                self.text_keys.add(text)
        return key

    # any task of one-line values, nested -------------------------------------

    def _node(self, lines: list, index: int):
        text = lines[index][2]
        if _is_entry(text):
            return self._sequence(lines, index, lines[index][1])
        return self._mapping(lines, index, lines[index][1])

    def _sequence(self, lines: list, index: int, indent: int):
        """The block sequence whose first entry is lines[index] (number, indent, text)."""
        items = _LocatedList()
        items.line, items.lines = lines[index][0], []
        end = len(lines)
        while index < end:
            number, line_indent, text = lines[index]
            if line_indent != indent or not _is_entry(text):
                if line_indent > indent:
                    raise _NotPlain
                break
            rest = text[1:].lstrip(" ")
            if not rest or _is_entry(rest):
                raise _NotPlain  # a value on the lines below, or a sequence in a sequence
            key, colon, after = rest.partition(":")
            if colon and (not after or after[0] == " ") and key.isidentifier():
                lines[index] = (number, len(text) - len(rest) + indent, rest)  # a mapping starts here
                value, index = self._mapping(lines, index, lines[index][1])
            else:
                value = self._scalar(rest, number)
                index += 1
                if index < end and lines[index][1] > indent:
                    raise _NotPlain  # the value goes on over the next line
            items.append(value)
            items.lines.append(number)
        return items, index

    def _mapping(self, lines: list, index: int, indent: int):
        """The block mapping whose first key is on lines[index]."""
        mapping = _Located()
        mapping.line, mapping.lines = lines[index][0], {}
        end = len(lines)
        while index < end:
            number, line_indent, text = lines[index]
            if line_indent != indent:
                if line_indent > indent:
                    raise _NotPlain
                break
            key_text, colon, rest = text.partition(":")
            if not colon or (rest and rest[0] != " "):
                raise _NotPlain
            key = self._key(key_text)
            if key is _MISSING or key in mapping:
                raise _NotPlain
            index += 1
            rest = rest.lstrip(" ")
            if rest:
                value = self._scalar(rest, number)
                if index < end and lines[index][1] > indent:
                    raise _NotPlain
            elif index < end and lines[index][1] > indent:
                value, index = self._node(lines, index)
            elif index < end and lines[index][1] == indent and _is_entry(lines[index][2]):
                value, index = self._sequence(lines, index, indent)
            else:
                value = None
            mapping[key] = value
            mapping.lines[key] = number
        return mapping, index

    def _scalar(self, text: str, line: int):
        """The value of a one-line scalar or flow collection (no spaces around it) on `line`."""
        first = text[0]
        if first == '"':
            inner = text[1:-1]
            if len(text) < 2 or text[-1] != '"' or '"' in inner or "\\" in inner:
                raise _NotPlain
            return inner
        if first == "'":
            inner = text[1:-1]
            if len(text) < 2 or text[-1] != "'" or "'" in inner.replace("''", ""):
                raise _NotPlain
            return inner.replace("''", "'")
        if first == "[" or first == "{":
            return _built(self._flow(text), line)
        if first in _NOT_PLAIN_FIRST or ": " in text or " #" in text or text[-1] == ":":
            raise _NotPlain
        return self.plain(text)

    def _flow(self, text: str) -> tuple:
        """How to build a flow collection (see _built), worked out once per text."""
        recipe = self.flow.get(text)
        if recipe is not None:
            return recipe
        if not _FLOW_TEXT.fullmatch(text):
            raise _NotPlain
        parts = [(match.group(), match.group(1), match.group(2)) for match in _FLOW_PART.finditer(text)]
        try:
            recipe, end = self._flow_collection(parts, 0)
        except IndexError:  # not closed
            raise _NotPlain from None
        if end != len(parts):
            raise _NotPlain
        if len(self.flow) < 4096:
            self.flow[text] = recipe
        return recipe

    def _flow_collection(self, parts: list, index: int) -> tuple[tuple, int]:
        """The recipe of the collection that opens at parts[index], and the index after
        it: ("seq", [recipe]) or ("map", [(key, recipe)]); a word's is ("word", value)."""
        opening = parts[index][0]
        if opening not in ("[", "{"):
            raise _NotPlain
        closing, entries, keys = "]" if opening == "[" else "}", [], {}
        index += 1
        while parts[index][0] != closing:
            if entries:
                if parts[index][0] != ",":
                    raise _NotPlain
                index += 1
            _whole, word, colon = parts[index]
            if opening == "{":
                key = self.plain(word) if word and colon else None
                if key is None or key in keys:
                    raise _NotPlain  # (no key, a key with no value, or a key twice)
                keys[key] = True
                index += 1
                _whole, word, colon = parts[index]
            if colon:
                raise _NotPlain  # a pair inside a sequence
            if word:
                value, index = ("word", self.plain(word)), index + 1
            else:
                value, index = self._flow_collection(parts, index)
            entries.append((key, value) if opening == "{" else value)
        if all(entry[0] == "word" for entry in (entries if opening == "[" else (v for _k, v in entries))):
            if opening == "[":
                return ("words", [value for _kind, value in entries]), index + 1
            return ("pairs", [(key, value) for key, (_kind, value) in entries]), index + 1
        return ("seq" if opening == "[" else "map", entries), index + 1

    # a task with other lines -------------------------------------------------

    def _read_by_pyyaml(self, item: list, first_line: int) -> tuple:
        """PyYAML's reading of one task's own lines, as a one-item sequence."""
        import yaml

        text = "\n".join(item) + "\n"
        if self.loader_class is None:
            self.loader_class = _make_loader()
        loader = self.loader_class(text)
        try:
            # An anchor that the document has already met is an error when libyaml reads it
            # all, but not in one task's lines.
            anchors = {event.anchor for event in yaml.parse(text, Loader=self.loader_class)
                       if getattr(event, "anchor", None) is not None and not isinstance(event, yaml.AliasEvent)}
            if not anchors.isdisjoint(self.anchors):
                raise GiveUp
            self.anchors |= anchors
            document = loader.get_single_data()
        except (yaml.YAMLError, PlanFileError, RecursionError):
            raise GiveUp from None  # libyaml, reading on through the file, says what is wrong
        finally:
            loader.dispose()
        if not isinstance(document, _LocatedList) or len(document) != 1:
            raise GiveUp
        _move_lines(document, first_line - 1, set())
        return document[0], document.lines[0]


class _FlatTask(FlatEntry):
    """A task of one-line entries, each a line on from `line`: see plan.FlatEntry."""

    __slots__ = ()

    def located(self) -> _Located:
        values = dict(self.values)
        lines = dict(zip(values, range(self.line, self.line + len(values))))
        for key in self.flows:
            values[key] = _built(values[key], lines[key])
        mapping = _Located(values)
        mapping.line, mapping.lines = self.line, lines
        return mapping


def _built(recipe: tuple, line: int):
    """A new value from a flow collection's recipe, every part of it on `line`."""
    kind, content = recipe
    if kind == "words":
        items = _LocatedList(content)
        items.line, items.lines = line, [line] * len(content)
        return items
    if kind == "pairs":
        mapping = _Located(content)
        mapping.line, mapping.lines = line, dict.fromkeys(mapping, line)
        return mapping
    if kind == "word":
        return content
    if kind == "seq":
        items = _LocatedList([_built(entry, line) for entry in content])
        items.line, items.lines = line, [line] * len(items)
        return items
    mapping = _Located([(key, _built(entry, line)) for key, entry in content])
    mapping.line, mapping.lines = line, dict.fromkeys(mapping, line)
    return mapping


def _move_lines(value, by: int, moved: set) -> None:
    """Add `by` to every line that a value built by PyYAML remembers (once: through an
    alias, one value can sit in two places)."""
    if not isinstance(value, (_Located, _LocatedList)) or id(value) in moved:
        return
    moved.add(id(value))
    if isinstance(value, _Located):
        value.line += by
        value.lines = {key: line + by for key, line in value.lines.items()}
        for child in value.values():
            _move_lines(child, by, moved)
    else:
        value.line += by
        value.lines = [line + by for line in value.lines]
        for child in value:
            _move_lines(child, by, moved)
