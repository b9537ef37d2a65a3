"""Tables never corrupt a value: at any width from 60 columns up, ids, dates,
statuses, percents and agency codes appear whole, or their column is left out with a
notice naming it. Text columns wrap."""

from __future__ import annotations


import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# (listing, its JSON keys that must never be cut, the table header each is under)
LISTINGS = {
    "overdue": (["overdue", "--as-of", "2014-06-30"],
                {"task": "Task", "milestone": "Milestone", "due": "Due", "days_overdue": "Days late",
                 "lead": "Lead", "status": "Status"}),
    "upcoming": (["upcoming", "--as-of", "2013-09-01", "--days", "400"],
                 {"task": "Task", "milestone": "Milestone", "due": "Due", "days_left": "Days left", "lead": "Lead",
                  "status": "Status"}),
    "tasks": (["tasks", "--as-of", "2014-06-30"],
              {"task": "ID", "lead": "Lead", "next_due": "Next due", "status": "Status", "standing": "Standing"}),
    "history": (["history"], {"id": "#", "task": "Task", "milestone": "Milestone", "agency": "Agency",
                              "status": "Status", "percent": "%", "on": "On"}),
    "agencies": (["agencies"], {"code": "Code", "kind": "Kind", "lead_tasks": "Leads"}),
}


@pytest.fixture(scope="module")
def progress_db(tmp_path_factory):
    from typer.testing import CliRunner

    from civreform.cli import app

    path = tmp_path_factory.mktemp("widths") / "civreform.db"
    runner = CliRunner()
    env = {"CIVREFORM_DB": str(path), "CIVREFORM_TODAY": "2026-11-27"}
    for args in (["load"], ["record", "21", "--status", "done", "--on", "2013-10-15"],
                 ["record", "1", "--status", "in-progress", "--percent", "45", "--agency", "hai-hau",
                  "--on", "2013-09-25", "--note", "Kế hoạch rà soát chất lượng cán bộ, công chức của huyện",
                  "--evidence", "Kế hoạch số 12/KH-UBND ngày 20/9/2013"],
                 ["record", "13", "--status", "blocked", "--on", "2014-02-01", "--note", "chờ hướng dẫn"]):
        assert runner.invoke(app, args, env=env).exit_code == 0
    return env


def _words(value) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [] if value in (None, "") else [str(value)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(LISTINGS)), width=st.integers(60, 200))
def test_every_listing_keeps_its_values_whole_at_any_width(progress_db, name, width):
    import json

    from typer.testing import CliRunner

    from civreform.cli import app

    args, protected = LISTINGS[name]
    runner = CliRunner()
    env = {**progress_db, "COLUMNS": str(width)}
    rows = json.loads(runner.invoke(app, [*args, "--format", "json"], env=env).stdout)
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.stderr
    table = result.stdout
    assert max(map(len, table.splitlines())) <= width
    left_out = result.stderr.split(": ", 2)[-1] if "left out" in result.stderr else ""
    for row in rows:
        for key, header in protected.items():
            if header in left_out.split(" (")[0].split(", "):
                continue
            for value in _words(row[key]):
                assert any(value in line for line in table.splitlines()), (name, width, key, value)
