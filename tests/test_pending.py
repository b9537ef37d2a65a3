"""Deadlines that wait for an event ("sau khi có hướng dẫn của Bộ Nội vụ"): pending
until the event is recorded with `trigger`, then due that many days after it."""

from __future__ import annotations

from tests.conftest import copy_plan


def _conditional_plan(tmp_path):
    """The bundled plan with task 3 due 30 days after guidance (a time_text alone, no
    structured deadline)."""
    def edit(text: str) -> str:
        head, task_3 = text.split('  - id: "3"\n', 1)
        task_3 = task_3.replace("    time_text: Quý IV năm 2013\n    deadline: {quarter: IV, year: 2013}\n",
                                "    time_text: Trong vòng 30 ngày kể từ khi có hướng dẫn của Bộ Nội vụ\n", 1)
        return head + '  - id: "3"\n' + task_3
    return copy_plan(tmp_path, edit)


def test_a_deadline_that_waits_is_pending_until_its_event_then_due_after_it(cli, db_path, tmp_path):
    cli("load", _conditional_plan(tmp_path))
    shown = cli.json("show", "3", "--as-of", "2014-06-30")
    [milestone] = shown["milestones"]
    assert (milestone["due"], milestone["standing"], milestone["after_days"]) == (None, "pending", 30)
    assert "hướng dẫn của Bộ Nội vụ" in milestone["after_event"]
    assert shown["standing"] == "pending"
    assert "3" not in {r["task"] for r in cli.json("overdue", "--as-of", "2026-11-27")}  # never overdue
    assert "3" in {t["task"] for t in cli.json("tasks", "--standing", "pending")}
    assert cli.json("summary", "--as-of", "2014-06-30")["counts"]["pending"] == 1
    out = cli("trigger", "3", "--on", "15/03/2014", "--note", "Thông tư 05/2014/TT-BNV").stdout
    assert "now due 2014-04-14" in out
    # before the event happened, still pending; after, dated 30 days on
    assert cli.json("show", "3", "--as-of", "2014-03-01")["milestones"][0]["standing"] == "pending"
    later = cli.json("show", "3", "--as-of", "2014-06-30")["milestones"][0]
    assert (later["due"], later["standing"]) == ("2014-04-14", "overdue")
    overdue = {r["task"]: r for r in cli.json("overdue", "--as-of", "2014-06-30")}
    assert overdue["3"]["days_overdue"] == 77
    # the event is recorded once; a retraction makes it pending again
    assert "already recorded on 2014-03-15" in cli("trigger", "3", "--on", "2014-03-20", expect=3).stderr
    event = next(h for h in cli.json("history", "3") if h["kind"] == "trigger")
    cli("retract", str(event["id"]), "--reason", "the circular was a draft")
    assert cli.json("show", "3", "--as-of", "2014-06-30")["milestones"][0]["standing"] == "pending"


def test_trigger_refuses_a_task_with_no_deadline_that_waits(cli, loaded):
    assert "no deadline that waits for an event" in cli("trigger", "21", "--on", "2014-01-01", expect=3).stderr
