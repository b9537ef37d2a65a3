"""A large YAML plan's tasks read from their lines (civreform.yaml_tasks) are what
libyaml's events and PyYAML give: every value, key type and line, and every error."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import civreform.plan
from civreform.errors import PlanFileError
from civreform.plan import FlatEntry, TaskStream, _Located, _LocatedList, _make_loader, _YamlTaskReader, read_plan_file
from civreform.yaml_tasks import PlainTaskReader
from tests.conftest import PLAN

HEAD = "format: civreform-plan/1\nplan:\n  id: p\nagencies:\n  - code: a\ntasks:\n"


def shape(value):
    """A value with every line it remembers, and the type of each key and scalar."""
    if isinstance(value, _Located):
        return ("map", value.line, [(type(key).__name__, repr(key), value.lines[key], shape(item))
                                    for key, item in value.items()])
    if isinstance(value, _LocatedList):
        return ("seq", value.line, list(value.lines), [shape(item) for item in value])
    return (type(value).__name__, repr(value))


def located(item):
    """A task as PyYAML builds it (the line reader gives a flat task as a FlatEntry)."""
    return item.located() if isinstance(item, FlatEntry) else item


def streamed(path, monkeypatch, lines: bool):
    """The (task, line) pairs and the keys after the tasks as the streamed reading
    gives them, from the lines or from libyaml's events; or the error it raises."""
    monkeypatch.setattr(civreform.plan, "READ_TASK_LINES", lines)
    try:
        source = civreform.plan._yaml_task_source(path, str(path))
        if source is None:
            return "read whole"
        _root, read_tasks, size = source
        tasks = read_tasks(TaskStream(size))
        given_tasks = []
        while True:
            try:
                item, line = next(tasks)
            except StopIteration as end:
                return [(shape(located(item)), line) for item, line in given_tasks], shape(end.value)
            given_tasks.append((item, line))
    except PlanFileError as error:
        return str(error)


def pyyaml_tasks(text: str):
    """PyYAML's reading of the whole file: the tasks with their lines (or None)."""
    try:
        document = yaml.load(text, Loader=_make_loader())  # noqa: S506 (a SafeLoader subclass)
    except (yaml.YAMLError, PlanFileError):
        return None
    tasks = document.get("tasks") if isinstance(document, dict) else None
    if not isinstance(tasks, _LocatedList):
        return None
    return [(shape(item), line) for item, line in zip(tasks, tasks.lines)]


# What a task's lines may hold: valid YAML, some of it read by the line reader and some
# handed to PyYAML (escapes, block scalars, values over lines, anchors, tabs); and, at
# most one per file, something odd: a YAML error, a key YAML reads as another type, a
# character YAML refuses or counts as a line break, more of the document after the tasks.
# (In a value over lines, @@ stands for the indentation of its task's keys.)
KEYS = ["id", "title", "lead", "deadline", "target", "note", "x1", "tên_việc"]
ODD_KEYS = ["yes", "No", "null", "on", "1", "1.5", "a b", "x:y", '"q"', "'q'", "<<", "- k", "? k", "k ", "&a k", "*a"]
VALUES = ["Sửa đổi bộ phận, một cửa", "Task 1", "Tổ chức", "12", "-3", "+4", "0x1F", "0o17", "1_000", "1.5", ".inf",
          "1:20", "~", "null", "Null", "yes", "No", "on", "2014-01-01", "v[1]", "a{b}", "a,b", "ISO#1", "50%", "a-b",
          "?x", ":x", "a#b", "a #comment", "trailing  ", "tab\there", "x\\y", "",
          '"quoted"', '""', '"a: b"', '"a # b"', '"tab\\there"', '"\\u00e0"', "'single'", "'it''s'", "''", "'a: b'",
          "[a, b]", "[]", "{}", "[ a ,b ]", "[a, ]", "{quarter: IV, year: 2013}", "{quarter: IV,year: 2013}",
          "[{label: x, year: 2014}, {label: y, year: 2015}]", "{a: [x, y], b: {c: 1}}", "{a: b c}", "[a b]", "[a: b]",
          "{a}", "{a: }", "[yes, null, 1.5, 0x1F]", "&x v", "&y {k: 1}", "!!str 5", "!!int '7'",
          "|\n@@  block\n@@  text", ">-\n@@  folded\n\n@@  more", "plain\n@@  continued",
          '"over\n@@  lines"', "[a,\n@@  b]", "\n@@  - item\n@@  - {k: v}", "\n@@- same indent",
          "\n@@  sub: v\n@@  sub2: [a]", "\n@@  - k: v\n@@    k2: w\n@@  - x", "\n@@  -\n@@    k: v",
          "\n@@  # only a comment", "\n@@  - - nested"]
