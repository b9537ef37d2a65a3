"""The bundled plan is found from a built wheel, not only from a source checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_wheel_ships_and_finds_the_bundled_plan(tmp_path):
    wheels = tmp_path / "wheels"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    wheel = next(wheels.glob("civreform-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "civreform/data/plan_55_2013.yaml" in names
    assert "civreform/data/source/plan_55_KH-UBND_2013.vi.txt" in names
    assert "civreform/templates/report.html.j2" in names  # `civreform report` reads it from the package
    assert "civreform/data/agencies/nam_dinh.yaml" in names
    target = tmp_path / "site"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                                str(wheel)], capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr
    # Run from an unrelated folder so that only the installed copy can be imported.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target), "CIVREFORM_DB": str(tmp_path / "w.db"),
           "CIVREFORM_TODAY": "2026-11-27"}
    probe = subprocess.run([sys.executable, "-c", "import civreform.plan as p; print(p.__file__); "
                            "print(p.bundled_plan_path())"], capture_output=True, text=True, env=env, cwd=elsewhere)
    module_file, plan_path = probe.stdout.split()
    assert module_file.startswith(str(target)) and plan_path.startswith(str(target)), probe.stdout
    run = subprocess.run([sys.executable, "-m", "civreform", "overdue", "--as-of", "2013-10-01", "--format", "json"],
                         capture_output=True, text=True, env=env, cwd=elsewhere)
    assert run.returncode == 0, run.stderr
    assert "loaded the bundled plan 55/KH-UBND" in run.stderr
    assert {row["task"] for row in json.loads(run.stdout)} == {"21", "IV.2-plan"}
    # The `civreform` script pip writes runs the entry point pyproject names.
    script = subprocess.run([str(target / "bin" / "civreform"), "overdue", "--as-of", "2013-10-01", "--format", "csv"],
                            capture_output=True, text=True, env=env, cwd=elsewhere)
    assert script.returncode == 0, script.stderr
    assert script.stdout.startswith("task,plan,title")
    # And the bundled agency register, from the installed copy.
    registered = subprocess.run([sys.executable, "-m", "civreform", "register"], capture_output=True, text=True,
                                env=env, cwd=elsewhere)
    assert registered.returncode == 0 and "agency register of nam-dinh: 37 agencies" in registered.stdout, \
        registered.stderr


def test_the_entry_point_turns_the_cycle_collector_back_on():
    """It pauses the collector only while Typer and Rich import: left off, a 100k-task
    load would never free its reference cycles."""
    probe = subprocess.run([sys.executable, "-c", "import gc, civreform.__main__; "
                            "print(gc.isenabled(), gc.get_freeze_count() > 10000)"],
                           capture_output=True, text=True, cwd=ROOT)
    assert probe.stdout.split() == ["True", "True"], probe.stderr

