"""Hostile files, output paths and values: refused cleanly or written safely, nothing else touched.

Output paths (`template -o`, `backup`), a damaged database copied by `backup`, plan text
with escape sequences on the way to a terminal, and options or settings out of range."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import stat
import subprocess
import threading

import pytest

from tests.conftest import copy_plan, run_module
from tests.test_output import on_a_terminal

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="device nodes and mounts need root")


def listing(folder) -> list[str]:
    return sorted(os.listdir(folder))


def one_error_line(result, *parts: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("civreform: ") and "Traceback" not in result.stderr, result.stderr
    for part in parts:
        assert part in lines[0], (part, lines[0])


# ── 3. terminal safety ──────────────────────────────────────────────────────

HOSTILE_NUMBER = "55/KH\x1b[2J\u202eX"
HOSTILE_NAME = "Sở Tài chính \x1b]0;pwned\x07\u202egnp\u2066\x7f\x9b31m"
HOSTILE_TITLE = "Đề án \x1b[31mRED\u202e\x85end"


@pytest.fixture
def hostile_plan(tmp_path):
    def edit(text: str) -> str:
        text = text.replace("  number: 55/KH-UBND\n", '  number: "55/KH\\e[2J\\u202eX"\n', 1)
        text = text.replace("    name: Sở Tài chính\n", '    name: "Sở Tài chính \\e]0;pwned\\a\\u202egnp\\u2066\\x7f\\x9b31m"\n', 1)
        return text.replace("    title: Đề án đổi mới cơ chế hoạt động của đơn vị sự nghiệp công lập\n",
                            '    title: "Đề án \\e[31mRED\\u202e\\x85end"\n', 1)
    return copy_plan(tmp_path, edit)


RAW = ("\x1b", "\x07", "\x7f", "\x85", "\x9b", "\u202e", "\u2066")


def shows_no_raw_controls(text: str) -> None:
    assert not any(character in text for character in RAW), repr(text)


def test_plan_text_reaches_the_terminal_escaped_in_messages_and_table_titles(cli, hostile_plan):
    loaded = cli("load", hostile_plan)
    shows_no_raw_controls(loaded.stdout)
    assert "55/KH\\x1b[2J\\u202eX" in loaded.stdout
    checked = cli("check")
    shows_no_raw_controls(checked.stdout)
    assert "\\u202eX" in checked.stdout
    for command in (["tasks", "--agency", "stc"], ["overdue", "--as-of", "2014-01-01", "--agency", "stc"]):
        table = cli(*command).stdout
        shows_no_raw_controls(table)
        assert "\\x1b]0;pwned\\x07\\u202egnp\\u2066\\x7f\\x9b31m" in table.replace("\n", "")
    several = cli("tasks", "--agency", "sở", expect=3)
    one_error_line(several, "matches several agencies", "\\x1b]0;pwned")
    shows_no_raw_controls(several.stderr)


def test_csv_on_a_terminal_is_escaped_and_csv_into_a_pipe_is_exact(cli, hostile_plan, db_path):
    cli("load", hostile_plan)
    env = {"CIVREFORM_DB": str(db_path)}
    for command in (["overdue", "--as-of", "2014-01-01"], ["agencies"]):
        code, drawn = on_a_terminal(*command, "--format", "csv", env=env)
        assert code == 0
        shows_no_raw_controls(drawn)
        piped = run_module(*command, "--format", "csv", env=env)
        assert piped.returncode == 0 and piped.stdout.count("\r\n") == piped.stdout.count("\n")
        assert "\x1b" in piped.stdout  # the data as it is, for a program to read
    code, drawn = on_a_terminal("overdue", "--as-of", "2014-01-01", "--format", "csv", env=env)
    assert "Đề án \\x1b[31mRED\\u202e\\x85end" in drawn


def test_json_escapes_del_c1_and_bidi_controls_and_reads_back_the_same(cli, hostile_plan):
    cli("load", hostile_plan)
    text = cli("agencies", "--format", "json").stdout
    shows_no_raw_controls(text)
    assert "\\u202e" in text and "\\u009b" in text and "\\u007f" in text
    assert {row["code"]: row["name"] for row in json.loads(text)}["stc"] == HOSTILE_NAME
    detail = cli("show", "21", "--format", "json").stdout
    shows_no_raw_controls(detail)
    assert json.loads(detail)["title"] == HOSTILE_TITLE
