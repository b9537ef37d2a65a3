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


# ── 1. output paths ─────────────────────────────────────────────────────────

def test_template_dash_writes_standard_output(cli, loaded, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("template", "-o", "-")
    assert result.stdout.startswith("\ufeffplan,task,milestone") and result.stderr == ""
    assert "-" not in listing(tmp_path)


@as_root
def test_template_into_a_character_device_writes_into_it_and_leaves_it_a_device(cli, loaded, tmp_path):
    device = tmp_path / "stdout"  # what /dev/stdout is on a terminal; this one is /dev/null's twin
    os.mknod(device, stat.S_IFCHR | 0o620, os.makedev(1, 3))
    device.chmod(0o620)  # mknod is subject to the umask
    before = listing(tmp_path)
    cli("template", "-o", device)
    after = os.lstat(device)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == os.makedev(1, 3) and stat.S_IMODE(after.st_mode) == 0o620
    assert listing(tmp_path) == before


def test_template_into_a_fifo_feeds_its_reader_and_leaves_it_a_fifo(cli, loaded, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    cli("template", "-o", fifo)
    reader.join(timeout=30)
    assert received and received[0].startswith("\ufeffplan,task,milestone".encode()) and received[0].endswith(b"\r\n")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_template_to_a_link_like_dev_stdout_writes_the_pipe_it_leads_to(loaded, tmp_path):
    stdout = tmp_path / "stdout"  # /dev/stdout's twin: the real one is left alone
    stdout.symlink_to("/proc/self/fd/1")
    result = run_module("template", "-o", str(stdout), env={"CIVREFORM_DB": str(loaded)})
    assert result.returncode == 0 and result.stdout.startswith("\ufeffplan,task,milestone"), result.stderr
    assert stdout.is_symlink() and os.readlink(stdout) == "/proc/self/fd/1"


def test_template_through_a_symlink_writes_its_target_and_keeps_the_link(cli, loaded, tmp_path):
    target = tmp_path / "sheets" / "real.csv"
    target.parent.mkdir()
    target.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    cli("template", "-o", link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text(encoding="utf-8").startswith("\ufeffplan,task,milestone")
    assert listing(target.parent) == ["real.csv"]


def test_template_over_an_existing_file_keeps_its_mode_and_a_new_file_gets_the_umask(cli, loaded, tmp_path):
    existing = tmp_path / "shared.csv"
    existing.write_text("old\n")
    existing.chmod(0o644)
    cli("template", "-o", existing)
    assert stat.S_IMODE(existing.stat().st_mode) == 0o644
    assert existing.read_text(encoding="utf-8").startswith("\ufeffplan,task")
    old_umask = os.umask(0o027)
    try:
        cli("template", "-o", tmp_path / "new.csv")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o640


@pytest.mark.parametrize("kind", ["folder", "socket"])
def test_template_refuses_a_folder_or_a_socket_naming_it(cli, loaded, tmp_path, monkeypatch, kind):
    monkeypatch.chdir(tmp_path)  # a socket's path must be short
    server = socket.socket(socket.AF_UNIX)
    if kind == "folder":
        os.mkdir("out")
    else:
        server.bind("out")
    before = listing(tmp_path)
    with server:
        one_error_line(cli("template", "-o", "out", expect=3), f"out: is a {kind}")
    assert listing(tmp_path) == before


def test_backup_never_deletes_or_reuses_a_file_it_did_not_create(cli, loaded, tmp_path):
    partial = tmp_path / "bk.db.partial"  # someone else's file, a database even
    other = sqlite3.connect(partial)
    other.execute("CREATE TABLE mine (x)")
    other.execute("INSERT INTO mine VALUES ('keep me')")
    other.commit()
    other.close()
    before = partial.read_bytes()
    cli("backup", tmp_path / "bk.db")
    assert partial.read_bytes() == before
    assert sqlite3.connect(tmp_path / "bk.db").execute("SELECT count(*) FROM tasks").fetchone()[0] > 0
    assert [name for name in listing(tmp_path) if name.startswith(".")] == []


@pytest.fixture
def small_mount(tmp_path):
    """A 16 KiB file system (root only): too small for a template or a backup."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr.decode().strip()}")
    yield folder
    subprocess.run(["umount", str(folder)], check=False)


@as_root
def test_a_failed_write_leaves_no_temporary_file_and_names_the_target(cli, loaded, small_mount):
    sheet, copy = small_mount / "sheet.csv", small_mount / "copy.db"
    one_error_line(cli("template", "-o", sheet, expect=3), f"{sheet}: cannot write (No space left on device)")
    one_error_line(cli("backup", copy, expect=3), f"{copy}: the disk is full")
    assert listing(small_mount) == []
    subprocess.run(["mount", "-o", "remount,ro", str(small_mount)], check=True)
    one_error_line(cli("template", "-o", sheet, expect=3), f"{sheet}: cannot write (Read-only file system)")
    one_error_line(cli("backup", copy, expect=3), f"{copy}: cannot write (Read-only file system)")
    assert listing(small_mount) == []


# ── 2. backup reports damage ────────────────────────────────────────────────

def test_backup_of_a_damaged_database_says_so_and_keeps_the_copy(cli, loaded, tmp_path):
    conn = sqlite3.connect(loaded)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'tasks'").fetchone()[0]
    conn.close()
    with open(loaded, "r+b") as handle:  # the cell pointers of the tasks table's first page
        handle.seek((root - 1) * page_size + 8)
        handle.write(b"\xff" * 64)
    copy = tmp_path / "copy.db"
    result = cli("backup", copy, expect=3)
    one_error_line(result, f"{loaded}: the database is damaged", f"copied anyway to {copy}")
    assert result.stdout == "" and copy.stat().st_size == loaded.stat().st_size


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


# ── 4. options out of range ─────────────────────────────────────────────────

@pytest.mark.parametrize("args, code", [
    (["upcoming", "--as-of", "9999-12-31"], 3),
    (["summary", "--as-of", "9999-12-31"], 3),
    (["upcoming", "--days", "999999999"], 2),
    (["upcoming", "--days", "99999999999999999999"], 2),
    (["summary", "--days", "36501"], 2),
])
def test_options_out_of_range_are_refused_not_internal_errors(cli, loaded, args, code):
    result = cli(*args, expect=code)
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
    if code == 3:
        one_error_line(result, "9999-12-31", "not a plausible date")
    else:
        assert "not in the range 0<=x<=36500" in result.stderr or "1<=x<=36500" in result.stderr


def test_the_widest_range_accepted_still_works(cli, loaded):
    cli("upcoming", "--as-of", "9899-12-31", "--days", "36500")
    cli("summary", "--as-of", "9899-12-31", "--days", "36500")
    cli("summary", "--as-of", "1900-01-01", "--days", "36500")


# ── 5. environment values ───────────────────────────────────────────────────

@pytest.mark.parametrize("value", ["abc", "-5", "1.5", "99999999999999999999"])
def test_a_bad_busy_timeout_is_refused_naming_the_variable(cli, loaded, monkeypatch, value):
    monkeypatch.setenv("CIVREFORM_BUSY_TIMEOUT_MS", value)
    result = cli("overdue", expect=2)
    one_error_line(result, "CIVREFORM_BUSY_TIMEOUT_MS", value)
    assert result.stdout == ""
