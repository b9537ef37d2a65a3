"""Pure date logic: quarters, phrases, user dates, standing."""

from __future__ import annotations

from datetime import date

import pytest

from civreform.dates import parse_user_date
from civreform.deadlines import (
    DeadlineSpec, Milestone, milestones_for, quarter_end, read_quarter, standing,
)
from civreform.phrases import parse_time_text
from civreform.errors import DateInputError, DeadlineError

START, END = date(2013, 9, 1), date(2015, 12, 31)


def dues(text: str) -> list[date]:
    return [m.due for m in milestones_for(parse_time_text(text), START, END)]


@pytest.mark.parametrize("quarter, expected", [
    (1, date(2014, 3, 31)), (2, date(2014, 6, 30)), (3, date(2014, 9, 30)), (4, date(2014, 12, 31))])
def test_a_quarter_is_due_on_its_last_day(quarter, expected):
    assert quarter_end(2014, quarter) == expected


@pytest.mark.parametrize("written, number", [("I", 1), ("ii", 2), ("III", 3), ("IV", 4), ("4", 4)])
def test_quarters_read_roman_or_arabic(written, number):
    assert read_quarter(written) == number


@pytest.mark.parametrize("written", ["V", "0", "5", "IIII", "x"])
def test_there_is_no_fifth_quarter(written):
    with pytest.raises(DeadlineError, match="does not exist"):
        read_quarter(written)


@pytest.mark.parametrize("text, expected", [
    ("Quý IV năm 2013", [date(2013, 12, 31)]),
    ("Quý I năm 2014", [date(2014, 3, 31)]),
    ("Quý II năm 2014", [date(2014, 6, 30)]),
    ("Quý III năm 2013", [date(2013, 9, 30)]),
    ("quý IV/2013", [date(2013, 12, 31)]),
    ("Quý I/2014", [date(2014, 3, 31)]),
    ("QuýIV năm 2013", [date(2013, 12, 31)]),  # a space lost in extraction
    ("Trình HĐND tỉnh vào quý IV năm 2013", [date(2013, 12, 31)]),
    ("vào quý IV năm 2015", [date(2015, 12, 31)]),
    ("6 tháng đầu năm 2014", [date(2014, 6, 30)]),
    ("6 tháng cuối năm 2014", [date(2014, 12, 31)]),
    ("tháng 8/2013", [date(2013, 8, 31)]),
    ("tháng 2/2016", [date(2016, 2, 29)]),
    ("tháng 2/2014", [date(2014, 2, 28)]),
    ("trước ngày 30/11/2014", [date(2014, 11, 30)]),
    ("ngày 14 tháng 08 năm 2013", [date(2013, 8, 14)]),
    ("trước ngày 15/12", [date(2013, 12, 15), date(2014, 12, 15), date(2015, 12, 15)]),
    ("hàng năm trước ngày 15/12", [date(2013, 12, 15), date(2014, 12, 15), date(2015, 12, 15)]),
    ("Quý IV hàng năm", [date(2013, 12, 31), date(2014, 12, 31), date(2015, 12, 31)]),
    ("Kế hoạch hàng năm", [date(2013, 12, 31), date(2014, 12, 31), date(2015, 12, 31)]),
    ("Thường xuyên", []),
])
def test_deadline_phrases(text, expected):
    assert dues(text) == expected


def test_a_row_with_two_deadlines_gives_two_labelled_milestones():
    specs = parse_time_text("Quý I/2014 thực hiện thí điểm Quý I/2015 thực hiện tất cả các đơn vị")
    milestones = milestones_for(specs, START, END)
    assert [m.due for m in milestones] == [date(2014, 3, 31), date(2015, 3, 31)]
    assert [m.label_vi for m in milestones] == ["thực hiện thí điểm", "thực hiện tất cả các đơn vị"]
    assert len({m.label for m in milestones}) == 2


def test_yearly_occurrences_before_the_plan_starts_are_skipped():
    # Q1 2013 ends before the plan period (from 09/2013) begins.
    assert dues("Quý I hàng năm") == [date(2014, 3, 31), date(2015, 3, 31)]


def test_yearly_29_february_falls_on_28_february_in_common_years():
    spec = DeadlineSpec("date", day=29, month=2, yearly=True)
    due = [m.due for m in milestones_for([spec], date(2015, 1, 1), date(2016, 12, 31))]
    assert due == [date(2015, 2, 28), date(2016, 2, 29)]


