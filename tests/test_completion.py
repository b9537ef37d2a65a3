"""Shell completion as Typer users expect: commands, options, enum values, and from the
database task ids, milestone labels, plan ids and agency codes, read-only."""

from __future__ import annotations

from tests.conftest import run_module


def complete_bash(words: str, env: dict) -> list[str]:
    line = words.split(" ")
    done = run_module(env={**env, "_CIVREFORM_COMPLETE": "complete_bash", "COMP_WORDS": words,
                           "COMP_CWORD": str(len(line) - 1)})
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_bash_completes_task_ids_agency_codes_and_enum_values(loaded):
    env = {"CIVREFORM_DB": str(loaded)}
    assert {"1", "13", "IV.2-plan"} <= set(complete_bash("civreform show ", env))
    assert complete_bash("civreform show IV.2-r", env) == ["IV.2-report"]
    assert complete_bash("civreform overdue --agency hai", env) == ["hai-hau"]
    assert set(complete_bash("civreform overdue --format ", env)) == {"table", "csv", "json", "markdown"}
    assert complete_bash("civreform record 21 --status d", env) == ["done"]
    assert "pilot" in complete_bash("civreform record 13 --milestone p", env)
    assert complete_bash("civreform --plan nd", env) == ["nd-55-2013"]
    assert "overdue" in complete_bash("civreform ov", env)


def test_zsh_shows_agency_names_as_descriptions(loaded):
    done = run_module(env={"CIVREFORM_DB": str(loaded), "_CIVREFORM_COMPLETE": "complete_zsh",
                           "_TYPER_COMPLETE_ARGS": "civreform overdue --agency hai"})
    assert '"hai-hau":"Huyện Hải Hậu"' in done.stdout


def test_completing_never_creates_a_database(tmp_path):
    missing = tmp_path / "none.db"
    assert complete_bash("civreform show ", {"CIVREFORM_DB": str(missing)}) == []
    assert not missing.exists()


def test_the_completion_scripts_are_offered():
    done = run_module("--show-completion", "bash")
    assert done.returncode == 0 and "_civreform_completion" in done.stdout
