"""search: tasks by their words, events by their notes and evidence, whatever the
case and the diacritics (đ included), best first, kept current by every write."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from tests.conftest import sql_rows

FIXTURES = Path(__file__).parent / "fixtures"


def test_words_without_diacritics_find_task_13_first(cli, loaded):
    found = cli.json("search", "vi tri viec lam")
    assert found[0]["task"] == "13" and found[0]["kind"] == "task"
    assert "vị trí việc làm" in found[0]["snippet"]
    assert [r["task"] for r in cli.json("search", "VỊ TRÍ việc LÀM")] == [r["task"] for r in found]
    assert cli.json("search", "job positions")[0]["task"] == "13"  # English titles too


def test_events_are_found_by_note_and_evidence_as_soon_as_recorded(cli, loaded):
    cli("record", "2", "--status", "in-progress", "--on", "2013-10-01", "--note", "Thực hiện Nghị quyết của Đảng")
    cli("record", "21", "--status", "done", "--on", "2013-10-05", "--evidence", "Quyết định 1234/QĐ-UBND")
    [event] = cli.json("search", "dang")
    assert (event["kind"], event["task"], event["event"]) == ("event", "2", 1)
    assert "Đảng" in event["snippet"]
    assert cli.json("search", "quyet dinh 1234")[0]["event"] == 2
    assert cli.json("search", "no such words here") == []
    assert "nothing matches" in cli("search", "no such words here").stdout


def test_a_reload_keeps_the_index_in_step_and_check_repairs_it(cli, loaded, db_path, tmp_path):
    from tests.conftest import copy_plan

    edited = copy_plan(tmp_path, lambda text: text.replace("Đề án xác định vị trí việc làm", "Đề án khung năng lực"))
    cli("load", edited)
    assert "13" not in {r["task"] for r in cli.json("search", "vi tri viec lam") if r["kind"] == "task"
                        and "vị trí việc làm" in r["title"]}
    assert cli.json("search", "khung nang luc")[0]["task"] == "13"
    assert "search index: agrees" in cli("check").stdout
    conn = sqlite3.connect(db_path)
    conn.execute("DELETE FROM search_index WHERE ref = '13'")
    conn.commit()
    conn.close()
    assert "search index: FAILED" in cli("check", expect=3).stdout
    assert "search index: rebuilt" in cli("check", "--repair").stdout
    assert cli.json("search", "khung nang luc")[0]["task"] == "13"


def test_a_database_of_the_previous_release_is_searchable_after_its_migration(cli, tmp_path):
    copy = tmp_path / "old.db"
    shutil.copy(FIXTURES / "schema_v4.db", copy)
    assert cli.json("--db", copy, "search", "vi tri viec lam")[0]["task"] == "13"
    assert sql_rows(copy, "PRAGMA user_version")[0][0] >= 7


def test_search_words_are_never_read_as_query_syntax(cli, loaded):
    for text in ('"', "AND OR NOT", "title:x", "a*", "(", "NEAR(a b)"):
        assert cli("search", text).exit_code == 0
