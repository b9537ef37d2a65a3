"""Reading a plan file into located data: its bytes (size-capped), then YAML or JSON values that know their lines."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

from civreform.errors import PlanFileError

# Limits a plan file must stay within, so that no file can take the memory or the minutes
# of a load. Real plans hold 10-300 tasks in under 0.5 MB, nested five levels deep.
MAX_FILE_BYTES = 5_000_000  # 5,000 tasks as long as the bundled plan's; read no further
MAX_DEPTH = 20  # collections within collections, aliases expanded
MAX_VALUES = 250_000  # values in the whole document, each alias counted as a copy of what it names
MAX_ALIAS_VALUES = 1_000  # values one alias may stand for (a shared deadline or target holds a handful)


class Located(dict):
    """A mapping that remembers the line of itself and of each key (None for JSON, read without lines)."""

    line: int | None = None
    lines: dict = {}  # noqa: RUF012 (read-only default; YAML-built mappings get their own)
    size = height = 1  # values inside it (itself included) and levels, aliases expanded (YAML only)


class LocatedList(list):
    """A list that remembers the line of itself and of each item."""

    line: int | None = None
    lines: list = []  # noqa: RUF012
    size = height = 1


def line_at(items: list, index: int) -> int | None:
    return items.lines[index] if isinstance(items, LocatedList) and items.lines else None


def read_text(path: Path) -> str:
    """The file's text, read with a size cap (a device such as /dev/zero never ends)."""
    name = str(path)
    with _file_errors(name), path.open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise PlanFileError(f"larger than {MAX_FILE_BYTES // 1_000_000} MB; a plan file is far smaller "
                                f"(split the plan, or check that this is the right file)", name)
        return data.decode("utf-8-sig")


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


# ── JSON ────────────────────────────────────────────────────────────────────

def looks_like_json(text: str, name: str) -> bool:
    return name.lower().endswith(".json") or text.lstrip().startswith("{")


def load_json(text: str, name: str):
    """The document as Located values without lines; None when only a reading with
    lines can say what is wrong (a key twice, too deep) or when a file not named
    .json is no JSON (then it is YAML, which may start with "{" too)."""
    try:
        document = json.loads(text, object_pairs_hook=_json_object)
    except json.JSONDecodeError as error:
        if name.lower().endswith(".json"):
            raise PlanFileError(f"JSON syntax error: {error.msg}", name, error.lineno) from None
        return None
    except (ValueError, RecursionError, _DuplicateKey):
        return None
    return document if not isinstance(document, (dict, list)) or _within_limits(document) else None


class _DuplicateKey(Exception):
    pass


def _json_object(pairs: list[tuple]) -> Located:
    mapping = Located(pairs)
    if len(mapping) != len(pairs):
        raise _DuplicateKey
    return mapping


def _within_limits(document) -> bool:
    """Whether a JSON document nests at most MAX_DEPTH deep and holds at most MAX_VALUES values."""
    values, pending = 1, [(document, 1)]
    while pending:
        collection, depth = pending.pop()
        children = collection.values() if isinstance(collection, dict) else collection
        values += len(children)
        if depth > MAX_DEPTH or values > MAX_VALUES:
            return False
        pending += [(child, depth + 1) for child in children if isinstance(child, (dict, list))]
    return True


# ── YAML ────────────────────────────────────────────────────────────────────

def load_yaml(text: str, name: str):
    """The document as Located values, every mapping key and list item with its line."""
    import yaml

    with _yaml_errors(name, text):
        return yaml.load(text, Loader=_make_loader())  # noqa: S506 (a SafeLoader subclass)


def _make_loader():
    import yaml
    from yaml.composer import Composer

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[misc, valid-type]
        """libyaml's parser, and PyYAML's own composer on its events (libyaml's composer
        cannot be stopped: it would build every node of a 5 MB file, ~14 s, before any
        check could run); nodes are counted, and their nesting, as they are made."""

        def __init__(self, stream):
            super().__init__(stream)
            self.anchors: dict = {}
            self.level = self.nodes = 0  # while composing
            self.values = 0  # while constructing: values built, aliases expanded

        get_single_node = Composer.get_single_node
        compose_document = Composer.compose_document
        compose_scalar_node = Composer.compose_scalar_node
        compose_sequence_node = Composer.compose_sequence_node
        compose_mapping_node = Composer.compose_mapping_node

        def compose_node(self, parent, index):
            self.nodes += 1
            self.level += 1
            if self.nodes > MAX_VALUES:
                raise PlanFileError(_TOO_MANY_VALUES, None, self.peek_event().start_mark.line + 1)
            if self.level > MAX_DEPTH:
                raise PlanFileError(f"nested more than {MAX_DEPTH} levels deep", None,
                                    self.peek_event().start_mark.line + 1)
            try:
                return Composer.compose_node(self, parent, index)
            finally:
                self.level -= 1

    # Keep dates as strings: we check them ourselves and report the line.
    Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }
    Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
    Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)
    Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
    for kind in ("set", "omap", "pairs"):  # collections built around our counting: a plan needs none
        Loader.add_constructor(f"tag:yaml.org,2002:{kind}", _refuse_tag)
    return Loader


