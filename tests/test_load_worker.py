"""Loading a large plan with a worker process: the worker reads and validates the
file while the command stores its rows. What it stores, what it refuses and what
happens when it fails must be what loading in one process gives."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from civreform import loading
from civreform.db import open_database
from civreform.errors import PlanFileError
from civreform.plan import STREAM_FROM_BYTES, read_plan_file
from tests.conftest import PLAN, ROOT
from tests.test_plan_validation import snapshot


@pytest.fixture(scope="module")
def large_plan(tmp_path_factory) -> Path:
    """A generated plan just over the size from which the CLI starts a worker."""
    from benchmarks.generate import write_plan

    path = write_plan(tmp_path_factory.mktemp("plans") / "large.json", "large", 3500, seed=11)
    assert path.stat().st_size >= STREAM_FROM_BYTES
    return path


def _plan_rows(db_path: Path) -> list[str]:
    # when the plan was loaded and the schema made differ from one database to the next
    stamped = ('INSERT INTO "plans"', 'INSERT INTO "_sqlite_migrations"')
    return [line for line in snapshot(db_path) if not line.startswith(stamped)]


def test_a_large_plan_is_read_by_a_worker_and_stored_as_one_process_stores_it(cli, tmp_path, large_plan,
                                                                            monkeypatch):
    used = []
    batches = loading.LoadWorker.batches

    def counted(self):
        used.append(self.path)
        return batches(self)

    monkeypatch.setattr(loading.LoadWorker, "batches", counted)
    out = cli("--db", tmp_path / "worker.db", "load", large_plan).stdout
    assert used == [str(large_plan)]
    monkeypatch.setenv("CIVREFORM_LOAD_WORKER", "0")
    assert cli("--db", tmp_path / "here.db", "load", large_plan).stdout == out
    assert used == [str(large_plan)]  # not used the second time
    assert "3500 tasks" in out
    assert _plan_rows(tmp_path / "worker.db") == _plan_rows(tmp_path / "here.db")
    assert "current state: agrees with the progress events" in cli("--db", tmp_path / "worker.db", "check").stdout


def test_no_worker_for_a_small_plan_or_when_turned_off(large_plan, monkeypatch):
    assert loading.start_load_worker(PLAN) is None
    assert loading.start_load_worker(large_plan.parent / "missing.json") is None
    with loading.start_load_worker(large_plan) as worker:
        assert worker is not None
    monkeypatch.setenv("CIVREFORM_LOAD_WORKER", "0")
    assert loading.start_load_worker(large_plan) is None


def test_a_worker_that_cannot_start_leaves_the_reading_to_the_command(cli, tmp_path, large_plan, monkeypatch):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    assert loading.start_load_worker(large_plan) is None
    assert "3500 tasks" in cli("load", large_plan).stdout


def test_a_bad_task_at_the_end_of_a_large_plan_is_one_line_and_rolls_back(cli, db_path, tmp_path, large_plan):
    text = large_plan.read_text(encoding="utf-8")
    last_lead = text.rindex('"lead": [')
    broken = tmp_path / "broken.json"
    broken.write_text(text[:last_lead] + '"lead": ["nobody"], "x_lead": [' + text[last_lead + 9:], encoding="utf-8")
    cli("load")
    before = snapshot(db_path)
    worker = cli("load", broken, expect=3)
    assert worker.stderr.count("\n") == 1 and "unknown field 'x_lead'" in worker.stderr
    assert f"{broken}:" in worker.stderr
    assert snapshot(db_path) == before
    os.environ["CIVREFORM_LOAD_WORKER"] = "0"
    try:
        assert cli("load", broken, expect=3).stderr == worker.stderr
    finally:
        del os.environ["CIVREFORM_LOAD_WORKER"]


def _fake_worker(tmp_path: Path, body: str) -> list[str]:
    """A command that speaks the worker's protocol as `body` says, for failures a
    real worker should never have."""
    script = tmp_path / "fake_worker.py"
    script.write_text(
        "import dataclasses, pickle, sys\n"
        "from civreform._load_worker import send\n"
        "from civreform.loading import task_batches\n"
        "from civreform.plan import read_plan_file\n"
        f"plan = read_plan_file({str(PLAN)!r})\n"
        "out = sys.stdout.buffer\n"
        "send(out, ('head', pickle.dumps(dataclasses.replace(plan, tasks=None))))\n"
        + body, encoding="utf-8")
    return [sys.executable, str(script)]


@pytest.mark.parametrize("body, words", [
    # one batch of rows, then the worker dies with a message
    ("batch = next(task_batches(plan))\n"
     "send(out, ('rows', batch[0].rows(), *batch[1:]))\n"
     "out.flush()\n"
     "sys.exit('worker ran out of memory')\n", "worker ran out of memory"),
    # half a message, then nothing
    ("out.write((1000).to_bytes(8, 'little') + b'xx')\n", "exit status 0"),
    # killed by a signal
    ("import os, signal\nout.flush()\nos.kill(os.getpid(), signal.SIGKILL)\n", "exit status -9"),
])
def test_a_worker_that_dies_mid_plan_leaves_the_database_as_it_was(cli, db_path, tmp_path, body, words):
    cli("load")
    before = snapshot(db_path)
    database = open_database(db_path)
    with loading.LoadWorker(str(PLAN), command=_fake_worker(tmp_path, body)) as worker:
        plan = worker.plan()
        assert plan.id == "nd-55-2013" and plan.tasks is None
        with pytest.raises(PlanFileError) as caught:
            loading.store_plan(database.conn, plan, worker=worker)
    database.close()
    assert "the worker reading the tasks stopped" in str(caught.value) and words in str(caught.value)
    assert snapshot(db_path) == before


def test_a_worker_that_says_nothing_is_not_a_plan(tmp_path):
    with loading.LoadWorker(str(PLAN), command=[sys.executable, "-c", "pass"]) as worker:
        assert worker.plan() is None  # then the command reads the file itself


@pytest.mark.skipif(not Path("/proc").is_dir() or sys.platform != "linux", reason="reads /proc for the worker")
def test_ctrl_c_during_a_load_with_a_worker_stops_both_and_writes_nothing(tmp_path):
    from benchmarks.generate import write_plan

    plan = write_plan(tmp_path / "huge.json", "huge", 40_000, seed=5)
    db_path = tmp_path / "civreform.db"
    env = {**os.environ, "CIVREFORM_DB": str(db_path), "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "civreform", "load"], env=env, check=True, capture_output=True)
    before = snapshot(db_path)
    command = subprocess.Popen([sys.executable, "-m", "civreform", "load", str(plan)], env=env, cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    worker_pid = None
    deadline = time.monotonic() + 30
    while worker_pid is None and time.monotonic() < deadline and command.poll() is None:
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == command.pid:
                    worker_pid = int(entry.name)
            except (OSError, IndexError, ValueError):
                continue
        time.sleep(0.01)
    assert worker_pid is not None, "the worker never started"
    # Ctrl-C once the load is under way: stored batches reach the WAL file (SQLite spills
    # what its page cache cannot hold), long before the ~30 MB of the whole plan. (A fixed
    # wait failed once on a busy machine: the load had finished first.)
    wal = Path(f"{db_path}-wal")
    while (not wal.exists() or wal.stat().st_size < 1_000_000) and command.poll() is None:
        time.sleep(0.005)
    assert command.poll() is None, "the load ended before Ctrl-C was sent"
    os.killpg(command.pid, signal.SIGINT)  # as Ctrl-C in a terminal: the whole foreground group
    _out, err = command.communicate(timeout=60)
    assert command.returncode == 130, err
    assert b"Traceback" not in err and err.decode().count("\n") <= 1  # as without a worker: quiet
    with pytest.raises(ProcessLookupError):
        os.kill(worker_pid, 0)  # stopped and reaped
    assert snapshot(db_path) == before
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    assert read_plan_file(plan, stream=True).id == "huge"  # the file itself was only read
