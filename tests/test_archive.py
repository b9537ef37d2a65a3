"""An archive of many plans: agencies found by code within one plan or across all of
them (one line per agency across plans), past SQLite's 500 terms of a VALUES list;
`load` of folders, failures per file, unchanged files skipped."""

from __future__ import annotations

import dataclasses
import json

import pytest

from civreform.db import open_database
from tests.conftest import run_module, sql_rows

PLANS = 600

TINY = """format: civreform-plan/1
plan:
  id: {plan_id}
  number: {plan_id}/KH-UBND
  issued: 2013-08-14
  title: Kế hoạch {plan_id}
agencies:
  - {{code: s03, name: Sở Nội vụ, kind: department}}
  - {{code: s04, name: Sở Tài chính, kind: department}}
  - {{code: d01, name: Huyện Một, kind: district}}
  - {{code: d02, name: Huyện Hai, kind: district}}
  - {{code: huyen, name: UBND cấp huyện, kind: group, members: [d01, d02]}}
tasks:
  - {{id: "1", title: Rà soát {plan_id}, content: Rà soát, lead: [s03], deadline: {{quarter: IV, year: 2013}}}}
  - {{id: "2", title: Đề án, content: Đề án, lead: [s04], support: [s03], deadline: {{quarter: IV, year: 2013}}}}
  - {{id: "3", title: Một cửa, content: Một cửa, lead: [huyen], deadline: {{half: 1, year: 2014}}}}
"""


def plan_id(number: int) -> str:
    return f"p{number:04d}"


@pytest.fixture(scope="module")
def archive_db(tmp_path_factory):
    """600 tiny plans sharing their agencies' codes: one file read, stored 600 times."""
    from civreform.loading import store_plan
    from civreform.plan import read_plan_file

    folder = tmp_path_factory.mktemp("archive")
    source = folder / "tiny.yaml"
    source.write_text(TINY.format(plan_id="p0000"), encoding="utf-8")
    plan = read_plan_file(source)
    db_path = folder / "archive.db"
    database = open_database(db_path)
    for number in range(PLANS):
        store_plan(database.conn, dataclasses.replace(plan, id=plan_id(number), number=f"{plan_id(number)}/KH"))
    database.close()
    return db_path


@pytest.fixture
def archive(archive_db, tmp_path, monkeypatch):
    """A copy of the archive for one test, which may record into it."""
    import shutil

    copy = tmp_path / "archive.db"
    shutil.copyfile(archive_db, copy)
    monkeypatch.setenv("CIVREFORM_DB", str(copy))
    return copy


def test_a_code_keeps_to_the_plan_asked_for(cli, archive):
    """`--agency s03 --plan p0050` is s03 of p0050 only: its code no longer escapes the plan."""
    rows = cli.json("--plan", "p0050", "tasks", "--agency", "s03", "--role", "any")
    assert [(r["plan"], r["task"]) for r in rows] == [("p0050", "1"), ("p0050", "2")]
    rows = cli.json("overdue", "--agency", "s03", "--plan", "p0050", "--as-of", "2014-01-01")
    assert [(r["plan"], r["task"]) for r in rows] == [("p0050", "1")]
    database = open_database(archive)
    from civreform import reports

    scope = reports.resolve_agency(database.conn, "s03", "p0050")
    assert sql_rows_of(database, f"SELECT * FROM {scope.self_table}") == [("p0050", "s03")]
    database.close()


def sql_rows_of(database, sql: str) -> list[tuple]:
    return database.conn.execute(sql).fetchall()


def test_an_agency_across_600_plans(cli, archive):
    """Without --plan an agency is its code and name in every plan: past the 500 terms a
    VALUES list allowed (`too many terms in compound SELECT`)."""
    assert len(cli.json("tasks", "--agency", "s03")) == PLANS
    assert len(cli.json("tasks", "--agency", "so noi vu", "--role", "any")) == 2 * PLANS
    overdue = cli.json("overdue", "--agency", "s03", "--as-of", "2014-01-01")
    assert len(overdue) == PLANS and {r["task"] for r in overdue} == {"1"}
    # a member of a leading group: its own share of task 3 in every plan
    members = cli.json("overdue", "--agency", "d01", "--as-of", "2014-07-01")
    assert len(members) == PLANS and {r["task"] for r in members} == {"3"}
    table = cli("overdue", "--agency", "s03", "--as-of", "2014-01-01")
    assert table.stdout.count("Rà soát p0") == PLANS


def test_record_and_import_by_agency_with_and_without_a_plan(cli, archive, tmp_path):
    out = cli("--plan", "p0050", "record", "1", "--agency", "s03", "--status", "done", "--on", "2013-12-01").stdout
    assert out.startswith("recorded event") and "standing now: done-on-time" in out
    refused = cli("record", "1", "--agency", "s03", "--status", "done", "--on", "2013-12-01", expect=None)
    assert refused.exit_code != 0 and "several plans" in refused.stderr
    sheet = tmp_path / "s03.csv"
    sheet.write_text("plan,task,milestone,agency,status,percent,date,note\n"
                     + "".join(f"{plan_id(n)},1,,s03,done,,2013-12-15,\n" for n in range(100, 110))
                     + "".join(f"{plan_id(n)},3,,d01,done,,2014-05-01,\n" for n in range(100, 110)),
                     encoding="utf-8")
    assert "imported 20 event(s)" in cli("import", sheet).stdout
    member_sheet = tmp_path / "d02.csv"
    member_sheet.write_text("task,agency,status,date\n3,d02,done,2014-05-02\n", encoding="utf-8")
    assert "imported 1 event(s)" in cli("--plan", "p0200", "import", member_sheet).stdout
    assert len(cli.json("overdue", "--agency", "s03", "--as-of", "2014-01-01")) == PLANS - 11
    assert len(cli.json("overdue", "--agency", "d01", "--as-of", "2014-07-01")) == PLANS - 10
    assert cli.json("overdue", "--agency", "d02", "--plan", "p0200", "--as-of", "2014-07-01") == []
    assert len(cli.json("history", "--agency", "huyen")) == 11  # the group's members' reports


