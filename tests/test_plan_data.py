"""The bundled plan file against the official source text."""

from __future__ import annotations

import re
from datetime import date

import pytest

from civreform.deadlines import milestones_for
from civreform.phrases import parse_time_text
from civreform.errors import DeadlineError
from civreform.plan import read_plan_file
from tests.conftest import PLAN, ROOT, SOURCE

SHARED_SOURCE = ROOT.parent / "shared" / "source" / "plan_55_KH-UBND_2013.vi.txt"


def squash(text: str) -> str:
    """Text with all whitespace removed: extraction lost spaces, the words are authoritative."""
    return re.sub(r"\s+", "", text)


def appendix_rows() -> list[dict]:
    """The 22 rows of the appendix table, read from the source text itself."""
    text = SOURCE.read_text(encoding="utf-8")
    table = text.split("\nThời gian\n", 1)[1]
    blocks = [b.strip() for b in table.strip().split("\n\n")]
    rows = []
    for start in range(0, len(blocks), 5):
        tt, content, lead, support, time_text = blocks[start:start + 5]
        rows.append({"id": tt, "content": content, "lead_text": lead, "support_text": support,
                     "time_text": time_text})
    return rows


@pytest.fixture(scope="module")
def plan():
    return read_plan_file(PLAN)


def test_source_copy_matches_shared_source():
    if not SHARED_SOURCE.exists():
        pytest.skip("../shared is not beside this checkout")
    assert SOURCE.read_bytes() == SHARED_SOURCE.read_bytes()


def test_appendix_has_22_rows_in_the_source():
    rows = appendix_rows()
    assert [r["id"] for r in rows] == [str(n) for n in range(1, 23)]


@pytest.mark.parametrize("row", appendix_rows(), ids=lambda r: f"task-{r['id']}")
def test_every_appendix_row_is_transcribed_verbatim(plan, row):
    task = next(t for t in plan.tasks if t.id == row["id"])
    for field in ("content", "lead_text", "support_text", "time_text"):
        assert squash(getattr(task, field)) == squash(row[field]), field


def test_appendix_tasks_are_1_to_22_in_order(plan):
    appendix = [t.id for t in plan.tasks if t.section == "appendix"]
    assert appendix == [str(n) for n in range(1, 23)]


def test_section_iv_obligations_are_quoted_from_the_source(plan):
    source = squash(SOURCE.read_text(encoding="utf-8"))
    obligations = [t for t in plan.tasks if t.section != "appendix"]
    assert {t.id for t in obligations} == {"IV.2-plan", "IV.2-report", "IV.1-review", "IV.1-final"}
    for task in obligations:
        assert not task.id.isdigit()
        for field in ("content", "time_text", "lead_text", "support_text"):
            assert squash(getattr(task, field)) in source, (task.id, field)


def test_impossible_31_september_is_kept_raw_and_read_as_30_september(plan):
    task = next(t for t in plan.tasks if t.id == "IV.2-plan")
    assert "31/9/2013" in task.time_text
    assert [m.due for m in task.milestones] == [date(2013, 9, 30)]
    assert "31/9/2013" in task.note and "30/09/2013" in task.note
    with pytest.raises(DeadlineError, match="31/9/2013"):
        parse_time_text(task.time_text)


def test_every_time_text_agrees_with_its_structured_deadline(plan):
    checked = 0
    for task in plan.tasks:
        if task.id == "IV.2-plan":
            continue  # the impossible date, checked above
        parsed = milestones_for(parse_time_text(task.time_text), plan.period_start, plan.period_end)
        assert [m.due for m in parsed] == [m.due for m in task.milestones], (task.id, task.time_text)
        checked += 1
    assert checked == len(plan.tasks) - 1


def test_metadata(plan):
    assert plan.number == "55/KH-UBND"
    assert plan.issued == date(2013, 8, 14)
    assert plan.period_start == date(2013, 9, 1) and plan.period_end == date(2015, 12, 31)
    assert plan.meta["signer"] == "Nguyễn Văn Tuấn"
    assert len(plan.meta["legal_bases"]) == 5


def test_planning_and_investment_is_one_agency(plan):
    codes = {t.id: t.lead for t in plan.tasks}
    assert codes["14"] == codes["15"] == ["skhdt"]
    skhdt = plan.agency("skhdt")
    assert skhdt.name == "Sở Kế hoạch và Đầu tư" and "Sở Kế hoạch&Đầu tư" in skhdt.aliases


def test_groups_and_members(plan):
    departments = {a.code for a in plan.agencies if a.kind == "department"}
    assert set(plan.agency("sbn").members) == departments
    named_departments = {code for t in plan.tasks for code in t.lead + t.support
                         if plan.agency(code).kind == "department"}
    assert named_departments <= departments
    districts = [plan.agency(code).name for code in plan.agency("ubnd-huyen").members]
    assert len(districts) == 10
    assert districts[0] == "Thành phố Nam Định" and "Huyện Hải Hậu" in districts
    for code in ("cqlq", "snlq", "dvsn-dn"):
        assert plan.agency(code).kind == "group"


def test_task_13_has_two_labelled_milestones(plan):
    task = next(t for t in plan.tasks if t.id == "13")
    assert [(m.label, m.due) for m in task.milestones] == [
        ("pilot", date(2014, 3, 31)), ("all-units", date(2015, 3, 31))]
    assert task.target["percent"] == 80


def test_yearly_tasks_recur_2013_to_2015(plan):
    by_id = {t.id: [m.due for m in t.milestones] for t in plan.tasks}
    assert by_id["1"] == [date(2013, 12, 31), date(2014, 12, 31), date(2015, 12, 31)]
    assert by_id["19"] == [date(2013, 12, 31), date(2014, 12, 31), date(2015, 12, 31)]
    assert by_id["IV.2-report"] == [date(2013, 11, 30), date(2014, 11, 30), date(2015, 11, 30)]
    assert by_id["IV.1-review"] == [date(2013, 12, 15), date(2014, 12, 15), date(2015, 12, 15)]
    assert by_id["16"] == []


def test_every_task_has_english(plan):
    for task in plan.tasks:
        assert task.title and task.title_en and task.content_en, task.id
