"""The public entry to plan files: read one (YAML or JSON) into a validated Plan; errors name FILE:LINE."""

from __future__ import annotations

from pathlib import Path

from civreform import plan_source
from civreform.errors import PlanFileError
from civreform.model import Agency, Plan, Task
from civreform.validate import CODE_PATTERN, FORMAT, ID_PATTERN, validate_plan

__all__ = ["CODE_PATTERN", "FORMAT", "ID_PATTERN", "Agency", "Plan", "Task", "bundled_plan_path",
           "parse_plan_text", "read_plan_file"]


def read_plan_file(path: str | Path) -> Plan:
    """Read, validate and lay out a plan file. Raises PlanFileError."""
    path = Path(path)
    return parse_plan_text(plan_source.read_text(path), str(path))


def parse_plan_text(text: str, name: str = "<plan>") -> Plan:
    """Validate a plan given as YAML, or as JSON (the same structure; a name ending in
    .json, or text starting with "{").

    JSON values carry no lines: a JSON plan that does not validate is read again as
    YAML (JSON is YAML), so that its error names the line.
    """
    document = plan_source.load_json(text, name) if plan_source.looks_like_json(text, name) else None
    if document is not None:
        try:
            return validate_plan(document, name)
        except PlanFileError as unlocated:
            validate_plan(plan_source.load_yaml(text, name), name)
            raise unlocated from None
    return validate_plan(plan_source.load_yaml(text, name), name)


def bundled_plan_path() -> Path:
    """The plan shipped with civreform, in a wheel or in a source checkout."""
    from importlib.resources import files

    packaged = Path(str(files("civreform"))) / "data" / "plan_55_2013.yaml"
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "data" / "plan_55_2013.yaml"