@pytest.mark.parametrize("text", ["sớm nhất có thể", "ASAP", "Quý V năm 2013", "tháng 13/2013",
                                  "trước ngày 31/9/2013", "trước ngày 30/02", ""])
def test_unreadable_phrases_are_errors_that_quote_the_text(text):
    with pytest.raises(DeadlineError) as caught:
        parse_time_text(text)
    if text:
        assert f'in the deadline "{text}"' in str(caught.value)
        assert str(caught.value).endswith("; write a deadline: rule")


@pytest.mark.parametrize("typed, expected", [
    ("2014-03-31", date(2014, 3, 31)),
    ("31/03/2014", date(2014, 3, 31)),
    ("1/2/2014", date(2014, 2, 1)),
    ("01/02/2014", date(2014, 2, 1)),  # always day first
    ("12/11/2014", date(2014, 11, 12)),
    ("29/02/2016", date(2016, 2, 29)),
    (" 2016-02-29 ", date(2016, 2, 29)),
])
def test_user_dates_iso_or_day_first(typed, expected):
    assert parse_user_date(typed) == expected


def test_today_is_the_clock_passed_in():
    assert parse_user_date("today", today=date(2014, 5, 6)) == date(2014, 5, 6)


@pytest.mark.parametrize("typed", ["31/09/2013", "2013-09-31", "29/02/2015", "2015-02-29", "13/13/2013",
                                   "03/31/2014", "2014/03/31", "next week", "31-03", ""])
def test_impossible_or_unreadable_dates_are_errors_not_shifted(typed):
    with pytest.raises(DateInputError):
        parse_user_date(typed)


def test_31_september_error_says_why():
    with pytest.raises(DateInputError, match="September 2013 has 30 days"):
        parse_user_date("31/09/2013")


def test_standing_categories():
    due = date(2013, 12, 31)
    assert standing(due, None, date(2013, 12, 31)) == "within-deadline"  # due today: not overdue
    assert standing(due, None, date(2014, 1, 1)) == "overdue"
    assert standing(due, date(2013, 12, 31), date(2014, 6, 1)) == "done-on-time"
    assert standing(due, date(2014, 1, 1), date(2014, 6, 1)) == "done-late"
    assert standing(due, date(2014, 1, 1), date(2013, 12, 31)) == "within-deadline"  # not done yet then
    assert standing(None, None, date(2014, 1, 1)) == "ongoing"


def test_a_labelled_yearly_rule_prefixes_each_year_with_its_label():
    spec = DeadlineSpec("quarter", quarter=4, yearly=True, label="review")
    assert [m.label for m in milestones_for([spec], START, END)] == ["review-2013", "review-2014", "review-2015"]


def test_recurrences_are_labelled_by_their_period():
    specs = [DeadlineSpec("monthly", label="report"), DeadlineSpec("half-yearly")]
    milestones = milestones_for(specs, date(2014, 1, 1), date(2014, 6, 30))
    assert [(m.label, m.due) for m in milestones if m.due.month == 6] == [
        ("2014-h1", date(2014, 6, 30)), ("report-2014-06", date(2014, 6, 30))]
    assert len(milestones) == 7


def test_a_recurring_rule_needs_the_plan_period():
    for spec in (DeadlineSpec("quarterly"), DeadlineSpec("year-end", yearly=True)):
        with pytest.raises(DeadlineError, match="needs the plan's period"):
            milestones_for([spec], None, None)


def test_a_deadline_after_an_event_is_undated_and_comes_last():
    after = DeadlineSpec("after", label="rollout", after_event="Đề án được phê duyệt", after_days=30)
    milestones = milestones_for([after, DeadlineSpec("quarter", year=2014, quarter=1, label="pilot")], START, END)
    assert milestones == [Milestone("pilot", date(2014, 3, 31)),
                          Milestone("rollout", None, None, "Đề án được phê duyệt", 30)]


def test_standing_takes_iso_strings_as_sqlite_holds_them():
    assert standing("2013-12-31", None, "2014-01-01") == "overdue"
    assert standing("2013-12-31", "2013-12-30", date(2014, 1, 1)) == "done-on-time"
    assert standing(None, None, "2014-01-01", pending=True) == "pending"
