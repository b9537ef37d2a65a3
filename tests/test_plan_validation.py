"""Bad plan files: one clear error with file and line; the database untouched."""

from __future__ import annotations

import sqlite3

import pytest

from civreform.errors import PlanFileError
from civreform.plan import read_plan_file
from tests.conftest import PLAN, copy_plan


def snapshot(db_path) -> list[str]:
    """The database's whole content, as SQL (independent of WAL checkpoints)."""
    conn = sqlite3.connect(db_path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()  # iterdump is a generator: read it all before closing


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    return text[:index].count("\n") + 1


ORIGINAL = PLAN.read_text(encoding="utf-8")

CASES = {
    "impossible date": (
        lambda t: t.replace("deadline: {date: 2013-09-30}", "deadline: {date: 2013-09-31}"),
        "deadline: {date: 2013-09-31}", "2013-09-31", "September 2013 has 30 days"),
    "quarter V": (
        lambda t: t.replace("deadline: {quarter: III, year: 2013}", "deadline: {quarter: V, year: 2013}"),
        "deadline: {quarter: V, year: 2013}", "quarter V", "does not exist"),
    "unknown agency code": (
        lambda t: t.replace("lead: [syt]", "lead: [sở-y-tế]"),
        "lead: [sở-y-tế]", "unknown agency code", "sở-y-tế"),
    "duplicate task id": (
        lambda t: t.replace('- id: "22"', '- id: "21"'),
        ('- id: "21"', 2), "duplicate task id", "'21'"),
    "duplicate agency code": (
        lambda t: t.replace("code: syt", "code: stc"),
        ("code: stc", 2), "duplicate agency code", "stc"),
    "missing field": (
        lambda t: t.replace("    content: Khảo sát đánh giá sự hài lòng của người dân đối với dịch vụ y tế công và dịch vụ giáo dục công\n", ""),
        '- id: "12"', "task 12 is missing the field 'content'", ""),
    "unknown field": (
        lambda t: t.replace("    time_text: Quý II năm 2014\n    deadline: {quarter: II, year: 2014}\n",
                            "    time_text: Quý II năm 2014\n    deadlne: {quarter: II, year: 2014}\n", 1),
        "deadlne:", "unknown field 'deadlne'", ""),
    "NUL in text": (  # SQLite's printf, which writes overdue CSV, would end the title there
        lambda t: t.replace("title_en: Scheme on organisation and staff quality to 2015",
                            'title_en: "Scheme\\0 on organisation"'),
        "title_en: \"Scheme", "task 2: title_en contains a NUL character", ""),
    "control character": (  # YAML refuses it anywhere in the file: its line, not a byte offset
        lambda t: t.replace("title_en: Scheme on organisation and staff quality to 2015",
                            "title_en: Scheme\x01 on organisation"),
        "title_en: Scheme\x01", "YAML does not allow the character U+0001", ""),
    "YAML syntax error": (
        lambda t: t.replace("  - id: \"5\"\n", "  - id: \"5\n", 1),
        '- id: "5', "YAML syntax error", ""),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_plan_file_names_file_line_and_problem(tmp_path, case):
    edit, marker, *expected = CASES[case]
    path = copy_plan(tmp_path, edit)
    text = path.read_text(encoding="utf-8")
    with pytest.raises(PlanFileError) as caught:
        read_plan_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:"), message
    for fragment in expected:
        assert fragment in message, message
    needle, occurrence = marker if isinstance(marker, tuple) else (marker, 1)
    if case != "YAML syntax error":
        assert caught.value.line == line_of(text, needle, occurrence), message
    else:
        # The scanner stops where the damage shows; the message names where it began.
        assert caught.value.line is not None
        assert f"starts on line {line_of(text, needle)}" in message


@pytest.mark.parametrize("case", ["impossible date", "quarter V", "unknown agency code", "YAML syntax error"])
def test_cli_refuses_bad_plan_and_leaves_the_database_untouched(cli, tmp_path, db_path, case):
    cli("load")
    before = snapshot(db_path)
    edit, marker, *_ = CASES[case]
    path = copy_plan(tmp_path, edit)
    result = cli("load", path, expect=3)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"civreform: {path}:")
    assert "Traceback" not in result.stderr
    assert snapshot(db_path) == before


def test_a_refused_plan_does_not_create_a_database(cli, tmp_path, db_path):
    path = copy_plan(tmp_path, CASES["impossible date"][0])
    result = cli("load", path, expect=3)
    assert "2013-09-31" in result.stderr and f":{line_of(path.read_text(encoding='utf-8'), 'date: 2013-09-31')}:" in result.stderr
    assert not db_path.exists()


@pytest.mark.parametrize("content, problem", [
    ("", "the file is empty"),
    ("- just\n- a list\n", "must be a mapping"),
    ("plan: {}\nagencies: []\ntasks: []\n", "missing the field"),
    ("\x00\x01binary", "YAML"),
])
def test_not_a_plan_at_all(tmp_path, content, problem):
    path = tmp_path / "x.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PlanFileError, match=problem):
        read_plan_file(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(PlanFileError, match="no such file"):
        read_plan_file(tmp_path / "nope.yaml")
    with pytest.raises(PlanFileError, match="directory"):
        read_plan_file(tmp_path)


def test_a_plan_may_give_only_the_time_text(tmp_path):
    path = copy_plan(tmp_path, lambda t: t.replace("    deadline: {quarter: II, year: 2014}\n", "", 1))
    plan = read_plan_file(path)
    task = next(t for t in plan.tasks if t.id == "12")
    assert [str(m.due) for m in task.milestones] == ["2014-06-30"]


def test_an_unreadable_time_text_without_deadline_is_refused(tmp_path):
    path = copy_plan(tmp_path, lambda t: t.replace(
        "    time_text: Quý II năm 2014\n    deadline: {quarter: II, year: 2014}\n",
        "    time_text: khi có điều kiện\n", 1))
    with pytest.raises(PlanFileError, match='cannot read "khi có điều kiện" in the deadline "khi có điều kiện"; write a deadline: rule'):
        read_plan_file(path)


def _as_json(tmp_path, edit=None):
    """The bundled plan written as JSON (the same structure), optionally edited."""
    import json

    import yaml

    data = yaml.load(PLAN.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)  # every scalar a string
    for task in data["tasks"]:
        for rule in ([task["deadline"]] if isinstance(task.get("deadline"), dict) else task.get("deadline") or []):
            if isinstance(rule, dict):
                for key in ("year", "day", "month", "half"):
                    if key in rule:
                        rule[key] = int(rule[key])
        if "target" in task:
            task["target"]["percent"] = int(task["target"]["percent"])
            task["target"]["year"] = int(task["target"]["year"])
    if edit is not None:
        edit(data)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def test_a_json_plan_reads_the_same_as_the_yaml(tmp_path):
    from_yaml, from_json = read_plan_file(PLAN), read_plan_file(_as_json(tmp_path))
    assert [(t.id, t.content, t.lead, t.support, t.milestones) for t in from_json.tasks] == \
        [(t.id, t.content, t.lead, t.support, t.milestones) for t in from_yaml.tasks]
    assert [(a.code, a.members) for a in from_json.agencies] == [(a.code, a.members) for a in from_yaml.agencies]


def test_a_bad_json_plan_still_names_its_line(tmp_path):
    def impossible(data):
        next(t for t in data["tasks"] if t["id"] == "IV.2-plan")["deadline"] = {"date": "2013-09-31"}

    path = _as_json(tmp_path, impossible)
    with pytest.raises(PlanFileError) as caught:
        read_plan_file(path)
    text = path.read_text(encoding="utf-8")
    assert caught.value.line == line_of(text, '"date": "2013-09-31"')
    assert "September 2013 has 30 days" in str(caught.value)


# ── JSON plans, and what a whole-file reading checks last ───────────────────

def test_a_json_plan_stores_what_the_yaml_plan_stores(cli, db_path, tmp_path):
    cli("load")
    from_yaml = snapshot(db_path)
    out = cli("load", str(_as_json(tmp_path))).stdout
    assert "26 tasks, 34 milestones" in out
    # loaded_at and source differ; the search index's own pages hold the same words in its own layout
    ignore = ("INSERT INTO \"plans\"", "INSERT INTO \"search_index_")
    assert [s for s in snapshot(db_path) if not s.startswith(ignore)] == [s for s in from_yaml if not s.startswith(ignore)]


def test_a_generated_plan_loads_and_checks_clean(cli, tmp_path):
    from benchmarks.generate import write_plan

    path = write_plan(tmp_path / "big.json", "gen-50", 50, seed=3)
    cli("load")
    assert "50 tasks" in cli("load", str(path)).stdout
    checked = cli("check").stdout
    assert "orphaned progress events: 0" in checked and "search index: agrees" in checked
    assert len(cli.json("--plan", "gen-50", "tasks")) == 50


@pytest.mark.parametrize("edit, problem", [
    (lambda d: d["tasks"][20].update(lead=["sở-y-tế"]), "unknown agency code 'sở-y-tế'"),
    (lambda d: d["tasks"][25].update(id="1"), "duplicate task id '1'"),
    (lambda d: d.update(format=d.pop("format") and "civreform-plan/9"), "unknown format"),
    (lambda d: d.update(extra=1), "unknown field 'extra'"),
    (lambda d: d.update(extra=12345678901234567890), "unknown field 'extra'"),
])
def test_a_bad_task_late_in_a_json_plan_writes_nothing(cli, db_path, tmp_path, edit, problem):
    cli("load")
    before = snapshot(db_path)
    path = _as_json(tmp_path, edit)
    result = cli("load", str(path), expect=3)
    assert problem in result.stderr and str(path) in result.stderr
    assert result.stderr.count("\n") == 1
    assert snapshot(db_path) == before


def test_a_json_error_in_a_task_names_the_line_of_the_value(cli, tmp_path):
    def bad(data):
        data["tasks"][20]["lead"] = ["sở-y-tế"]

    path = _as_json(tmp_path, bad)
    line = line_of(path.read_text(encoding="utf-8"), '"sở-y-tế"')
    result = cli("load", str(path), expect=3)
    assert f"{path}:{line}: task " in result.stderr and "unknown agency code 'sở-y-tế'" in result.stderr


def test_a_json_error_before_the_tasks_names_its_exact_line(cli, tmp_path):
    def bad(data):
        data["agencies"][3]["kind"] = "ministry"

    path = _as_json(tmp_path, bad)
    text = path.read_text(encoding="utf-8")
    result = cli("load", str(path), expect=3)
    line = line_of(text, '"kind": "ministry"')
    assert f"{path}:{line}:" in result.stderr
    assert "unknown kind 'ministry'" in result.stderr


def test_json_syntax_errors_name_their_line(cli, db_path, tmp_path):
    cli("load")
    before = snapshot(db_path)
    good = _as_json(tmp_path).read_text(encoding="utf-8")
    for name, broken, line in [
        ("missing comma", good.replace('},\n    {\n      "id": "5"', '}\n    {\n      "id": "5"', 1),
         line_of(good, '"id": "5"') - 1),
        ("truncated", good[: len(good) // 2], good[: len(good) // 2].count("\n") + 1),
        ("text after the end", good + "\n{}", good.count("\n") + 2),
    ]:
        path = tmp_path / f"{name}.json"
        path.write_text(broken, encoding="utf-8")
        result = cli("load", str(path), expect=3)
        assert result.stderr.startswith(f"civreform: {path}:{line}: JSON syntax error"), (name, result.stderr)
        assert snapshot(db_path) == before, name


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_a_byte_that_is_not_utf8_late_in_a_plan_is_named_and_stores_nothing(cli, db_path, tmp_path, suffix):
    cli("load")
    before = snapshot(db_path)
    data = _as_json(tmp_path).read_bytes() if suffix == ".json" else PLAN.read_bytes()
    at = data.rindex("Sở".encode("utf-8"))  # a Vietnamese word near the end
    path = tmp_path / f"latin1{suffix}"
    path.write_bytes(data[:at] + b"S\xf6" + data[at + len("Sở".encode("utf-8")):])
    result = cli("load", str(path), expect=3)
    assert result.stderr == f"civreform: {path}: not UTF-8 text (byte {at + 1})\n"
    assert snapshot(db_path) == before


def test_a_json_plan_may_put_its_keys_in_any_order(tmp_path):
    import json

    path = _as_json(tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({"tasks": data["tasks"], "plan": data["plan"], "agencies": data["agencies"]},
                               ensure_ascii=False), encoding="utf-8")
    assert len(read_plan_file(path).tasks) == 26


@pytest.mark.parametrize("edit, needle, problem", [
    (lambda t: t.replace("format: civreform-plan/1\n", "") + "format: civreform-plan/9\n",
     "format: civreform-plan/9", "unknown format"),
    (lambda t: t + "tasks: []\n", "tasks: []", "appears twice"),
    (lambda t: t + "---\nplan: {}\n", "---", "one YAML document"),
])
def test_a_bad_key_after_the_tasks_names_the_exact_line_and_writes_nothing(cli, db_path, tmp_path,
                                                                           edit, needle, problem):
    cli("load")
    before = snapshot(db_path)
    path = copy_plan(tmp_path, edit)
    result = cli("load", str(path), expect=3)
    line = line_of(path.read_text(encoding="utf-8"), needle)
    assert f"{path}:{line}: " in result.stderr and problem in result.stderr, result.stderr
    assert snapshot(db_path) == before


def test_a_yaml_plan_reads_every_kind_of_scalar_and_node_as_pyyaml_does(tmp_path):
    def after_task(text: str, task: str, lines: str) -> str:
        start = text.index(f'  - id: "{task}"\n')
        end = text.index("\n\n", start)
        return text[:end] + "\n" + lines + text[end:]

    text = PLAN.read_text(encoding="utf-8")
    text = after_task(text, "2", "    target: {count: 12, ratio: 0.5, share: .5, done: yes, off: Off, none: ~,\n"
                                 "             empty: , quoted: \"12\", single: '007', hex: 0x1F, sexagesimal: 1:20,\n"
                                 "             octal: 0o17, day: 2014-01-01, null_word: null, inf: .inf, neg: -3}")
    text = after_task(text, "3", "    target: &shared {unit: staff, count: 40}")
    text = after_task(text, "4", "    target: *shared")
    text = after_task(text, "5", "    target: {<<: {unit: staff}, count: 2}")
    text = after_task(text, "6", "    target: {tagged: !!str 2014, listed: !!seq [a, b]}")
    text = after_task(text, "7", "    note: >\n      folded\n      text\n    target:\n      steps:\n        - block\n"
                                 "        - {flow: [1, 2]}")
    text = after_task(text, "9", "    target: {tagged: !!str 2014, anchored: &five 5}")
    text = after_task(text, "10", "    target: {again: *five}")
    text = text.replace('  - id: "8"\n', "  - id: 8\n", 1)  # an id written as a number
    path = tmp_path / "kinds.yaml"
    path.write_text(text, encoding="utf-8")
    by_id = {task.id: task for task in read_plan_file(path).tasks}
    assert by_id["2"].target["done"] is True and by_id["2"].target["none"] is None
    assert by_id["2"].target["quoted"] == "12" and by_id["2"].target["day"] == "2014-01-01"
    assert by_id["4"].target == by_id["3"].target and by_id["5"].target == {"unit": "staff", "count": 2}
    assert by_id["6"].target == {"tagged": "2014", "listed": ["a", "b"]}
    assert by_id["7"].note == "folded text" and by_id["7"].target == {"steps": ["block", {"flow": [1, 2]}]}
    assert by_id["9"].target == {"tagged": "2014", "anchored": 5} and by_id["10"].target == {"again": 5}
    assert "8" in by_id


def test_a_duplicate_key_in_a_task_names_its_line(tmp_path):
    text = PLAN.read_text(encoding="utf-8").replace("    title_en: Scheme on organisation and staff quality to 2015\n",
                                                    "    title_en: Scheme on organisation and staff quality to 2015\n"
                                                    "    title_en: twice\n", 1)
    path = tmp_path / "twice.yaml"
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index("    title_en: twice") + 1
    with pytest.raises(PlanFileError) as caught:
        read_plan_file(path)
    assert str(caught.value) == f"{path}:{line}: the key 'title_en' appears twice"


def test_anchors_and_aliases_work_across_tasks(cli, tmp_path):
    assert ORIGINAL.index("deadline: {quarter: IV, year: 2013}") < ORIGINAL.index("deadline: {quarter: III, year: 2013}")
    text = ORIGINAL.replace("deadline: {quarter: IV, year: 2013}", "deadline: &q4 {quarter: IV, year: 2013}", 1)
    text = text.replace("deadline: {quarter: III, year: 2013}", "deadline: *q4", 1)
    path = tmp_path / "anchored.yaml"
    path.write_text(text, encoding="utf-8")
    aliased = next(t for t in read_plan_file(path).tasks if t.time_text.startswith("Quý III"))
    assert [str(m.due) for m in aliased.milestones] == ["2013-12-31"]
    assert "26 tasks" in cli("load", str(path)).stdout
