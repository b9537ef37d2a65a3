"""Pure date logic: quarters, deadline rules, recurrence, standing on a date.

No I/O and no clock here: every function that needs "today" takes it as an argument.
Deadline phrases (the "Thời gian" cell) are read in civreform.phrases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from civreform.dates import checked_date, days_in_month, month_end, parse_user_date
from civreform.errors import DateInputError, DeadlineError

ROMAN_QUARTERS = {"i": 1, "ii": 2, "iii": 3, "iv": 4}

STANDINGS = ("done-on-time", "done-late", "within-deadline", "overdue", "ongoing", "pending")

# A recurrence through the year: its kind, its `every:` word and the months whose end it marks.
RECURRING = {
    "monthly": ("month", tuple(range(1, 13))),
    "quarterly": ("quarter", (3, 6, 9, 12)),
    "half-yearly": ("half", (6, 12)),
}
_EVERY_KINDS = {every: kind for kind, (every, _months) in RECURRING.items()}


@dataclass(frozen=True)
class DeadlineSpec:
    """One structured deadline rule, before it is laid out over the plan's years.

    kind is one of:
    - quarter, half, month, date, year-end: one period's last day (a date's own day),
      in `year`, or in every year of the plan period when yearly=True;
    - monthly, quarterly, half-yearly: every such period of the plan, due on its last
      day or on `day` of its last month;
    - after: due `after_days` days after an event (`after_event`), or on its day
      when after_days is None; undated until the event is recorded;
    - ongoing: never due.
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
    after_event: str | None = None
    after_days: int | None = None

    def due_in(self, year: int) -> date:
        """The due date this rule gives in a given year."""
        if self.kind == "date":
            # A yearly 29/02 falls on the last day of February in common years.
            return date(year, self.month, min(self.day, days_in_month(year, self.month)))
        if self.kind in ("quarter", "half", "month", "year-end"):
            return month_end(year, self.month_in_year)
        raise DeadlineError(f"a deadline of kind {self.kind!r} has no due date in a year")

    @property
    def month_in_year(self) -> int:
        """The month a once-a-year rule falls in: a quarter's or half's last, December for a year's end."""
        if self.kind == "quarter":
            return self.quarter * 3
        if self.kind == "half":
            return self.half * 6
        return self.month or 12

    @property
    def recurs(self) -> bool:
        """Whether the rule gives one milestone per period of the plan."""
        return self.yearly or self.kind in RECURRING


@dataclass(frozen=True)
class Milestone:
    """One dated deadline of a task; due is None for one that waits for its event (after_event)."""

    label: str
    due: date | None
    label_vi: str | None = None
    after_event: str | None = None
    after_days: int | None = None


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


# ── Structured rules (the `deadline:` field, and specs stored as JSON) ───────

RULE_KEYS = ("quarter", "quarters", "half", "month", "day", "date", "year", "every", "after", "ongoing",
             "label", "label_vi")
LABEL_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_PERIOD_KEYS = ("quarter", "quarters", "half", "month", "date")


