"""Plan files made to exhaust memory or time: each is refused fast, in one line, writing nothing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from civreform.plan_source import MAX_FILE_BYTES
from civreform.validate import MAX_GROUP_LEVELS, MAX_MILESTONES, MAX_TASKS, MAX_TEXT_CHARS
from tests.conftest import PLAN, run_module
from tests.test_plan_validation import snapshot

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
ORIGINAL = PLAN.read_text(encoding="utf-8")
HEAD = ORIGINAL[:ORIGINAL.index("\ntasks:\n") + len("\ntasks:\n")]  # format, plan and agencies


def refused(cli, db_path, path: Path, problem: str, line: int | None) -> None:
    """`load path` exits 3 within seconds with one line naming the file (and line), and writes nothing."""
    cli("load")
    before = snapshot(db_path)
    started = time.monotonic()
    result = cli("load", path, expect=3)
    assert time.monotonic() - started < 5
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    where = f"{path}:{line}: " if line is not None else f"{path}: "
    assert result.stderr.startswith(f"civreform: {where}") and problem in result.stderr, result.stderr
    assert snapshot(db_path) == before


@pytest.mark.parametrize("name, line, problem", [
    ("alias_bomb.yaml", 5, "an alias here stands for 1,111 values; an alias may stand for at most 1,000"),
    ("alias_nesting.yaml", 20, "nested more than 20 levels deep (aliases expanded)"),
    ("deep_nesting.yaml", 2, "nested more than 20 levels deep"),
    ("deep_nesting.json", 1, "nested more than 20 levels deep"),
    ("recursive_alias.yaml", 1, "recursive"),
    ("long_number.yaml", 2, "a number too long to read"),
    ("ordered_map_tag.yaml", 1, "the YAML tag !!omap has no use in a plan file"),
    ("two_documents.yaml", 2, "a plan file holds one YAML document"),
])
def test_a_hostile_fixture_is_refused(cli, db_path, name, line, problem):
    refused(cli, db_path, HOSTILE / name, problem, line)


def test_the_alias_bomb_is_the_small_file_it_claims(cli):
    assert (HOSTILE / "alias_bomb.yaml").stat().st_size < 1000  # nine levels of ten: a billion "lol"s


def test_many_aliases_to_a_large_collection_are_refused(cli, db_path, tmp_path):
    """Each alias within its bound, but together far more than the file holds."""
    path = tmp_path / "aliases.yaml"
    path.write_text("big: &big [" + ", ".join(["x"] * 999) + "]\n"
                    + "".join(f"copy{i}: *big\n" for i in range(300)), encoding="utf-8")
    refused(cli, db_path, path, "the plan holds more than 250,000 values", 251)  # the 250th copy


def test_a_file_over_the_size_cap_is_refused_before_it_is_parsed(cli, db_path, tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text(HEAD + "  # padding\n" * (MAX_FILE_BYTES // 12), encoding="utf-8")
    refused(cli, db_path, path, f"larger than {MAX_FILE_BYTES // 1_000_000} MB", None)


def test_load_dev_zero_fails_fast():
    zero = Path("/dev/zero")
    if not zero.exists():
        pytest.skip("no /dev/zero here")
    started = time.monotonic()
    done = run_module("load", str(zero))
    assert time.monotonic() - started < 5
    assert done.returncode == 3 and done.stdout == ""
    assert done.stderr == f"civreform: /dev/zero: larger than {MAX_FILE_BYTES // 1_000_000} MB; a plan file is " \
                          f"far smaller (split the plan, or check that this is the right file)\n"


def _tasks(count: int, content: str = "Rà soát thủ tục hành chính") -> str:
    return "".join(f'  - id: "{n}"\n    content: {content}\n    lead: [snv]\n    deadline: ongoing\n'
                   for n in range(1, count + 1))


def test_too_many_tasks(cli, db_path, tmp_path):
    path = tmp_path / "many.yaml"
    path.write_text(HEAD + _tasks(MAX_TASKS + 1), encoding="utf-8")
    line = HEAD.count("\n")
    refused(cli, db_path, path, f"{MAX_TASKS + 1:,} tasks; a plan file holds at most {MAX_TASKS:,}", line)


def test_a_task_content_too_long(cli, db_path, tmp_path):
    path = tmp_path / "long.yaml"
    path.write_text(HEAD + _tasks(1, "dài " * (MAX_TEXT_CHARS // 4 + 1)), encoding="utf-8")
    line = HEAD.count("\n") + 2
    refused(cli, db_path, path, f"task 1: content is {MAX_TEXT_CHARS + 3:,} characters long; a text holds at most "
                                f"{MAX_TEXT_CHARS:,}", line)


def test_deadlines_that_come_to_too_many_milestones(cli, db_path, tmp_path):
    """A yearly deadline over a period of three centuries, in every task."""
    head = HEAD.replace("start: 2013-09-01", "start: 1900-01-01").replace("end: 2015-12-31", "end: 2200-12-31")
    assert head != HEAD
    path = tmp_path / "centuries.yaml"
    path.write_text(head + _tasks(400).replace("deadline: ongoing", "deadline: {quarter: IV, every: year}"),
                    encoding="utf-8")
    task = MAX_MILESTONES // 301 + 1  # the first task past the limit
    line = head.count("\n") + 4 * task
    refused(cli, db_path, path, f"task {task}: the plan's deadlines come to more than {MAX_MILESTONES:,} milestones",
            line)


def _groups(members_of) -> str:
    """A plan whose agencies are groups laid out by members_of(index) -> member indexes."""
    lines = ["format: civreform-plan/1", "plan: {id: g, number: 1/KH, issued: 2013-08-14, title: t}",
             "agencies:", "  - {code: leaf, name: Leaf}"]
    for index, members in enumerate(members_of):
        listed = ", ".join(f"g{m}" if m is not None else "leaf" for m in members)
        lines.append(f"  - {{code: g{index}, name: G{index}, kind: group, members: [{listed}]}}")
    lines += ["tasks:", '  - {id: "1", content: c, lead: [g0], deadline: ongoing}']
    return "\n".join(lines) + "\n"


def test_groups_nested_too_deep(cli, db_path, tmp_path):
    levels = MAX_GROUP_LEVELS + 1
    path = tmp_path / "chain.yaml"
    path.write_text(_groups([[i + 1] if i + 1 < levels else [None] for i in range(levels)]), encoding="utf-8")
    refused(cli, db_path, path, f"groups within groups nest more than {MAX_GROUP_LEVELS} levels", 5)


def test_groups_reaching_too_many_members_through_each_other(cli, db_path, tmp_path):
    """Four layers of 25 groups, each with every group of the next layer: 25**4 paths."""
    width, layers = 25, 4
    members = [[(layer + 1) * width + j for j in range(width)] if layer + 1 < layers else [None]
               for layer in range(layers) for _ in range(width)]
    path = tmp_path / "fan.yaml"
    path.write_text(_groups(members), encoding="utf-8")
    refused(cli, db_path, path, "its members, through groups within groups, come to more than 10,000", 5)
