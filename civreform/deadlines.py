"""Pure date logic: quarters, deadline phrases, yearly recurrence, standing on a date.

No I/O and no clock here: every function that needs "today" takes it as an argument.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import date

from civreform.dates import checked_date, days_in_month, month_end
from civreform.errors import DateInputError, DeadlineError

ROMAN_QUARTERS = {"i": 1, "ii": 2, "iii": 3, "iv": 4}

STANDINGS = ("done-on-time", "done-late", "within-deadline", "overdue", "ongoing", "pending")


@dataclass(frozen=True)
class DeadlineSpec:
    """One structured deadline rule, before it is laid out over the plan's years.

    kind is one of quarter, half, month, date, year-end, ongoing. year is None
    when the rule recurs every year of the plan period (yearly=True).
    """

    kind: str
    year: int | None = None
    quarter: int | None = None
    half: int | None = None
    month: int | None = None
    day: int | None = None
    yearly: bool = False
    label: str | None = None
    label_vi: str | None = None

    def due_in(self, year: int) -> date:
        """The due date this rule gives in a given year."""
        if self.kind == "quarter":
            return month_end(year, self.quarter * 3)
        if self.kind == "half":
            return month_end(year, 6 if self.half == 1 else 12)
        if self.kind == "month":
            return month_end(year, self.month)
        if self.kind == "date":
            # A yearly 29/02 falls on the last day of February in common years.
            return date(year, self.month, min(self.day, days_in_month(year, self.month)))
        if self.kind == "year-end":
            return date(year, 12, 31)
        raise DeadlineError(f"a deadline of kind {self.kind!r} has no due date")


@dataclass(frozen=True)
class Milestone:
    label: str
    due: date | None
    label_vi: str | None = None


def quarter_end(year: int, quarter: int) -> date:
    """Q1 ends 31/03 … Q4 ends 31/12 (a quarter's deadline is its last day)."""
    if quarter not in (1, 2, 3, 4):
        raise DeadlineError(f"quarter {quarter} does not exist (quarters are I to IV)")
    return month_end(year, quarter * 3)


def read_quarter(value: object) -> int:
    """A quarter written as I–IV (Roman, any case) or 1–4."""
    text = str(value).strip()
    number = ROMAN_QUARTERS.get(text.lower())
    if number is None and text.isdigit():
        number = int(text)
    if number not in (1, 2, 3, 4):
        raise DeadlineError(f"quarter {text} does not exist (quarters are I to IV)")
    return number


# ── Deadline phrases ────────────────────────────────────────────────────────

def _fold_spaces(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip().lower()


@functools.cache
def _phrase_patterns():
    """The phrase patterns, compiled on first use: most commands never read a phrase."""
    yearly = re.compile(r"hàng\s*năm|hằng\s*năm|mỗi\s*năm|định\s*kỳ\s*năm")
    ongoing = re.compile(r"thường\s*xuyên|liên\s*tục")
    return yearly, ongoing, [
        # 6 tháng đầu năm 2014 / 6 tháng cuối năm 2014
        ("half", re.compile(r"(?:6|sáu)\s*tháng\s*(đầu|cuối)\s*(?:năm\s*(\d{4}))?")),
        # quý IV năm 2013, quý IV/2013, Quý I/2014, quý IV hàng năm
        ("quarter", re.compile(r"quý\s*([ivx]+|\d+)\b\s*(?:(?:năm|/)\s*(\d{4}))?")),
        # ngày 14 tháng 08 năm 2013
        ("date", re.compile(r"ngày\s*(\d{1,2})\s*tháng\s*(\d{1,2})(?:\s*năm\s*(\d{4}))?")),
        # (trước) ngày 30/11/2014, ngày 15/12
        ("date", re.compile(r"ngày\s*(\d{1,2})\s*/\s*(\d{1,2})(?:\s*/\s*(\d{4}))?")),
        # tháng 8/2013, tháng 8 năm 2013
        ("month", re.compile(r"tháng\s*(\d{1,2})\s*(?:/|năm)\s*(\d{4})")),
    ]


def parse_time_text(text: str) -> list[DeadlineSpec]:
    """Read a Vietnamese deadline phrase into structured deadline rules.

    A phrase with several deadlines ("Quý I/2014 thực hiện thí điểm Quý I/2015
    thực hiện tất cả các đơn vị") gives one rule each, labelled by the words that
    follow it. A day or quarter without a year, or any phrase with "hàng năm",
    recurs every year of the plan period. Text that cannot be read raises
    DeadlineError quoting it; nothing is guessed.
    """
    if not isinstance(text, str) or not text.strip():
        raise DeadlineError("an empty deadline phrase")
    folded = _fold_spaces(text)
    yearly, ongoing, patterns = _phrase_patterns()
    yearly_word = bool(yearly.search(folded))

    found: list[tuple[int, int, str, tuple]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in patterns:
        for match in pattern.finditer(folded):
            span = match.span()
            if any(span[0] < end and start < span[1] for start, end in taken):
                continue
            taken.append(span)
            found.append((span[0], span[1], kind, match.groups()))
    found.sort()

    if not found:
        if ongoing.search(folded):
            return [DeadlineSpec(kind="ongoing")]
        if yearly_word:
            return [DeadlineSpec(kind="year-end", yearly=True)]
        raise DeadlineError(f"cannot read the deadline {text!r}")

    specs = [_spec_from_match(kind, groups, text) for _start, _end, kind, groups in found]
    if yearly_word:
        specs = [replace(spec, year=None, yearly=True) for spec in specs]
    if len(specs) > 1:
        ends = [end for _start, end, _kind, _groups in found]
        starts = [start for start, _end, _kind, _groups in found[1:]] + [len(folded)]
        specs = [
            replace(spec, label=_auto_label(spec), label_vi=folded[end:nxt].strip(" ,;.-") or None)
            for spec, end, nxt in zip(specs, ends, starts)
        ]
        labels = [s.label for s in specs]
        if len(set(labels)) != len(labels):
            raise DeadlineError(f"the deadline {text!r} names the same period twice")
    return specs


def _auto_label(spec: DeadlineSpec) -> str:
    year = spec.year if spec.year is not None else "yearly"
    if spec.kind == "quarter":
        return f"{year}-q{spec.quarter}"
    if spec.kind == "half":
        return f"{year}-h{spec.half}"
    if spec.kind == "month":
        return f"{year}-{spec.month:02d}"
    if spec.kind == "date":
        return f"{year}-{spec.month:02d}-{spec.day:02d}"
    return str(year)


def _spec_from_match(kind: str, groups: tuple, text: str) -> DeadlineSpec:
    def year_of(raw: str | None) -> tuple[int | None, bool]:
        if raw is None:
            return None, True  # no year: every year of the plan
        return int(raw), False

    if kind == "half":
        which, raw_year = groups
        year, yearly = year_of(raw_year)
        return DeadlineSpec("half", year=year, half=1 if which == "đầu" else 2, yearly=yearly)
    if kind == "quarter":
        raw_quarter, raw_year = groups
        try:
            quarter = read_quarter(raw_quarter.upper())
        except DeadlineError as error:
            raise DeadlineError(f"cannot read the deadline {text!r}: {error}") from None
        year, yearly = year_of(raw_year)
        return DeadlineSpec("quarter", year=year, quarter=quarter, yearly=yearly)
    if kind == "month":
        raw_month, raw_year = groups
        month = int(raw_month)
        if not 1 <= month <= 12:
            raise DeadlineError(f"cannot read the deadline {text!r}: there is no month {month}")
        return DeadlineSpec("month", year=int(raw_year), month=month)
    # date
    raw_day, raw_month, raw_year = groups
    day, month = int(raw_day), int(raw_month)
    if raw_year is None:
        try:
            checked_date(2000, month, day, f"{day}/{month}")  # 2000: 29/02 allowed
        except DateInputError as error:
            raise DeadlineError(f"cannot read the deadline {text!r}: {error}") from None
        return DeadlineSpec("date", day=day, month=month, yearly=True)
    try:
        checked_date(int(raw_year), month, day, f"{day}/{month}/{raw_year}")
    except DateInputError as error:
        raise DeadlineError(f"cannot read the deadline {text!r}: {error}") from None
    return DeadlineSpec("date", year=int(raw_year), month=month, day=day)


# ── Laying rules out over the plan period ──────────────────────────────────

def milestones_for(
    specs: list[DeadlineSpec], period_start: date | None, period_end: date | None
) -> list[Milestone]:
    """Turn deadline rules into dated milestones.

    A yearly rule gives one milestone for each year of the plan period (labelled
    by the year), skipping a due date before the period starts. Ongoing work has
    no milestone.
    """
    milestones: list[Milestone] = []
    for spec in specs:
        if spec.kind == "ongoing":
            continue
        if spec.yearly:
            if period_start is None or period_end is None:
                raise DeadlineError("a yearly deadline needs the plan's period (start and end)")
            for due in _yearly_dues(spec, period_start, period_end):
                label = str(due.year) if not spec.label else f"{spec.label}-{due.year}"
                milestones.append(Milestone(label, due, spec.label_vi))
        else:
            milestones.append(Milestone(spec.label or "main", spec.due_in(spec.year), spec.label_vi))
    labels = [m.label for m in milestones]
    if len(set(labels)) != len(labels):
        raise DeadlineError("two milestones of one task share a label; give each a label")
    return sorted(milestones, key=lambda m: (m.due, m.label))


def _yearly_dues(spec: DeadlineSpec, start: date, end: date) -> list[date]:
    """Due dates of a yearly rule from the period's first year to its last, inclusive."""
    dues = (spec.due_in(year) for year in range(start.year, end.year + 1))
    return [due for due in dues if due >= start]


# ── Standing on a date ──────────────────────────────────────────────────────

def standing(due, done_on, as_of, *, pending: bool = False) -> str:
    """The Government Office's categories for one milestone on a given day.

    due, done_on and as_of are dates or ISO strings (compared alike). done_on is the
    day the milestone was completed, or None if it was not done by as_of. A milestone
    due on the as-of day itself is still within deadline; one waiting for its
    triggering event (pending) has no due date yet, and one done with no due date is
    on time.
    """
    if done_on is not None and done_on <= as_of:
        if due is None:
            return "done-on-time"
        return "done-on-time" if done_on <= due else "done-late"
    if pending:
        return "pending"
    if due is None:
        return "ongoing"
    return "overdue" if due < as_of else "within-deadline"
