"""The agency register: the bundled file, its validation, membership and successors on a
day, and storing it (reloading keeps every event)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from conftest import ROOT, sql_rows
from civreform.errors import RegisterFileError
from civreform.register import (
    bundled_register_path, members_on, parse_register_text, plan_agencies, read_register_file, successor_chain,
)

REGISTER = ROOT / "data" / "agencies" / "nam_dinh.yaml"
THE_17 = ["snv", "stp", "skhdt", "stc", "sct", "snnptnt", "sgtvt", "sxd", "stnmt", "stttt", "sldtbxh", "svhttdl",
          "skhcn", "sgddt", "syt", "thanh-tra", "vp-ubnd"]
DISTRICTS = ["tp-nam-dinh", "my-loc", "vu-ban", "y-yen", "nam-truc", "truc-ninh", "xuan-truong", "giao-thuy",
             "hai-hau", "nghia-hung"]


@pytest.fixture(scope="module")
def nam_dinh():
    return read_register_file(REGISTER)


# ── 1. the bundled register ──────────────────────────────────────────────────

def test_the_bundled_register_loads_with_the_bodies_of_2013(nam_dinh):
    assert bundled_register_path() == REGISTER
    assert nam_dinh.province == "nam-dinh"
    in_2013 = members_on(nam_dinh, "sbn", date(2013, 8, 14))
    assert in_2013 == [*THE_17, "bql-kcn"]
    assert members_on(nam_dinh, "ubnd-huyen", date(2013, 8, 14)) == DISTRICTS
    assert all(nam_dinh.agency(code).kind == "district" for code in DISTRICTS[1:])
    assert nam_dinh.agency("tp-nam-dinh").kind == "city"


def test_the_register_knows_every_code_the_bundled_plan_uses(nam_dinh):
    from civreform.plan import bundled_plan_path, read_plan_file

    plan = read_plan_file(bundled_plan_path())
    assert plan_agencies(nam_dinh, [agency.code for agency in plan.agencies]) == []
    assert plan_agencies(nam_dinh, ["snv", "so-moi", "so-moi", "ubnd-huyen", "khac"]) == ["so-moi", "khac"]


def test_interpretation_is_marked_where_a_date_is_not_sourced(nam_dinh):
    for code in ("skhdt", "stttt", "snnptnt", "sgtvt", "stnmt", "sldtbxh", "snnmt", "ubnd-tinh"):
        assert nam_dinh.agency(code).note.startswith("Interpretation"), code
    assert "1104/NQ-UBTVQH15" in nam_dinh.agency("my-loc").basis


# ── 2. members and successors on a day ───────────────────────────────────────

def test_every_department_on_the_plans_first_review_includes_those_it_does_not_name(nam_dinh):
    members = members_on(nam_dinh, "sbn", date(2013, 12, 31))
    assert {"stp", "sgddt", "skhdt", "stc", "thanh-tra", "vp-ubnd"} <= set(members)
    assert len(members) == 18 and "dai-ptth" not in members and "ubnd-tinh" not in members


def test_merged_departments_leave_the_group_and_their_successors_stay(nam_dinh):
    spring_2025 = members_on(nam_dinh, "sbn", date(2025, 3, 1))
    assert "skhdt" not in spring_2025 and "stttt" not in spring_2025
    assert {"stc", "skhcn", "snnmt"} <= set(spring_2025)
    assert "skhdt" in members_on(nam_dinh, "sbn", date(2025, 2, 28))  # `until` is the first day it is gone
    assert "skhdt" not in members_on(nam_dinh, "sbn", date(2025, 12, 31))
    assert members_on(nam_dinh, "sbn", date(2025, 12, 31)) == []      # the province merged into Ninh Bình
    assert "my-loc" not in members_on(nam_dinh, "ubnd-huyen", date(2024, 9, 1))
    assert members_on(nam_dinh, "ubnd-huyen", date(2025, 7, 1)) == []
    assert members_on(nam_dinh, "snv", date(2013, 12, 31)) == []  # not a group


def test_successor_chain_follows_who_took_over(nam_dinh):
    assert successor_chain(nam_dinh, "skhdt", date(2026, 1, 1))[-1] == "stc"
    assert successor_chain(nam_dinh, "skhdt", date(2026, 1, 1)) == ["skhdt", "stc"]
    assert successor_chain(nam_dinh, "skhdt", date(2025, 2, 28)) == ["skhdt"]
    assert successor_chain(nam_dinh, "stttt", date(2025, 3, 1)) == ["stttt", "skhcn"]
    assert successor_chain(nam_dinh, "my-loc", date(2024, 9, 1)) == ["my-loc", "tp-nam-dinh"]
    assert successor_chain(nam_dinh, "ubnd-tinh", date(2025, 7, 1)) == ["ubnd-tinh", "ubnd-ninh-binh"]
    assert successor_chain(nam_dinh, "unknown", date(2026, 1, 1)) == ["unknown"]


# ── 3. validation names its lines ────────────────────────────────────────────

GOOD = """\
format: civreform-register/1
province: test
agencies:
  - code: g
    name: Nhóm
    kind: group
  - code: a
    name: Sở A
    kind: department
    groups: [g]
    until: 2025-03-01
    successor: b
  - code: b
    name: Sở B
    kind: department
    groups: [g]