def rule_from_mapping(mapping: dict) -> DeadlineSpec:
    """One structured deadline rule ({quarter: IV, year: 2013}, {every: quarter, day: 15},
    {after: {event: ..., days: 30}}, …) as a DeadlineSpec.

    A rule that cannot be read raises DeadlineError naming the offending key; the caller
    adds where it is written.
    """
    if not isinstance(mapping, dict):
        raise DeadlineError("a deadline rule must be a mapping such as {quarter: IV, year: 2013}")
    for key in mapping:
        if key not in RULE_KEYS:
            raise DeadlineError(f"unknown field {key!r} in a deadline (allowed: {', '.join(sorted(RULE_KEYS))})")
    label = _rule_text(mapping, "label")
    if label and not LABEL_PATTERN.fullmatch(label):
        raise DeadlineError(f"deadline label {label!r} must be letters, digits, '.', '_' or '-'")
    common = {"label": label, "label_vi": _rule_text(mapping, "label_vi")}
    for special in ("ongoing", "after"):
        if special in mapping:
            for key in mapping:
                if key not in (special, "label", "label_vi"):
                    raise DeadlineError(f"a deadline with {special} has no {key}")
    if "ongoing" in mapping:
        if mapping["ongoing"] is not True:
            raise DeadlineError("ongoing must be true")
        return DeadlineSpec("ongoing", **common)
    if "after" in mapping:
        event, days = _rule_after(mapping["after"])
        return DeadlineSpec("after", after_event=event, after_days=days, **common)

    every = mapping.get("every")
    if every is not None and (type(every) is not str or every not in (*_EVERY_KINDS, "year")):
        raise DeadlineError("every must be month, quarter, half or year")
    year = mapping.get("year")
    if year is not None and (type(year) is not int or not 1900 <= year <= 2200):
        raise DeadlineError("year must be a year such as 2014")
    if every is not None and year is not None:
        raise DeadlineError(f"give either year or every: {every}, not both")
    kinds = [key for key in _PERIOD_KEYS if key in mapping]
    if len(kinds) > 1:
        raise DeadlineError(f"a deadline has one of quarter, quarters, half, month or date, not {' and '.join(kinds)}")
    kind = kinds[0] if kinds else None
    day = mapping.get("day")
    if day is not None and (type(day) is not int or not 1 <= day <= 31):
        raise DeadlineError("day must be a day of the month, 1 to 31")

    if every in _EVERY_KINDS:
        if kind is not None:
            raise DeadlineError(f"every: {every} gives every {every} of the plan: it takes no {kind} "
                                f"(for one {kind} each year write every: year)")
        return DeadlineSpec(_EVERY_KINDS[every], day=day, **common)
    yearly = every == "year"
    if kind == "date":
        if yearly or year is not None:
            raise DeadlineError("a date deadline carries its own year: write date alone")
        if day is not None:
            raise DeadlineError("day goes with month or every, not with date")
        due = _rule_date(mapping["date"])
        return DeadlineSpec("date", year=due.year, month=due.month, day=due.day, **common)
    if not yearly and year is None:
        raise DeadlineError("the deadline needs a year (or every: year)")
    if day is not None and kind not in ("month", None):
        raise DeadlineError(f"day needs a month (or every), not {kind}")
    if kind in ("quarter", "quarters"):
        quarter = read_quarter(mapping["quarter"]) if kind == "quarter" else _rule_span(mapping["quarters"])
        return DeadlineSpec("quarter", year=year, quarter=quarter, yearly=yearly, **common)
    if kind == "half":
        half = mapping["half"]
        if type(half) is not int or half not in (1, 2):
            raise DeadlineError("half must be 1 or 2")
        return DeadlineSpec("half", year=year, half=half, yearly=yearly, **common)
    if kind == "month":
        month = mapping["month"]
        if type(month) is not int or not 1 <= month <= 12:
            raise DeadlineError("month must be 1 to 12")
        if day is None:
            return DeadlineSpec("month", year=year, month=month, yearly=yearly, **common)
        try:
            checked_date(year if year is not None else 2000, month, day, f"{day}/{month}")  # 2000: 29/02 exists
        except DateInputError as error:
            raise DeadlineError(f"day: {error}") from None
        return DeadlineSpec("date", year=year, month=month, day=day, yearly=yearly, **common)
    if day is not None:  # every: year with a day: that day of December
        return DeadlineSpec("date", month=12, day=day, yearly=True, **common)
    return DeadlineSpec("year-end", year=year, yearly=yearly, **common)


def spec_to_mapping(spec: DeadlineSpec) -> dict:
    """The structured rule of a spec, in JSON types: rule_from_mapping gives the spec back."""
    mapping: dict = {}
    if spec.kind == "ongoing":
        mapping["ongoing"] = True
    elif spec.kind == "after":
        mapping["after"] = {"event": spec.after_event}
        if spec.after_days is not None:
            mapping["after"]["days"] = spec.after_days
    elif spec.kind in RECURRING:
        mapping["every"] = RECURRING[spec.kind][0]
        if spec.day is not None:
            mapping["day"] = spec.day
    elif spec.kind == "date" and not spec.yearly:
        mapping["date"] = date(spec.year, spec.month, spec.day).isoformat()
    else:
        if spec.kind == "quarter":
            mapping["quarter"] = spec.quarter
        elif spec.kind == "half":
            mapping["half"] = spec.half
        elif spec.kind in ("month", "date"):
            mapping["month"] = spec.month
            if spec.kind == "date":
                mapping["day"] = spec.day
        if spec.yearly:
            mapping["every"] = "year"
        else:
            mapping["year"] = spec.year
    if spec.label:
        mapping["label"] = spec.label
    if spec.label_vi:
        mapping["label_vi"] = spec.label_vi
    return mapping


def _rule_text(mapping: dict, key: str) -> str | None:
    value = mapping.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise DeadlineError(f"{key} must be text")
    text = str(value).strip()
    if "\0" in text:
        raise DeadlineError(f"{key} contains a NUL character (\\0)")
    return text or None


def _rule_date(value: object) -> date:
    if type(value) is date:
        return value
    if not isinstance(value, str):
        raise DeadlineError("date must be a date such as 2013-08-14")
    try:
        return parse_user_date(value)
    except DateInputError as error:
        raise DeadlineError(f"date: {error}") from None


def _rule_span(value: object) -> int:
    """`quarters: [1, 2]`: a span of quarters, due when its last one ends."""
    if not isinstance(value, list) or len(value) != 2:
        raise DeadlineError("quarters must be a span of two quarters such as [I, II] (due at the end of the last)")
    try:
        first, last = (read_quarter(item) for item in value)
    except DeadlineError as error:
        raise DeadlineError(f"quarters: {error}") from None
    if first >= last:
        raise DeadlineError("quarters: the first quarter of a span comes before the last")
    return last


