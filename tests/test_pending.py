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


def test_a_plan_of_time_text_only_lists_what_the_structured_plan_lists(cli, tmp_path):
    """Every task's deadline read from its words alone gives the same milestones, and so
    the same overdue listings, as the transcribed deadline: rules."""
    import re

    words_only = copy_plan(tmp_path, lambda text: re.sub(
        r"^    deadline:(?: [^\n]*\n|\n(?:      [^\n]*\n)+)", "", text, flags=re.M).replace(
        "id: nd-55-2013", "id: nd-55-words", 1)
        # the source's impossible 31/9/2013 is refused, as it should be; the plan's rule says 30/09
        .replace("xong trước ngày 31/9/2013", "xong trước ngày 30/9/2013"))
    assert "deadline:" not in words_only.read_text(encoding="utf-8").split("tasks:", 1)[1]
    cli("load")
    cli("load", words_only)
    for day in ("2013-10-01", "2014-01-01", "2014-06-30", "2015-04-01", "2016-01-01"):
        def listed(plan):
            return [(r["task"], r["milestone"], r["due"]) for r in cli.json("--plan", plan, "overdue", "--as-of", day)]
        assert listed("nd-55-words") == listed("nd-55-2013"), day


def test_structured_rules_recur_wait_and_span(cli, tmp_path):
    def edit(text: str) -> str:
        return (text.replace("    deadline: {quarter: III, year: 2013}\n",
                             "    deadline: {every: quarter, day: 15}\n", 1)
                .replace("    deadline: {quarter: IV, year: 2013}\n",
                         "    deadline: {after: {event: Bộ Nội vụ ban hành hướng dẫn, days: 30}}\n", 1))
    cli("load", copy_plan(tmp_path, edit))
    quarterly = cli.json("show", "21")["milestones"]
    assert [m["due"] for m in quarterly][:3] == ["2013-09-15", "2013-12-15", "2014-03-15"]
    assert [m["label"] for m in quarterly][:2] == ["2013-q3", "2013-q4"]
    waiting = cli.json("show", "2")["milestones"][0]
    assert (waiting["standing"], waiting["after_days"]) == ("pending", 30)


def test_a_structured_rule_error_names_its_line(cli, tmp_path):
    plan = copy_plan(tmp_path, lambda text: text.replace("    deadline: {quarter: III, year: 2013}\n",
                                                         "    deadline: {every: fortnight}\n", 1))
    result = cli("load", plan, expect=3)
    line = plan.read_text(encoding="utf-8").splitlines().index("    deadline: {every: fortnight}") + 1
    assert f"plan.yaml:{line}:" in result.stderr and "every must be" in result.stderr