ONE_LINE = VALUES.index("|\n@@  block\n@@  text")  # the values before it sit on their key's line
ODD_VALUES = ["a: b", "ends:", "*x", "*nowhere", "{a: 1, a: 2}", "[a]x", "[a", "{a: b}: c", '"unclosed', "@x", "`x",
              "%x", "- x", "-", "=", "<<", "|\nno indent", "\u2028x", "x\u2029y", "\x85x", "\ufeffx", "\x01x", "\x7fx",
              "x\ry", "\ue000x", "\n@@    deeper: 1\n@@  shallower: 2"]
BETWEEN = ["", "\n", "    # comment\n", "# comment at column 0\n", "  # comment\n"]
ODD_BETWEEN = ["\t\n", "    \n", "  - \n", "  -\n", "x\n", "# \x01\n", "...\n"]
TAILS = ["", "\n", "# the end\n"]
ODD_TAILS = ["extra: 1\n", "...\n", "---\nx: 1\n", "format: again\n", "  - late\n", "\t# tab\n", "# \x01\n"]


@st.composite
def task_lists(draw):
    column = draw(st.sampled_from([0, 2, 4]))
    odd = draw(st.sampled_from(["none", "none", "key", "value", "between", "tail"]))
    tasks = []
    for _task in range(draw(st.integers(1, 4))):
        keys = draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=6, unique=True))
        values = [draw(st.sampled_from(VALUES[:ONE_LINE] if draw(st.booleans()) else VALUES)) for _key in keys]
        entries = [f"{key}:{draw(st.sampled_from([' ', ' ', '  ']))}{value}" if not value.startswith("\n")
                   else f"{key}:{value}" for key, value in zip(keys, values)]
        tasks.append((entries, draw(st.sampled_from(["- ", "- ", "-   "])), draw(st.sampled_from(BETWEEN))))
    at = draw(st.integers(0, len(tasks) - 1))
    entries = tasks[at][0]
    if odd == "key":
        entries.insert(draw(st.integers(0, len(entries))), draw(st.sampled_from(ODD_KEYS)) + ": v")
    elif odd == "value":
        entries.insert(draw(st.integers(0, len(entries))), "note: " + draw(st.sampled_from(ODD_VALUES)))
    elif odd == "between":
        tasks[at] = (entries, tasks[at][1], draw(st.sampled_from(ODD_BETWEEN)))
    text = HEAD
    for entries, dash, between in tasks:
        inside = " " * (column + len(dash))
        text += " " * column + dash + ("\n" + inside).join(entry.replace("@@", inside) for entry in entries)
        text += "\n" + between.replace("  #", " " * column + "#").replace("  -", " " * column + "-")
    text += draw(st.sampled_from(ODD_TAILS if odd == "tail" else TAILS))
    if draw(st.integers(0, 9)) == 0:
        text = text.replace("\n", "\r\n")
    return text