"""


def test_a_small_register_reads():
    register = parse_register_text(GOOD, "r.yaml")
    assert members_on(register, "g", date(2025, 2, 28)) == ["a", "b"]
    assert members_on(register, "g", date(2025, 3, 1)) == ["b"]
    assert register.agency("a").line == 7


@pytest.mark.parametrize("old, new, line, problem", [
    ("    groups: [g]\n    until", "    group: [g]\n    until", 10, "unknown key 'group' in an agency"),
    ("until: 2025-03-01", "until: 2025-02-30", 11, "'2025-02-30' is not a real date"),
    ("until: 2025-03-01", "until: 01/03/2025", 11, "must be a date written YYYY-MM-DD"),
    ("successor: b", "successor: c", 7, "a: no agency 'c' in the register (its successor)"),
    ("    groups: [g]\n    until", "    groups: [h]\n    until", 7, "a: no agency 'h' in the register (in 'groups')"),
    ("    groups: [g]\n    until", "    groups: [b]\n    until", 7, "a: 'b' is not a group"),
    ("    name: Sở B\n    kind: department\n    groups: [g]\n",
     "    name: Sở B\n    kind: department\n    groups: [g]\n    until: 2025-06-01\n    successor: a\n", 7,
     "a cycle of successors: a -> b -> a"),
    ("code: b", "code: a", 13, "the code 'a' appears twice (first on line 7)"),
    ("    until: 2025-03-01\n", "", 11, "a: a successor takes over when a body ends; give 'until' too"),
    ("kind: department\n    groups: [g]\n    until", "kind: ministry\n    groups: [g]\n    until", 9,
     "'kind' 'ministry' is not one of"),
    ("format: civreform-register/1", "format: civreform-plan/1", 1, "'format' must be 'civreform-register/1'"),
    ("province: test", "province: Nam Định", 2, "'province' 'Nam Định' is not a code"),
    ("  - code: g\n", "  - code: g\n    code: h\n", 5, "the key 'code' appears twice"),
    ("    name: Sở B\n", "    name: [Sở B\n", 15, "YAML syntax error"),
])
def test_validation_errors_name_file_and_line(old, new, line, problem):
    text = GOOD.replace(old, new, 1)
    assert text != GOOD
    with pytest.raises(RegisterFileError) as caught:
        parse_register_text(text, "r.yaml")
    message = str(caught.value)
    assert message.startswith(f"r.yaml:{line}: "), message
    assert problem in message, message


def test_a_missing_file_is_one_line(tmp_path):
    with pytest.raises(RegisterFileError, match=r"nothing\.yaml: no such file"):
        read_register_file(tmp_path / "nothing.yaml")


# ── 4. storing, through the CLI ──────────────────────────────────────────────

def _events(db_path: Path) -> list[tuple]:
    return sql_rows(db_path, "SELECT * FROM events ORDER BY id")


def test_register_stores_it_and_the_database_answers_as_the_file_does(cli, loaded, nam_dinh):
    import sqlite3

    from civreform.register_store import expand_group_on

    out = cli("register").stdout  # (loading the bundled plan stored it already)
    assert out == "updated the agency register of nam-dinh: 37 agencies, 29 group memberships; 0 progress events kept\n"
    conn = sqlite3.connect(loaded)
    try:
        for day in (date(2013, 12, 31), date(2024, 9, 1), date(2025, 3, 1), date(2025, 7, 1)):
            for group in ("sbn", "ubnd-huyen", "cqlq"):
                assert expand_group_on(conn, "nam-dinh", group, day) == members_on(nam_dinh, group, day)
    finally:
        conn.close()
    # Task 1, led by both groups, has every member the register gives, each with its days.
    periods = dict(((code, (start, end)) for code, start, end in sql_rows(
        loaded, "SELECT agency_code, valid_from, valid_until FROM task_member_periods "
                "WHERE plan_id = 'nd-55-2013' AND task_id = '1'")))
    assert len(periods) == 29 and periods["skhdt"] == (None, "2025-03-01") and periods["stp"] == (None, "2025-07-01")
    assert periods["my-loc"] == (None, "2024-09-01") and periods["snnmt"] == ("2025-03-01", "2025-07-01")
    # A task led by one department gets none: it reports as before.
    assert sql_rows(loaded, "SELECT count(*) FROM task_member_periods WHERE task_id = '21'") == [(0,)]


def test_reloading_an_edited_register_keeps_every_event(cli, loaded, tmp_path):
    cli("record", "21", "--status", "done", "--on", "2013-09-15")
    cli("record", "1", "--status", "done", "--agency", "hai hau", "--on", "2013-12-30")
    cli("register")
    cli("record", "1", "--status", "in-progress", "--agency", "snv", "--on", "2014-12-01")
    before = _events(loaded)
    assert len(before) == 3
    edited = tmp_path / "nam_dinh.yaml"
    edited.write_text(REGISTER.read_text(encoding="utf-8").replace("""
  # ── Boards ("ban")""", """
  - code: sngv
    name: Sở Ngoại vụ
    name_en: Department of Foreign Affairs
    kind: department
    groups: [sbn]
    from: 2014-01-01
    until: 2025-07-01
  # ── Boards ("ban")"""), encoding="utf-8")
    out = cli("register", edited).stdout
    assert out == "updated the agency register of nam-dinh: 38 agencies, 30 group memberships; 3 progress events kept\n"
    assert _events(loaded) == before
    assert sql_rows(loaded, "SELECT valid_from FROM task_member_periods WHERE task_id = '1' AND agency_code = 'sngv'") \
        == [("2014-01-01",)]
    assert sql_rows(loaded, "SELECT count(*) FROM register_agencies WHERE province = 'nam-dinh'") == [(38,)]
    # The plan's group now has every member the register gives it, the new one too.
    assert ("sngv",) in sql_rows(loaded, "SELECT member_code FROM agency_members WHERE group_code = 'sbn'")