_TOO_MANY_VALUES = f"the plan holds more than {MAX_VALUES:,} values (an alias counts as a copy of what it names)"


def _construct_mapping(loader, node) -> Located:
    loader.flatten_mapping(node)
    mapping = Located()
    mapping.line = node.start_mark.line + 1
    mapping.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, (str, int, float, bool)) or key is None:
            raise PlanFileError(f"a key must be plain text, not {key!r}", None, line)
        if key in mapping:
            raise PlanFileError(f"the key {key!r} appears twice", None, line)
        mapping[key] = _child(loader, mapping, value_node, line)
        mapping.lines[key] = line
    return mapping


def _construct_sequence(loader, node) -> LocatedList:
    items = LocatedList()
    items.line = node.start_mark.line + 1
    items.lines = []
    for child in node.value:
        items.append(_child(loader, items, child, None))
        items.lines.append(child.start_mark.line + 1)
    return items


def _child(loader, parent, node, line: int | None):
    """A value inside `parent`, counted: an alias (a node built before) counts as a copy of
    what it names. `line`: its key's; for a list item None, and the item's own line is
    used (an alias's node carries its anchor's line: then the list's)."""
    alias = node in loader.constructed_objects
    if line is None:
        line = parent.line if alias else node.start_mark.line + 1
    value = loader.construct_object(node, deep=True)
    size, height = (value.size, value.height) if isinstance(value, (Located, LocatedList)) else (1, 0)
    if alias and size > MAX_ALIAS_VALUES:
        raise PlanFileError(f"an alias here stands for {size:,} values; an alias may stand for at most "
                            f"{MAX_ALIAS_VALUES:,}", None, line)
    parent.size += size
    parent.height = max(parent.height, height + 1)
    loader.values += size if alias else 1  # (a value built here counted its own children already)
    if loader.values > MAX_VALUES:
        raise PlanFileError(_TOO_MANY_VALUES, None, line)
    if parent.height > MAX_DEPTH:  # (as written, the composer refused it already)
        raise PlanFileError(f"nested more than {MAX_DEPTH} levels deep (aliases expanded)", None, line)
    return value


def _construct_int(loader, node):
    try:
        return loader.construct_yaml_int(node)
    except ValueError:
        raise PlanFileError("a number too long to read", None, node.start_mark.line + 1) from None


def _refuse_tag(loader, node):
    raise PlanFileError(f"the YAML tag {node.tag.replace('tag:yaml.org,2002:', '!!')} has no use in a plan file",
                        None, node.start_mark.line + 1)


@contextmanager
def _yaml_errors(name: str, text: str):
    """PyYAML's errors (and ours from inside its constructors) as one PlanFileError with the line."""
    import yaml

    try:
        yield
    except PlanFileError as error:
        raise PlanFileError(error.problem, name, error.line) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        if error.problem == "but found another document":
            raise PlanFileError("a plan file holds one YAML document (remove the '---' and what follows it)",
                                name, mark.line + 1) from None
        problem = error.problem or error.context or "invalid YAML"
        if error.context and error.context_mark and error.problem_mark:
            problem += f" ({error.context} that starts on line {error.context_mark.line + 1})"
        raise PlanFileError(f"YAML syntax error: {problem}", name, mark.line + 1 if mark else None) from None
    except yaml.reader.ReaderError as error:  # a character YAML refuses
        if isinstance(error.character, int):
            code = error.character
            escape = f"\\x{code:02X}" if code < 0x100 else f"\\u{code:04X}" if code < 0x10000 else f"\\U{code:08X}"
            at = text.find(chr(code))
            raise PlanFileError(f"YAML does not allow the character U+{code:04X} here; remove it, or write it "
                                f"as {escape} inside double quotes", name,
                                text.count("\n", 0, at) + 1 if at >= 0 else None) from None
        raise PlanFileError(f"YAML error: {' '.join(str(error).split())}", name) from None
    except yaml.YAMLError as error:
        raise PlanFileError(f"YAML error: {' '.join(str(error).split())}", name) from None
    except RecursionError:  # (the pure-Python parser, where libyaml is missing, recurses as it nests)
        raise PlanFileError("YAML nested too deeply", name) from None