@settings(max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", 300)), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=task_lists())
def test_tasks_read_from_lines_are_what_libyaml_and_pyyaml_read(text, tmp_path, monkeypatch):
    path = tmp_path / "tasks.yaml"
    path.write_bytes(text.encode("utf-8"))
    from_lines = streamed(path, monkeypatch, lines=True)
    assert from_lines == streamed(path, monkeypatch, lines=False)
    if isinstance(from_lines, tuple):
        assert from_lines[0] == pyyaml_tasks(text)


def test_a_generated_plan_is_read_from_its_lines_alone(tmp_path, monkeypatch):
    """The plans civreform's benchmarks write (as civreform writes plans) never need
    libyaml's events or PyYAML, and read as they would."""
    from benchmarks.generate import write_plan

    path = write_plan(tmp_path / "big.yaml", "gen-400", 400, seed=5)
    by_events = streamed(path, monkeypatch, lines=False)

    def refuse(*_args):
        raise AssertionError("a task was not read from its lines")

    monkeypatch.setattr(PlainTaskReader, "_read_by_pyyaml", refuse)
    monkeypatch.setattr(_YamlTaskReader, "__call__", refuse)
    from_lines = streamed(path, monkeypatch, lines=True)
    assert from_lines == by_events and len(from_lines[0]) == 400


def test_the_bundled_plan_reads_the_same_from_lines(monkeypatch):
    from_lines = streamed(PLAN, monkeypatch, lines=True)
    assert len(from_lines[0]) == 26
    assert from_lines == streamed(PLAN, monkeypatch, lines=False)


def outcome(path, stream: bool):
    try:
        return [(task.id, task.line, task.milestones) for task in read_plan_file(path, stream=stream).tasks]
    except PlanFileError as error:
        return "error on line", error.line  # (PyYAML and libyaml word some errors differently)


@pytest.mark.parametrize("change", [
    lambda text: text + "extra: 1\n",  # keys after the tasks: libyaml reads them
    lambda text: text.replace("deadline: {quarter: IV, year: 2013}", "deadline: &q {quarter: IV, year: 2013}", 1)
    .replace("deadline: {quarter: III, year: 2013}", "deadline: *q", 1),  # an alias of another task's anchor
    lambda text: text.replace("\n", "\r\n"),
    lambda text: text.replace("plan:\n", "plan:\r\r\n", 1),  # a line break Python's readline does not see
    lambda text: text.replace("    title_en:", "    title_en: x\u2028y", 1),  # a line break only YAML counts
    lambda text: text.replace("    title_en:", "    title_en: \x01", 1),  # a character YAML refuses
], ids=["keys after", "alias", "CRLF", "CR CRLF", "U+2028", "control character"])
def test_where_the_line_reader_hands_over_the_tasks_are_still_the_same(tmp_path, monkeypatch, change):
    path = tmp_path / "changed.yaml"
    path.write_bytes(change(PLAN.read_text(encoding="utf-8")).encode("utf-8"))
    assert streamed(path, monkeypatch, lines=True) == streamed(path, monkeypatch, lines=False)
    monkeypatch.setattr(civreform.plan, "READ_TASK_LINES", True)
    whole = outcome(path, stream=False)
    monkeypatch.setattr(civreform.plan, "STREAM_FROM_BYTES", 0)
    assert outcome(path, stream=True) == whole


# ── Validated tasks: the flat tasks the validator takes from what it knows ────
# (plan._Validator._known_task: codes and deadlines by their text, once one task with
# that text validated) are the tasks, and the errors, that every field checked gives.

PLAN_HEAD = ("format: civreform-plan/1\nplan:\n  id: p\n  number: 1/KH\n  issued: 2013-08-14\n  title: t\n"
             "  period:\n    start: 2013-09-01\n    end: 2015-12-31\n"
             "agencies:\n  - code: a\n    name: A\n  - code: b\n    name: B\n"
             "  - code: g\n    name: G\n    kind: group\n    members: [a, b]\ntasks:\n")
TASK_VALUES = {
    "id": ['"{n}"', "{n}", "t{n}", '"  {n} "', '"1"', "0x1F", "yes", '""', "1.5", "~", '"a b"', "[x]"],
    "title": ["Task {n}", '" Tiêu đề {n}  "', '"  spaced  "', "12", "no", '""', "~", "[a]"],
    "content": ["Nội dung {n}", '"  Content "', '"  c  "', "7", '""', "~", "{a: b}", "off"],
    "lead": ["[a]", "[a]", "[a, b]", "[g]", "[b]", "[]", "[zz]", "[a, a]", "a", "[1]", "{x: 1}", "[yes]", "~"],
    "support": ["[b]", "[]", "[a, zz]", "~", "b", "[g, a]"],
    "time_text": ['"Quý IV năm 2013"', '"  Quý IV hàng năm "', "Thường xuyên", '"Quý IX"', "2014", '""', "~",
                  '"  Quý I năm 2014 "'],
    "deadline": ["{quarter: IV, year: 2013}", "{quarter: IV, year: 2013}", "{quarter: IV, every: year}", "ongoing",
                 "{quarter: V, year: 2013}", "[{label: p, quarter: I, year: 2014}, {label: q, quarter: I, year: 2015}]",
                 "[{label: p, quarter: I, year: 2014}, {label: p, quarter: II, year: 2014}]", "{quarter: I, year: 1800}",
                 "~", "soon", "5", "{month: 13, year: 2014}", "{date: 2014-03-31}", "{day: 30, month: 11, every: year}",
                 "{quarter: I, year: 2030}", "[]"],
    "note": ["n", '"quoted note"', "3"],
    "section": ["II", '"I.1"'],
    "target": ["{count: 3}", "5"],
    "colour": ["red"],
}
COMMON_KEYS = ["id", "title", "content", "lead", "support", "time_text", "deadline"]


@st.composite
def plans_of_flat_tasks(draw):
    """Plans whose tasks are flat and repeat a few codes and deadlines (so most are
    taken from what is known), with in some tasks one wrong or unusual value, a field
    left out or one more field."""
    text = PLAN_HEAD
    for n in range(1, draw(st.integers(1, 12)) + 1):
        fields = {key: draw(st.sampled_from(TASK_VALUES[key][:2])) for key in COMMON_KEYS}
        if draw(st.booleans()):
            del fields["deadline"]  # read from the time_text
        change = draw(st.sampled_from(["none", "none", "none", "value", "value", "leave out", "add"]))
        if change == "value":
            key = draw(st.sampled_from(COMMON_KEYS))
            fields[key] = draw(st.sampled_from(TASK_VALUES[key]))
        elif change == "leave out":
            fields.pop(draw(st.sampled_from(COMMON_KEYS)), None)
        elif change == "add":
            key = draw(st.sampled_from(["note", "section", "target", "colour"]))
            fields[key] = draw(st.sampled_from(TASK_VALUES[key]))
        keys = draw(st.permutations(list(fields))) if draw(st.integers(0, 4)) == 0 else list(fields)
        lines = [f"{key}: {fields[key]}".replace("{n}", str(n)) for key in keys]
        text += "  - " + "\n    ".join(lines) + "\n"
    return text


def validated(path, *, stream: bool, lines: bool, monkeypatch):
    """Every task as validated (all its fields), or the error with its line."""
    monkeypatch.setattr(civreform.plan, "READ_TASK_LINES", lines)
    monkeypatch.setattr(civreform.plan, "STREAM_FROM_BYTES", 0 if stream else 1 << 40)
    try:
        return [vars(task) for task in read_plan_file(path, stream=stream).tasks]
    except PlanFileError as error:
        return str(error)


@settings(max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", 300)), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=plans_of_flat_tasks())
@example(text=PLAN_HEAD + "".join(  # the second task is taken from what is known; the third repeats its id
    f"  - {first}\n    content: c\n    lead: [a]\n    deadline: ongoing\n{last}"
    for first, last in [("id: w", ""), ("title: t", "    id: x\n"), ("id: x", "")]))
def test_known_flat_tasks_validate_as_every_field_checked(text, tmp_path, monkeypatch):
    path = tmp_path / "plan.yaml"
    path.write_bytes(text.encode("utf-8"))
    from_lines = validated(path, stream=True, lines=True, monkeypatch=monkeypatch)
    assert from_lines == validated(path, stream=True, lines=False, monkeypatch=monkeypatch)
    assert from_lines == validated(path, stream=False, lines=True, monkeypatch=monkeypatch)


def test_most_tasks_of_a_generated_plan_are_taken_from_what_is_known(tmp_path, monkeypatch):
    """The lane is used (the property test above would pass without it): of 2,000
    generated tasks only those with codes or a deadline not met before get every field
    checked, and the tasks are the same as when every task is."""
    from benchmarks.generate import write_plan

    path = write_plan(tmp_path / "big.yaml", "gen-2000", 2000, seed=11)
    checked = []
    every_field = civreform.plan._Validator._task

    def counted(self, *args):
        checked.append(args[1])
        return every_field(self, *args)

    monkeypatch.setattr(civreform.plan._Validator, "_task", counted)
    known_lane = validated(path, stream=True, lines=True, monkeypatch=monkeypatch)
    lane_checked = len(checked)
    assert validated(path, stream=True, lines=False, monkeypatch=monkeypatch) == known_lane
    assert len(known_lane) == 2000 and len(checked) - lane_checked == 2000
    assert 0 < lane_checked < 200