def test_the_ranking_across_plans_has_one_line_per_agency(cli, archive):
    data = json.loads(cli("summary", "--as-of", "2014-07-01", "--format", "json").stdout)
    ranking = {row["agency"]: row for row in data["agencies_by_overdue"]}
    assert len(ranking) == len(data["agencies_by_overdue"]) == 4  # s03, s04, d01, d02
    assert ranking["s03"]["overdue"] == PLANS and ranking["s03"]["plans"] == PLANS
    assert ranking["d01"]["overdue"] == PLANS and ranking["d01"]["name"] == "Huyện Một"
    one = json.loads(cli("--plan", "p0007", "summary", "--as-of", "2014-07-01", "--format", "json").stdout)
    assert {row["agency"]: row["overdue"] for row in one["agencies_by_overdue"]} == {
        "s03": 1, "s04": 1, "d01": 1, "d02": 1}


# ── load PATH… ──────────────────────────────────────────────────────────────

def _folder(tmp_path, count: int = 3):
    folder = tmp_path / "plans"
    for number in range(count):
        sub = folder / f"batch{number % 2}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{plan_id(number)}.yaml").write_text(TINY.format(plan_id=plan_id(number)), encoding="utf-8")
    bad = folder / "batch1" / "broken.yml"
    bad.write_text(TINY.format(plan_id="p9999").replace("quarter: IV, year: 2013", "quarter: V, year: 2013", 1),
                   encoding="utf-8")
    (folder / "notes.txt").write_text("not a plan", encoding="utf-8")
    return folder, bad


def test_load_a_folder_names_each_failed_file_and_keeps_the_rest(tmp_path, db_path):
    folder, bad = _folder(tmp_path)
    done = run_module("load", str(folder))
    assert done.returncode == 3
    assert done.stderr.splitlines() == [  # the file and line of its task 1; no bar through a pipe
        f"civreform: {bad}:14: task 1: quarter V does not exist (quarters are I to IV)"]
    assert done.stdout.splitlines()[-1] == "3 plan(s) loaded or updated, 0 unchanged, 1 failed, of 4 file(s)"
    assert sql_rows(db_path, "SELECT plan_id FROM plans ORDER BY plan_id") == [("p0000",), ("p0001",), ("p0002",)]


def test_load_skips_unchanged_files_and_reloads_an_edited_one(cli, tmp_path, db_path):
    folder, bad = _folder(tmp_path)
    bad.unlink()
    assert cli("load", folder).stdout.splitlines()[-1].startswith("3 plan(s) loaded or updated, 0 unchanged")
    edited = folder / "batch1" / "p0001.yaml"
    edited.write_text(edited.read_text(encoding="utf-8").replace("Đề án", "Đề án mới"), encoding="utf-8")
    (folder / "batch0" / "p0003.json").write_text(json.dumps(
        {"format": "civreform-plan/1", "plan": {"id": "p0003", "number": "3/KH", "issued": "2014-01-02",
                                                "title": "JSON"},
         "agencies": [{"code": "s03", "name": "Sở Nội vụ", "kind": "department"}],
         "tasks": [{"id": "1", "title": "t", "content": "c", "lead": ["s03"], "deadline": "ongoing"}]}),
        encoding="utf-8")
    out = cli("load", folder, folder / "batch1" / "p0001.yaml").stdout.splitlines()
    assert out[-1] == "2 plan(s) loaded or updated, 2 unchanged, 0 failed, of 4 file(s)"
    assert sorted(line.split()[:3] for line in out[:-1]) == [["loaded", "plan", "p0003"], ["updated", "plan", "p0001"]]
    hashes = sql_rows(db_path, "SELECT count(DISTINCT content_hash) FROM plans WHERE content_hash <> ''")
    assert hashes == [(4,)]


def test_load_refuses_paths_that_hold_no_plans(cli, tmp_path, db_path):
    (tmp_path / "empty").mkdir()
    result = cli("load", tmp_path / "empty", tmp_path / "missing.yaml", expect=3)
    assert result.stderr.splitlines() == [
        f"civreform: {tmp_path / 'empty'}: no plan files (*.yaml, *.yml, *.json) in this folder",
        f"civreform: {tmp_path / 'missing.yaml'}: no such file or folder"]
    assert not db_path.exists()


def test_load_a_folder_on_a_terminal_shows_a_counting_bar(tmp_path):
    from tests.test_output import on_a_terminal

    folder, bad = _folder(tmp_path, count=40)
    bad.unlink()
    code, screen = on_a_terminal("load", str(folder), env={"CIVREFORM_DB": str(tmp_path / "tty.db")})
    assert code == 0 and "loading plans" in screen and "/40" in screen
    assert "40 plan(s) loaded or updated" in screen