def test_a_register_that_does_not_validate_changes_nothing(cli, loaded, tmp_path):
    cli("register")
    broken = tmp_path / "broken.yaml"
    broken.write_text(REGISTER.read_text(encoding="utf-8").replace("successor: stc", "successor: s-none"),
                      encoding="utf-8")
    result = cli("register", broken, expect=3)
    assert result.stdout == ""
    assert result.stderr.startswith(f"civreform: {broken}:") and "no agency 's-none'" in result.stderr
    assert sql_rows(loaded, "SELECT successor FROM register_agencies WHERE code = 'skhdt'") == [("stc",)]


def test_register_warns_of_plan_codes_it_does_not_know(cli, loaded, tmp_path):
    smaller = tmp_path / "smaller.yaml"
    text = REGISTER.read_text(encoding="utf-8")
    start = text.index("  - code: dvsn-dn")
    smaller.write_text(text[:start], encoding="utf-8")
    result = cli("register", smaller)
    assert result.stderr == ("civreform: plan nd-55-2013 names agencies the register does not know: dvsn-dn\n")


def test_a_folder_or_a_file_that_is_not_utf8_is_one_line(tmp_path):
    with pytest.raises(RegisterFileError, match=r": is a directory, not a register file$"):
        read_register_file(tmp_path)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: Sở Y tế\n".encode("utf-8").replace("ở".encode("utf-8"), b"\xf5"))
    with pytest.raises(RegisterFileError, match=r"latin\.yaml: not UTF-8 text"):
        read_register_file(latin)