def _rule_after(value: object) -> tuple[str, int | None]:
    if not isinstance(value, dict) or not value.keys() <= {"event", "days"}:
        raise DeadlineError("after must be {event: TEXT} or {event: TEXT, days: N}")
    event = value.get("event")
    if not isinstance(event, str) or not event.strip() or "\0" in event:
        raise DeadlineError("after: event must be the text of the event (\"Đề án được phê duyệt\")")
    days = value.get("days")
    if days is not None and (type(days) is not int or not 1 <= days <= 3660):
        raise DeadlineError("after: days must be a whole number of days, 1 or more (leave it out for the event's day)")
    return event.strip(), days


# ── Laying rules out over the plan period ──────────────────────────────────

def milestones_for(
    specs: list[DeadlineSpec], period_start: date | None, period_end: date | None
) -> list[Milestone]:
    """Turn deadline rules into milestones.

    A recurring rule gives one milestone per period of the plan (yearly `2014`,
    quarterly `2014-q1`, half-yearly `2014-h1`, monthly `2014-03`, each after the
    rule's label when it has one), from period_start to period_end inclusive. A
    one-off rule gives one milestone, `main` or its label. A rule after an event
    gives an undated milestone. Ongoing work has none.
    """
    milestones: list[Milestone] = []
    for spec in specs:
        if spec.kind == "ongoing":
            continue
        if spec.kind == "after":
            milestones.append(Milestone(spec.label or "main", None, spec.label_vi, spec.after_event, spec.after_days))
        elif spec.recurs:
            if period_start is None or period_end is None:
                which = "yearly" if spec.yearly else spec.kind
                raise DeadlineError(f"a {which} deadline needs the plan's period (start and end)")
            for due, period in _occurrences(spec, period_start, period_end):
                milestones.append(Milestone(f"{spec.label}-{period}" if spec.label else period, due, spec.label_vi))
        else:
            milestones.append(Milestone(spec.label or "main", spec.due_in(spec.year), spec.label_vi))
    labels = [m.label for m in milestones]
    if len(set(labels)) != len(labels):
        raise DeadlineError("two milestones of one task share a label; give each a label")
    return sorted(milestones, key=lambda m: (m.due is None, m.due or date.min, m.label))


def _occurrences(spec: DeadlineSpec, start: date, end: date) -> list[tuple[date, str]]:
    """(due, period label) of each occurrence of a recurring rule from start to end."""
    from dateutil.rrule import MONTHLY, rrule  # (imported only when a plan is laid out)

    if spec.kind in RECURRING:
        months, day = RECURRING[spec.kind][1], spec.day
        name = {"monthly": "{0.year}-{0.month:02d}", "quarterly": "{0.year}-q{1}", "half-yearly": "{0.year}-h{2}"}
        template = name[spec.kind]
    else:  # yearly: one month of each year
        months = (spec.month_in_year,)
        day = spec.day if spec.kind == "date" else None
        template = "{0.year}"
    if day is None:
        in_month = {"bymonthday": -1}
    else:  # a day past the month's end falls on its last day (a yearly 29/02 on 28/02)
        in_month = {"bymonthday": tuple(range(min(day, 28), day + 1)), "bysetpos": -1}
    rule = rrule(MONTHLY, dtstart=datetime(start.year, start.month, start.day),
                 until=datetime(end.year, end.month, end.day), bymonth=months, **in_month)
    return [(moment.date(), template.format(moment, (moment.month + 2) // 3, (moment.month + 5) // 6))
            for moment in rule]


# ── Standing on a date ──────────────────────────────────────────────────────

def standing(due: date | str | None, done_on: date | str | None, as_of: date | str, *,
             pending: bool = False) -> str:
    """The Government Office's categories for one milestone on a given day.

    done_on is the day the milestone was completed, or None if it was not done by
    as_of. A milestone due on the as-of day itself is still within deadline. One
    that waits for its triggering event (pending=True: the event is not recorded by
    as_of) is pending; done, it is done on time, as is any done milestone without a
    due date. Dates may be `date`s or ISO strings (as SQLite holds them).
    """
    due, done_on, as_of = _plain_date(due), _plain_date(done_on), _plain_date(as_of)
    if done_on is not None and done_on <= as_of:
        return "done-on-time" if due is None or done_on <= due else "done-late"
    if pending:
        return "pending"
    if due is None:
        return "ongoing"
    return "overdue" if due < as_of else "within-deadline"


def _plain_date(value: date | str | None) -> date | None:
    if value is None or type(value) is date:
        return value
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise DeadlineError(f"not an ISO date: {value!r}")
