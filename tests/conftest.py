"""Shared fixtures: every test gets its own database file in a temp folder, a fixed
clock, and an environment with none of the user's civreform settings."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
PLAN = ROOT / "data" / "plan_55_2013.yaml"
SOURCE = ROOT / "data" / "source" / "plan_55_KH-UBND_2013.vi.txt"
TODAY = "2026-11-27"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    for name in list(os.environ):
        if name.startswith("CIVREFORM_") or name in ("NO_COLOR", "FORCE_COLOR", "COLUMNS"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CIVREFORM_DB", str(tmp_path / "civreform.db"))
    monkeypatch.setenv("CIVREFORM_TODAY", TODAY)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("COLUMNS", "200")
    yield


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "civreform.db"


class Cli:
    """Runs the real Typer app in-process, with stdout and stderr kept apart."""

    def __init__(self):
        from civreform.cli import app

        self.app = app
        self.runner = CliRunner()

    def __call__(self, *args: str, expect: int | None = 0, input: str | None = None):
        result = self.runner.invoke(self.app, [str(a) for a in args], input=input, catch_exceptions=False)
        if expect is not None:
            assert result.exit_code == expect, (
                f"civreform {' '.join(map(str, args))} exited {result.exit_code}, expected {expect}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")
        return result

    def json(self, *args: str):
        return json.loads(self(*args, "--format", "json").stdout)


@pytest.fixture
def cli() -> Cli:
    return Cli()


@pytest.fixture
def loaded(cli, db_path):
    """A database with the bundled plan loaded."""
    cli("load")
    return db_path


def run_module(*args: str, env: dict | None = None, input: str | None = None, cwd=None):
    """civreform in a subprocess (no TTY), as cron or a pipe would run it.

    Output is decoded as UTF-8 without newline translation, so CRLF stays visible.
    """
    import subprocess

    full_env = dict(os.environ)
    full_env.update(env or {})
    done = subprocess.run([sys.executable, "-m", "civreform", *args], capture_output=True, env=full_env,
                          input=input.encode("utf-8") if input else None, cwd=cwd or ROOT, timeout=120)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode("utf-8"),
                                       done.stderr.decode("utf-8"))


def sql_rows(db_path: Path, sql: str, params=()) -> list[tuple]:
    """Rows of one query on a database file, read with a connection of its own."""
    import sqlite3

    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def copy_plan(tmp_path: Path, edit=None) -> Path:
    """A copy of the bundled plan, optionally edited by a text replacement function."""
    target = tmp_path / "plan.yaml"
    text = PLAN.read_text(encoding="utf-8")
    if edit is not None:
        text = edit(text)
    target.write_text(text, encoding="utf-8")
    return target
