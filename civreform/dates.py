"""Calendar dates as people type them: plain dates, no time zones. Kept apart from
deadlines.py so that a report that only reads --as-of imports nothing more."""

from __future__ import annotations

import re
from datetime import date

from civreform.errors import DateInputError

MONTH_NAMES = ("", "January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
# The longest period a report looks ahead or back (--days): a hundred years.
MAX_DAYS = 36_500
# The years a typed date may fall in: none before 1900 is plausible, and through 9899
# a date plus MAX_DAYS is still a date Python can hold (9999-12-31 is its last).
FIRST_YEAR, LAST_YEAR = 1900, 9899


def days_in_month(year: int, month: int) -> int:
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _MONTH_DAYS[month - 1]


def month_end(year: int, month: int) -> date:
    return date(year, month, days_in_month(year, month))


def checked_date(year: int, month: int, day: int, written: str) -> date:
    """date(year, month, day), or an error that says why the written date is impossible."""
    if not 1 <= month <= 12:
        raise DateInputError(f"{written!r} is not a real date: there is no month {month}")
    last = days_in_month(year, month)
    if not 1 <= day <= last:
        raise DateInputError(
            f"{written!r} is not a real date: {MONTH_NAMES[month]} {year} has {last} days"
        )
    return date(year, month, day)


_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DAY_FIRST = re.compile(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})")


def parse_user_date(text: str, today: date | None = None) -> date:
    """A date typed by a person: ISO 2014-03-31, day-first 31/03/2014, or 'today'.

    Slash dates are always day first (Vietnamese usage): 01/02/2014 is 1 February.
    An impossible date is an error, never shifted to a neighbour.
    """
    if not isinstance(text, str):
        raise DateInputError(f"not a date: {text!r}")
    value = text.strip()
    if value.lower() in ("today", "hôm nay"):
        if today is None:
            raise DateInputError("'today' is not allowed here")
        return today
    if match := _ISO.fullmatch(value):
        year, month, day = (int(g) for g in match.groups())
    elif match := _DAY_FIRST.fullmatch(value):
        day, month, year = (int(g) for g in match.groups())
    else:
        raise DateInputError(
            f"not a date: {text!r} (write 2014-03-31 or 31/03/2014)"
        )
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise DateInputError(f"{text!r} is not a plausible date (years {FIRST_YEAR} to {LAST_YEAR})")
    return checked_date(year, month, day, value)
