"""Nothing lost, nothing half-written: concurrency, crashes, damaged files, upgrades, backups."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_module, sql_rows

FIXTURES = Path(__file__).parent / "fixtures"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def count(db_path: Path, sql: str) -> int:
    return sql_rows(db_path, sql)[0][0]


def integrity(db_path: Path) -> str:
    return sql_rows(db_path, "PRAGMA integrity_check")[0][0]


# ── 1. concurrent writers ────────────────────────────────────────────────────

def _writer(db_path: str, worker: int, events: int, start, results):
    """One process recording `events` progress events through the real write path."""
    from datetime import date

    from civreform import progress
    from civreform.db import open_database

    database = open_database(Path(db_path))
    start.wait()
    failures = []
    for index in range(events):
        task = str(2 + (worker * events + index) % 12)
        try:
            progress.record(database.conn, today=date(2026, 11, 27), task=task, status="in-progress",
                            percent=index % 100, on="2014-01-01", note=f"w{worker}-{index}")
        except Exception as error:  # collected, asserted on in the parent
            failures.append(repr(error))
    database.close()
    results.put((worker, failures))


def test_eight_processes_writing_at_once_lose_nothing(cli, loaded):
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    workers = [context.Process(target=_writer, args=(str(loaded), w, 50, start, results)) for w in range(8)]
    for process in workers:
        process.start()
    time.sleep(1.0)  # let every process open the database before they race
    start.set()
    outcomes = [results.get(timeout=300) for _ in workers]
    for process in workers:
        process.join(timeout=60)
    failures = [f for _worker, fs in outcomes for f in fs]
    assert failures == []
    assert count(loaded, "SELECT count(*) FROM events") == 400
    assert count(loaded, "SELECT count(DISTINCT note) FROM events") == 400
    assert integrity(loaded) == "ok"


def test_concurrent_cli_records_through_subprocesses(loaded):
    processes = [subprocess.Popen([sys.executable, "-m", "civreform", "record", str(2 + n), "--status", "done",
                                   "--on", "2013-12-01"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for n in range(8)]
    codes = [p.wait(timeout=120) for p in processes]
    assert codes == [0] * 8, [p.stderr.read() for p in processes]
    assert count(loaded, "SELECT count(*) FROM events") == 8


def test_a_write_that_cannot_get_the_lock_says_so_and_writes_nothing(cli, loaded, monkeypatch):
    blocker = sqlite3.connect(loaded, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        monkeypatch.setenv("CIVREFORM_BUSY_TIMEOUT_MS", "300")
        started = time.monotonic()
        result = cli("record", "21", "--status", "done", "--on", "2013-09-15", expect=3)
        assert time.monotonic() - started < 10
        assert "locked by another process" in result.stderr and str(loaded) in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        # Readers are not blocked by a writer in WAL mode.
        assert cli("overdue", "--as-of", "2013-10-01", "--format", "json").exit_code == 0
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert count(loaded, "SELECT count(*) FROM events") == 0


def test_a_full_disk_says_so_and_writes_nothing(loaded, tmp_path):
    """SQLite's max_page_count gives the same SQLITE_FULL a full disk does: the load of a
    plan that does not fit is one line naming the file, and the database is as it was."""
    from benchmarks.generate import write_plan
    from civreform.db import describe_sqlite_error, open_database
    from civreform.loading import store_plan
    from civreform.plan import read_plan_file

    before = count(loaded, "SELECT count(*) FROM tasks")
    database = open_database(loaded)
    pages = database.conn.execute("PRAGMA page_count").fetchone()[0]
    database.conn.execute(f"PRAGMA max_page_count = {pages + 5}")
    plan = read_plan_file(write_plan(tmp_path / "big.yaml", "big", 300))
    with pytest.raises(sqlite3.OperationalError) as raised:
        store_plan(database.conn, plan)
    database.close()
    assert describe_sqlite_error(str(loaded), raised.value) == (
        f"{loaded}: the disk is full (SQLITE_FULL); nothing was written")
    assert count(loaded, "SELECT count(*) FROM tasks") == before
    assert count(loaded, "SELECT count(*) FROM plans WHERE plan_id = 'big'") == 0


def test_database_runs_in_wal_mode(loaded):
    conn = sqlite3.connect(loaded)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


# ── 2. crashes ───────────────────────────────────────────────────────────────

def _state(db_path: Path) -> tuple:
    conn = sqlite3.connect(db_path)
    try:
        return (conn.execute("SELECT count(*) FROM tasks").fetchone()[0],
                conn.execute("SELECT count(*) FROM milestones").fetchone()[0],
                conn.execute("SELECT group_concat(title, '|') FROM (SELECT title FROM tasks ORDER BY plan_id, seq)").fetchone()[0],
                conn.execute("SELECT count(*) FROM events").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.slow
@pytest.mark.parametrize("what", ["load", "import"])
def test_sigkill_at_random_moments_leaves_before_or_after(tmp_path, what):
    from benchmarks.generate import write_import_csv, write_plan

    db = tmp_path / "crash.db"
    env = {"CIVREFORM_DB": str(db)}
    big_plan = write_plan(tmp_path / "big.yaml", "big", 2500, seed=7)
    assert run_module("load", env=env).returncode == 0
    if what == "load":
        command = ["load", str(big_plan)]
    else:
        assert run_module("load", str(big_plan), env=env).returncode == 0
        csv_path = tmp_path / "big.csv"
        write_import_csv(db, csv_path, 4000, seed=3)
        command = ["import", str(csv_path)]
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    pristine = tmp_path / "pristine.db"
    shutil.copy(db, pristine)
    before = _state(db)
    started = time.monotonic()
    full = run_module(*command, env=env)
    duration = time.monotonic() - started
    assert full.returncode == 0, full.stderr
    after = _state(db)
    assert after != before
    rng = random.Random(11)
    seen = {"before": 0, "after": 0}
    trials = 15
    for trial in range(trials):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        shutil.copy(pristine, db)
        process = subprocess.Popen([sys.executable, "-m", "civreform", *command], cwd=ROOT,
                                   env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if trial % 3 == 0:
            time.sleep(rng.uniform(0.05, duration * 1.05))  # anywhere in the run
        else:
            # Most of a run is start-up and checking; aim these kills into the write
            # transaction itself, which begins when the WAL file starts to grow.
            wal = Path(f"{db}-wal")
            deadline = time.monotonic() + duration * 3
            while process.poll() is None and time.monotonic() < deadline:
                if wal.exists() and wal.stat().st_size > 4096:
                    break
                time.sleep(0.001)
            time.sleep(rng.uniform(0, 0.03))
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert integrity(db) == "ok"
        state = _state(db)
        assert state in (before, after), "a mix of before and after"
        seen["before" if state == before else "after"] += 1
    assert sum(seen.values()) == trials
    print(f"{what}: {trials} SIGKILL trials, full run {duration:.2f} s: {seen}")


# ── 3. damaged or unusable files ─────────────────────────────────────────────

def _damaged_cases(tmp_path: Path, good: Path) -> dict[str, Path]:
    conn = sqlite3.connect(good)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = good.read_bytes()
    cases = {}
    text = tmp_path / "notes.db"
    text.write_text("this is a text file, not a database\n" * 100, encoding="utf-8")
    cases["not a database"] = text
    truncated = tmp_path / "truncated.db"
    truncated.write_bytes(data[: len(data) // 3])
    cases["truncated"] = truncated
    corrupted = tmp_path / "corrupted.db"
    garbage = bytearray(data)
    rng = random.Random(5)
    page_size = int.from_bytes(data[16:18], "big")
    for page in range(1, len(data) // page_size):  # every b-tree page but the schema's: a bad sector
        offset = page * page_size
        garbage[offset:offset + 8] = bytes(rng.randrange(256) for _ in range(8))
    corrupted.write_bytes(bytes(garbage))
    cases["corrupted"] = corrupted
    scrambled = tmp_path / "scrambled.db"
    scrambled.write_bytes(data[:100] + bytes(rng.randrange(256) for _ in range(len(data) - 100)))
    cases["scrambled after the header"] = scrambled
    def sqlite_file(name: str, *statements: str) -> Path:
        path = tmp_path / f"{name}.db"
        other = sqlite3.connect(path)
        for statement in statements:
            other.execute(statement)
        other.commit()
        other.execute("VACUUM")  # writes the header even when nothing else was written
        other.close()
        return path

    # SQLite files that are not civreform's, however close they come (issue: adopted before)
    cases["an empty SQLite file"] = sqlite_file("empty_sqlite")
    cases["only a view"] = sqlite_file("view", "CREATE VIEW my_view AS SELECT 1")
    for version in (1, 3):
        cases[f"user_version {version} with its own tables"] = sqlite_file(
            f"accounts_v{version}", "CREATE TABLE accounts (id INTEGER PRIMARY KEY)", f"PRAGMA user_version = {version}")
    cases["its own events table"] = sqlite_file(
        "own_events", "CREATE TABLE events (id INTEGER PRIMARY KEY)", "CREATE TABLE plans (x)", "CREATE TABLE tasks (y)")
    cases["another application id"] = sqlite_file("app_id", "CREATE TABLE t (x)", "PRAGMA application_id = 7")
    foreign = tmp_path / "foreign.db"
    other = sqlite3.connect(foreign)
    other.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    other.execute("INSERT INTO customers (name) VALUES ('x')")
    other.commit()
    other.close()
    cases["another program's database"] = foreign
    return cases


@pytest.mark.parametrize("command", [["overdue"], ["record", "21", "--status", "done", "--on", "2013-09-15"],
                                     ["load"], ["check"]])
def test_damaged_files_are_refused_and_left_exactly_as_they_were(cli, loaded, tmp_path, command):
    cases = _damaged_cases(tmp_path, loaded)
    for name, path in cases.items():
        before = digest(path)
        result = cli("--db", path, *command, expect=None)
        assert result.exit_code == 3, (name, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0], (name, result.stderr)
        assert "Traceback" not in result.stderr
        assert digest(path) == before, name
        assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0, name


def test_a_zero_byte_file_left_by_a_failed_first_run_is_a_new_database(cli, tmp_path):
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    result = cli("--db", empty, "overdue", "--as-of", "2014-01-01", "--format", "json")
    assert "created it and loaded the bundled plan" in result.stderr
    assert sql_rows(empty, "PRAGMA application_id")[0][0] == 0x43495652  # marked as civreform's


def test_a_directory_is_not_a_database(cli, tmp_path):
    result = cli("--db", tmp_path, "overdue", expect=3)
    assert result.stderr.strip() == f"civreform: {tmp_path}: is a directory, not a database file"


def test_missing_folder(cli, tmp_path):
    result = cli("--db", tmp_path / "no" / "such" / "x.db", "overdue", expect=3)
    assert "does not exist" in result.stderr


@pytest.fixture
def read_only_copy(loaded, tmp_path):
    """The database on a read-only file system (root ignores file modes, so mount one);
    a non-root user gets chmod instead."""
    conn = sqlite3.connect(loaded)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() == 0:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(folder)], capture_output=True)
        if mounted.returncode != 0:
            pytest.skip(f"cannot mount a read-only file system here: {mounted.stderr.decode().strip()}")
        shutil.copy(loaded, folder / "civreform.db")
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        yield folder / "civreform.db"
        subprocess.run(["umount", str(folder)], check=False)
    else:
        shutil.copy(loaded, folder / "civreform.db")
        (folder / "civreform.db").chmod(0o444)
        folder.chmod(0o555)
        yield folder / "civreform.db"
        folder.chmod(0o755)


def test_read_only_database_reads_and_refuses_writes_in_one_line(cli, read_only_copy):
    before = digest(read_only_copy)
    rows = cli.json("--db", read_only_copy, "overdue", "--as-of", "2013-10-01")
    assert {r["task"] for r in rows} == {"21", "IV.2-plan"}
    result = cli("--db", read_only_copy, "record", "21", "--status", "done", "--on", "2013-09-15", expect=3)
    assert str(read_only_copy) in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "read-only" in result.stderr and "Traceback" not in result.stderr
    assert digest(read_only_copy) == before


def test_check_reports_a_healthy_database(cli, loaded):
    out = cli("check").stdout
    from civreform.db import MIGRATIONS, SCHEMA_VERSION

    assert SCHEMA_VERSION == len(MIGRATIONS) >= 3
    assert "integrity: ok" in out and f"schema version: {SCHEMA_VERSION} (this civreform: {SCHEMA_VERSION})" in out
    assert "nd-55-2013 (55/KH-UBND): 26 tasks, 0 progress events" in out
    assert "orphaned progress events: 0" in out


def test_check_does_not_create_a_database(cli, db_path):
    result = cli("check", expect=3)
    assert "no such database" in result.stderr and not db_path.exists()


# ── 4. upgrades ──────────────────────────────────────────────────────────────

def _schema(db_path: Path) -> list[tuple]:
    return sql_rows(db_path, "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
                             "ORDER BY type, name")


def test_a_new_database_gets_larger_pages_and_one_that_is_there_keeps_its_own(cli, tmp_path):
    from civreform.db import NEW_PAGE_SIZE

    fresh = tmp_path / "fresh.db"
    cli("--db", fresh, "load")
    assert sql_rows(fresh, "PRAGMA page_size")[0][0] == NEW_PAGE_SIZE == 8192
    there = tmp_path / "there.db"
    shutil.copy(FIXTURES / "schema_v4.db", there)
    assert sql_rows(there, "PRAGMA page_size")[0][0] == 4096
    cli("--db", there, "load")  # upgraded and loaded again: the file is not rebuilt
    assert sql_rows(there, "PRAGMA page_size")[0][0] == 4096
    assert integrity(there) == "ok"


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("schema_v*.db")), ids=lambda p: p.stem)
def test_every_old_schema_opens_with_everything_intact(cli, tmp_path, fixture):
    copy = tmp_path / fixture.name
    shutil.copy(fixture, copy)
    old = sqlite3.connect(copy)
    event_columns = ("id, plan_id, task_id, milestone, agency, status, percent, happened_on, recorded_at, note, "
                     "evidence, recorded_by, source")
    old_events = old.execute(f"SELECT {event_columns} FROM events ORDER BY id").fetchall()
    old_plans = old.execute("SELECT plan_id FROM plans ORDER BY plan_id").fetchall()
    old.close()
    assert old_events, "the fixture should hold progress"
    checked = cli("--db", copy, "check").stdout
    assert "append-only protection: all 4 triggers in place" in checked and "orphaned progress events: 0" in checked
    conn = sqlite3.connect(copy)
    assert conn.execute(f"SELECT {event_columns} FROM events ORDER BY id").fetchall() == old_events
    assert conn.execute("SELECT DISTINCT kind FROM events").fetchall() == [("progress",)]
    assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x43495652
    assert conn.execute("SELECT plan_id FROM plans ORDER BY plan_id").fetchall() == old_plans
    conn.close()
    fresh = tmp_path / "fresh.db"
    # The plan file alone, as the old database had it: an upgrade does not bring in the
    # agency register by itself (`civreform register` does), so both have the same members.
    from tests.conftest import PLAN

    cli("--db", fresh, "load", PLAN)
    assert _schema(copy) == _schema(fresh)  # upgraded and blank end the same
    assert len(cli.json("--db", copy, "history")) == len(old_events)
    # The same events written into a new database give the same reports as the upgraded one.
    conn = sqlite3.connect(fresh)
    columns = "plan_id, task_id, milestone, agency, status, percent, happened_on, recorded_at, note"
    old = sqlite3.connect(copy)
    conn.executemany(f"INSERT INTO events ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     old.execute(f"SELECT {columns} FROM events ORDER BY id").fetchall())
    old.close()
    conn.commit()
    conn.close()

    def state(db, *args):
        keys = ("task", "milestone", "status", "percent", "standing", "units_done")
        return [tuple(row.get(k) for k in keys) for row in cli.json("--db", db, *args)]

    for day in ("2013-10-01", "2014-01-01", "2014-06-30", "2026-11-27"):
        assert state(copy, "overdue", "--as-of", day) == state(fresh, "overdue", "--as-of", day), day
        assert state(copy, "upcoming", "--as-of", day, "--days", "400") == \
            state(fresh, "upcoming", "--as-of", day, "--days", "400"), day


def test_a_newer_schema_is_refused_untouched(cli, loaded, tmp_path):
    newer = tmp_path / "newer.db"
    conn = sqlite3.connect(loaded)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    shutil.copy(loaded, newer)
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    before = digest(newer)
    result = cli("--db", newer, "overdue", expect=3)
    assert "made by a newer civreform (schema version 99" in result.stderr
    assert digest(newer) == before


# ── 5. backups ───────────────────────────────────────────────────────────────

def test_backup_while_another_process_writes(cli, loaded, tmp_path):
    writer = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys; from datetime import date; from pathlib import Path\n"
            "from civreform import progress; from civreform.db import open_database\n"
            f"d = open_database(Path({str(loaded)!r}))\n"
            "for i in range(150):\n"
            "    progress.record(d.conn, today=date(2026, 11, 27), task=str(2 + i % 12), status='in-progress', on='2014-01-01')\n")],
        cwd=ROOT)
    copies = []
    for index in range(3):
        target = tmp_path / f"copy{index}.db"
        out = cli("backup", target).stdout
        assert out.startswith(f"backed up {loaded} to {target}")
        copies.append(target)
    assert writer.wait(timeout=120) == 0
    for target in copies:
        assert integrity(target) == "ok"
        assert cli("--db", target, "check").exit_code == 0
        assert len(cli.json("--db", target, "history")) <= 150
    final = tmp_path / "final.db"
    cli("backup", final)
    assert len(cli.json("--db", final, "history")) == 150
    assert cli("backup", final, expect=3).stderr.strip().endswith("already exists; choose a new file name")