def test_a_plan_file_given_as_a_register_is_told_so(cli, loaded):
    result = cli("register", ROOT / "data" / "plan_55_2013.yaml", expect=3)
    assert result.stderr.endswith("plan_55_2013.yaml:9: 'format' must be 'civreform-register/1', "
                                  "not 'civreform-plan/1'\n")


def test_a_reloaded_plan_gets_its_members_again_from_the_stored_register(cli, loaded, tmp_path):
    """load works the members out again from the stored register, in the plan's own transaction."""
    from conftest import copy_plan

    renamed = copy_plan(tmp_path, lambda text: text.replace('  - id: "1"\n', '  - id: "1b"\n', 1))
    cli("load", renamed)
    assert sql_rows(loaded, "SELECT count(*) FROM task_member_periods WHERE task_id = '1'") == [(0,)]
    assert sql_rows(loaded, "SELECT count(*) FROM task_member_periods WHERE task_id = '1b'") == [(29,)]
    assert len([m for m in cli.json("show", "1b")["members"] if m["milestone"] == "2013"]) == 28



# ── the register in the reports (the bundled plan loads with the bundled register) ──

def test_every_district_owes_three_tasks_through_its_group(cli, loaded):
    rows = {r["code"]: r for r in cli.json("agencies")}
    districts = [code for code, row in rows.items() if row["kind"] in ("district", "city")]
    assert len(districts) == 10 and all(rows[code]["group_tasks"] == 3 for code in districts)
    assert rows["stp"]["group_tasks"] == 3  # Justice: not named in the plan, a department all the same


def test_task_1_of_2013_is_done_only_when_every_body_valid_that_year_has_reported(cli, loaded):
    owed = [m["agency"] for m in cli.json("show", "1")["members"] if m["milestone"] == "2013"]
    assert {"stp", "sgddt", "thanh-tra", "vp-ubnd", "my-loc"} <= set(owed) and len(owed) == 28
    for number, code in enumerate(owed, 1):
        cli("record", "1", "--status", "done", "--agency", code, "--on", "2013-12-20", "-m", "2013")
        milestone = cli.json("show", "1", "--as-of", "2014-01-01")["milestones"][0]
        assert (milestone["status"] == "done") == (number == len(owed)), code
    # Mỹ Lộc merged into Nam Định city on 01/09/2024: it owes 2013-2015, never a later year
    later = [m["agency"] for m in cli.json("show", "1")["members"]]
    assert later.count("my-loc") == 3


def test_who_took_over_a_body_s_tasks(cli, loaded):
    rows = cli.json("tasks", "--agency", "so tai chinh", "--successors")
    inherited = {r["task"]: r["inherited_from"] for r in rows if r["inherited_from"]}
    assert inherited == {"14": ["skhdt"], "15": ["skhdt"]}
    assert not any(r["inherited_from"] for r in cli.json("tasks", "--agency", "so tai chinh"))
    overdue = {r["task"]: r for r in cli.json("overdue", "--as-of", "2014-06-01", "--successors")}
    assert overdue["14"]["now_with"] == ["skhdt>stc"] and overdue["2"]["now_with"] == []
    assert "Now with" in cli("overdue", "--as-of", "2014-06-01", "--successors").stdout


def test_agencies_as_of_a_day_count_as_the_scorecard_does(cli, loaded):
    cli("record", "1", "--status", "done", "--agency", "hai hau", "--on", "2013-12-20")
    cli("record", "21", "--status", "done", "--on", "2013-10-15")
    listed = {row["code"]: row for row in cli.json("agencies", "--as-of", "2014-12-31")}
    for card in cli.json("scorecard", "--as-of", "2014-12-31"):
        row = listed[card["agency"]]
        assert {key: row[key] for key in ("done_on_time", "done_late", "within_deadline", "overdue", "total")} == {
            key: card[key] for key in ("done_on_time", "done_late", "within_deadline", "overdue", "total")}
    assert listed["hai-hau"]["done_on_time"] == 1 and listed["stc"]["done_late"] == 1
