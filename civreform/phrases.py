"""Reading a plan's "Thời gian" cell (time_text) into deadline rules, every word accounted for.

The cell is cut into tokens, each a phrase of a closed vocabulary: a period ("Quý IV
năm 2013", "tháng 6", "15/12/2014", "năm 2014 - 2015"), a recurrence ("hàng quý, 6
tháng, năm"), a day inside a period ("ngày 15 của tháng cuối quý"), an event
("sau khi Đề án được phê duyệt"), a label word ("thí điểm"), a word that names what
is done ("triển khai") or one that changes nothing ("hoàn thành"). A part that is
none of these is refused by name: a deadline read wrongly is worse than one not read.
The tokens then combine within each part of the cell between ";" or ",".

Text extraction lost spaces in the source ("Quý IVnăm 2013", "Thườngxuyên"), so the
words of a phrase may touch. Case and Unicode normal form do not matter.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field, replace

from civreform.dates import checked_date
from civreform.deadlines import DeadlineSpec, read_quarter
from civreform.errors import DateInputError, DeadlineError

# Label words: the Vietnamese a plan uses → the stable English label of the milestone.
LABEL_WORDS = (
    (r"thí\s*điểm", "pilot"),
    (r"toàn\s*tỉnh|(?:toàn\s*bộ|tất\s*cả)\s*(?:các\s*)?đơn\s*vị", "all-units"),
    (r"sơ\s*kết", "interim-review"),
    (r"tổng\s*kết", "final-review"),
)
# Words that name what is done by the deadline: kept in label_vi, otherwise no effect.
ACTION_WORDS = (r"thực\s*hiện|triển\s*khai|tổ\s*chức|ban\s*hành|báo\s*cáo|kế\s*hoạch|trình"
                r"|hđnd\s*tỉnh|ubnd\s*tỉnh")
# Words that change no date ("trước" is read on its own: it must come before a day).
IGNORED_WORDS = r"hoàn\s*thành|xong|chậm\s*nhất|trong|vào|thời\s*gian|thời\s*hạn"

_Q = r"(?:(?:iv|iii|ii|i)(?=và|[^ivx\d]|$)|[1-4](?!\d))"  # a quarter; "Quý IVnăm": the space was lost
_JOIN = r"\s*(?:-|–|—|đến|và|,|&)\s*"
_YEAR_AFTER = r"(?:\s*(?:/|năm)\s*(?P<year>\d{4})(?!\d))?"
_EVERY_BASE = rf"(?:(?:6|sáu)\s*tháng(?!\s*(?:đầu|cuối))|tháng(?!\s*\d)|quý(?!\s*{_Q})|năm(?!\s*\d))"
_EVERY_PREFIX = r"(?:định\s*kỳ\s*(?:hàng\s*|hằng\s*|mỗi\s*)?|hàng\s*|hằng\s*|mỗi\s*)"
_SPAN_WORDS = ("-", "–", "—", "đến")


@functools.cache
def _tokens():
    """The token patterns, compiled on first use: most commands never read a phrase."""
    table = [
        ("quarters", rf"quý\s*(?P<items>{_Q}(?:{_JOIN}(?:quý\s*)?{_Q})*){_YEAR_AFTER}"),
        ("months", rf"tháng\s*(?P<items>\d{{1,2}}(?!\d)(?:{_JOIN}(?:tháng\s*)?\d{{1,2}}(?!\d)(?!\s*/\s*\d{{1,2}}(?!\d)))*)"
                   rf"{_YEAR_AFTER}"),
        ("month-year", r"(?P<items>\d{1,2})(?!\d)\s*/\s*(?P<year>\d{4})(?!\d)"),
        ("date", r"(?:ngày\s*)?(?P<day>\d{1,2})(?!\d)\s*/\s*(?P<month>\d{1,2})(?!\d)(?:\s*/\s*(?P<year>\d{4})(?!\d))?"),
        ("date", r"ngày\s*(?P<day>\d{1,2})(?!\d)\s*tháng\s*(?P<month>\d{1,2})(?!\d)"
                 r"(?:\s*(?:/|năm)\s*(?P<year>\d{4})(?!\d))?"),
        ("day", r"ngày\s*(?P<day>\d{1,2})(?!\d)(?!\s*(?:/|tháng\s*\d))(?:\s*(?:của\s*)?tháng\s*cuối\s*(?:của\s*)?"
                r"(?:mỗi\s*)?(?P<of>quý|kỳ|năm|(?:6|sáu)\s*tháng))?"),
        ("half", r"(?:6|sáu)\s*tháng\s*(?P<which>đầu|cuối)\s*(?:của\s*)?năm(?:\s*(?P<year>\d{4})(?!\d))?"),
        ("years", rf"(?:năm|giai\s*đoạn)\s*(?P<items>\d{{4}}(?!\d)(?:{_JOIN}(?:năm\s*)?\d{{4}}(?!\d))*)"),
        ("year-end", r"cuối\s*năm(?:\s*(?P<year>\d{4})(?!\d))?"),
        ("every", rf"{_EVERY_PREFIX}{_EVERY_BASE}(?:\s*(?:,|và|/|&)\s*{_EVERY_PREFIX}?{_EVERY_BASE})*"),
        ("ongoing", r"thường\s*xuyên|liên\s*tục"),
        ("after", r"(?:(?:(?:trong\s*(?:vòng|thời\s*hạn)|chậm\s*nhất|sau)\s*)?(?P<days>\d{1,4})(?!\d)\s*ngày\s*"
                  r"(?P<working>làm\s*việc\s*)?(?:kể\s*)?(?:từ|sau)\s*(?:ngày|khi)|sau\s*(?:khi|ngày))"
                  r"\s*(?P<event>[^;]*)"),
        ("label", "|".join(f"(?:{pattern})" for pattern, _label in LABEL_WORDS)),
        ("action", ACTION_WORDS),
        ("ignored", IGNORED_WORDS),
        ("before", r"trước"),
        ("from", r"từ"),
        ("to", r"đến"),
        ("and", r"và|&"),
        ("dash", r"[-–—]"),
        ("sep", r"[;,]"),
        ("punct", r"[.:()\[\]\"“”'‘’*]+"),
    ]
    compiled = [(kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in table]
    labels = [(re.compile(pattern, re.IGNORECASE), label) for pattern, label in LABEL_WORDS]
    return compiled, labels


@dataclass(eq=False)  # (a token is itself: compared and hashed by identity)
class _Token:
    kind: str
    start: int
    end: int
    match: re.Match
    specs: list[DeadlineSpec] = field(default_factory=list)  # what a period gives
    yearless: bool = False  # a period that names no year ("Quý IV", "15/12")
    span: bool = False  # a span inside one token ("năm 2014 đến năm 2015")


class _Cell:
    """One cell being read: its text (NFC, spaces folded) and how to refuse a part of it."""

    def __init__(self, text: str):
        self.text = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()

    def refuse(self, start: int, end: int, why: str | None = None) -> DeadlineError:
        part = self.text[start:end].strip(" ,;")
        reason = f": {why}" if why else ""
        return DeadlineError(f'cannot read "{part}" in the deadline "{self.text}"{reason}; write a deadline: rule')

    def part(self, token: _Token) -> str:
        return self.text[token.start:token.end]


def parse_time_text(text: str) -> list[DeadlineSpec]:
    """Read a Vietnamese deadline phrase ("Quý IV hàng năm") into deadline rules.

    Every part of the text is read or the whole is refused with a DeadlineError that
    names the part; nothing is guessed. See docs/deadlines.md."""
    return read_phrase(text)


def read_phrase(text: str) -> list[DeadlineSpec]:
    """The deadline rules a "Thời gian" cell gives; DeadlineError naming the part it cannot read."""
    if not isinstance(text, str) or not text.strip():
        raise DeadlineError("an empty deadline phrase")
    cell = _Cell(text)
    tokens = _merge_spans(cell, _scan(cell))
    _check_connectives(cell, tokens)
    dated = next((t for t in tokens if t.specs and not t.yearless and t.kind != "after"), None)
    found = [item for part in _parts(tokens) for item in _read_part(cell, part, dated)]
    _check_dates_beside_recurrences(cell, found)
    specs = [(spec, words) for spec, words, _token in found]
    if not specs:
        if any(t.kind == "ongoing" for t in tokens):
            return [DeadlineSpec("ongoing")]
        raise cell.refuse(0, len(cell.text), "it names no date, period, recurrence or event")
    if len(specs) == 1:
        return [specs[0][0]]
    return _labelled(cell, specs)


def _check_connectives(cell: _Cell, tokens: list[_Token]) -> None:
    """A "trước" must come before a day; "từ" and "đến" only make spans (merged already)."""
    for index, token in enumerate(tokens):
        if token.kind == "before":
            following = next((t for t in tokens[index + 1:] if t.kind != "punct"), None)
            if following is None or following.kind not in ("day", "date"):
                raise cell.refuse(token.start, token.end, '"trước" is read before a day only ("trước ngày 15/12"): '
                                  'before a month or quarter it could mean its first day or its last')
        elif token.kind == "from":
            raise cell.refuse(token.start, token.end, '"từ" alone names when work starts, not a deadline '
                                                      '(a span is "từ PERIOD đến PERIOD")')
        elif token.kind == "to":
            raise cell.refuse(token.start, token.end, 'a span is written "PERIOD - PERIOD" or "từ PERIOD đến PERIOD"')


def _check_dates_beside_recurrences(cell: _Cell, found: list[tuple[DeadlineSpec, list[_Token], _Token]]) -> None:
    """A one-off period beside a recurrence may say when the recurrence starts or ends
    ("Quý I/2014 hàng quý", "Hàng quý, năm 2014"): it is read only when a label word makes
    it a deadline of its own ("Hàng quý; Quý IV/2015 tổng kết")."""
    if not any(spec.recurs for spec, _words, _token in found):
        return
    for spec, words, token in found:
        if not spec.recurs and spec.kind != "after" and _english_label(cell, words) is None:
            raise cell.refuse(token.start, token.end, "beside a recurrence it may say when the recurrence starts "
                                                      "or ends; a label word makes it a deadline of its own")


# ── Cutting the cell into tokens ────────────────────────────────────────────

_WORD = re.compile(r"[^\s;,()]+")


def _scan(cell: _Cell) -> list[_Token]:
    """The cell's tokens, longest match first; a part no token reads is refused."""
    patterns, _labels = _tokens()
    text, tokens, pos = cell.text, [], 0
    while pos < len(text):
        if text[pos] == " ":
            pos += 1
            continue
        best = _longest(patterns, text, pos)
        if best is None:
            raise cell.refuse(pos, _unread_end(patterns, text, pos))
        tokens.append(_read_token(cell, *best))
        pos = best[1].end()
    return tokens


def _longest(patterns, text: str, pos: int) -> tuple[str, re.Match] | None:
    best = None
    for kind, pattern in patterns:
        match = pattern.match(text, pos)
        if match and match.end() > pos and (best is None or match.end() > best[1].end()):
            best = (kind, match)
    return best


def _unread_end(patterns, text: str, pos: int) -> int:
    """Where the unread part starting at pos ends: at the next word that can be read."""
    end = pos
    while True:
        word = _WORD.match(text, end)
        end = word.end() if word else end + 1
        while end < len(text) and text[end] == " ":
            end += 1
        if end >= len(text) or _longest(patterns, text, end) is not None:
            return end


def _read_token(cell: _Cell, kind: str, match: re.Match) -> _Token:
    token = _Token(kind, match.start(), match.end(), match)
    if kind == "quarters":
        quarters = _items(cell, token, [read_quarter(q) for q in re.findall(_Q, match["items"], re.IGNORECASE)])
        token.specs = [DeadlineSpec("quarter", quarter=q) for q in quarters]
    elif kind in ("months", "month-year"):
        months = _items(cell, token, [int(m) for m in re.findall(r"\d+", match["items"])])
        if not all(1 <= m <= 12 for m in months):
            raise cell.refuse(token.start, token.end, f"there is no month {max(months)}")
        token.specs = [DeadlineSpec("month", month=m) for m in months]
    elif kind == "date":
        day, month = int(match["day"]), int(match["month"])
        year = match["year"]
        try:  # without a year: every year, so 29/02 is allowed (it falls on 28/02 in common years)
            checked_date(int(year) if year else 2000, month, day, f"{day}/{month}" + (f"/{year}" if year else ""))
        except DateInputError as error:
            raise cell.refuse(token.start, token.end, str(error)) from None
        token.specs = [DeadlineSpec("date", month=month, day=day)]
    elif kind == "half":
        token.specs = [DeadlineSpec("half", half=1 if match["which"].lower() == "đầu" else 2)]
    elif kind == "years":
        years = _items(cell, token, [int(y) for y in re.findall(r"\d{4}", match["items"])])
        token.specs = [DeadlineSpec("year-end", year=y) for y in years]
    elif kind == "year-end":
        token.specs = [DeadlineSpec("year-end")]
    elif kind == "after":
        token.specs = [_after(cell, token)]
    elif kind == "day" and not 1 <= int(match["day"]) <= 31:
        raise cell.refuse(token.start, token.end, f"there is no day {int(match['day'])} in a month")
    if token.specs and kind not in ("years", "after"):
        year = match["year"]
        if year is None:
            token.yearless = True
            token.specs = [replace(spec, yearly=True) for spec in token.specs]
        else:
            token.specs = [replace(spec, year=int(year)) for spec in token.specs]
    for spec in token.specs:
        if spec.year is not None and not 1900 <= spec.year <= 2200:
            raise cell.refuse(token.start, token.end, f"{spec.year} is not a plausible year")
    return token


def _items(cell: _Cell, token: _Token, values: list[int]) -> list[int]:
    """The periods a list ("Quý II và Quý IV") or a span ("Quý I - II") names: a span is
    due when its last period ends, so it gives that one."""
    if len(values) == 1:
        return values
    joins = {j.strip().lower() for j in re.findall(_JOIN, token.match["items"], re.IGNORECASE)}
    if joins <= set(_SPAN_WORDS):
        if len(values) != 2:
            raise cell.refuse(token.start, token.end, "a span has two ends")
        if values[0] >= values[1]:
            raise cell.refuse(token.start, token.end, "a span runs from an earlier period to a later one")
        token.span = True
        return values[-1:]
    if joins & set(_SPAN_WORDS):
        raise cell.refuse(token.start, token.end, "it mixes a span and a list")
    if len(set(values)) != len(values):
        raise cell.refuse(token.start, token.end, "it names the same period twice")
    return values


# The event of a conditional deadline is free text, but a date inside it would be lost.
_DATE_LIKE = re.compile(r"\d{4}|\d{1,2}\s*/\s*\d{1,2}|quý\s*" + _Q + r"|tháng\s*\d|\d+\s*tháng|năm\s*\d",
                        re.IGNORECASE)


def _after(cell: _Cell, token: _Token) -> DeadlineSpec:
    match = token.match
    if match["working"]:
        raise cell.refuse(token.start, match.end("working"), "working days depend on the holidays of each year")
    event = match["event"].strip().rstrip(".:)").strip()
    if not event:
        raise cell.refuse(token.start, token.end, "it names no event")
    if _DATE_LIKE.search(event):
        raise cell.refuse(match.start("event"), match.end("event"), "a date inside the event of a conditional deadline")
    days = int(match["days"]) if match["days"] else None
    if days is not None and not 1 <= days <= 3660:
        raise cell.refuse(token.start, token.end, "the number of days must be 1 or more")
    return DeadlineSpec("after", after_event=event, after_days=days)


def _merge_spans(cell: _Cell, tokens: list[_Token]) -> list[_Token]:
    """PERIOD - PERIOD, PERIOD đến PERIOD and từ PERIOD đến PERIOD: one deadline, the later."""
    merged: list[_Token] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        start = index + 1 if token.kind == "from" else index
        window = tokens[start:start + 3]
        if token.kind == "from" and window and window[0].span:  # "từ năm 2014 đến năm 2015"
            span = window[0]
            merged.append(replace(span, start=token.start))
            index += 2
        elif (len(window) == 3 and window[1].kind in ("dash", "to") and _is_period(window[0])
                and _is_period(window[2])):
            first, last = window[0], window[2]
            if first.yearless or last.yearless or len(first.specs) != 1 or len(last.specs) != 1:
                raise cell.refuse(token.start, last.end, "each end of a span needs its own year")
            if first.specs[0].due_in(first.specs[0].year) >= last.specs[0].due_in(last.specs[0].year):
                raise cell.refuse(token.start, last.end, "a span runs from an earlier period to a later one")
            merged.append(_Token("span", token.start, last.end, last.match, last.specs))
            index = start + 3
        else:
            merged.append(token)
            index += 1
    return merged


def _is_period(token: _Token) -> bool:
    return bool(token.specs) and token.kind != "after"


# ── Combining the tokens of each part ───────────────────────────────────────

def _parts(tokens: list[_Token]) -> list[list[_Token]]:
    """The cell cut at ";" and ",": a part with no deadline of its own (only words)
    goes with the one before it (or after it, when it comes first)."""
    parts: list[list[_Token]] = [[]]
    for token in tokens:
        if token.kind == "sep":
            parts.append([])
        else:
            parts[-1].append(token)
    merged: list[list[_Token]] = []
    pending: list[_Token] = []
    for part in parts:
        if any(_gives(t) for t in part):
            merged.append(pending + part)
            pending = []
        elif merged:
            merged[-1].extend(part)
        else:
            pending.extend(part)
    if pending:
        merged.append(pending)
    return merged


def _gives(token: _Token) -> bool:
    """Whether a token gives deadlines (a period, a recurrence, an event)."""
    return bool(token.specs) or token.kind == "every"


def _read_part(cell: _Cell, part: list[_Token], dated: _Token | None) -> list[tuple[DeadlineSpec, list[_Token], _Token]]:
    """The deadlines of one part of the cell, each with the label words that go with it."""
    periods = [t for t in part if t.specs and t.kind != "after"]
    yearless = [t for t in periods if t.yearless]
    yearly_words = [t for t in part if t.kind == "every" and _every_items(t) == ["năm"]]
    givers: list[_Token] = []
    for token in part:
        if token.kind == "every":
            if yearless:
                if token not in yearly_words:
                    raise cell.refuse(token.start, token.end, "a recurrence beside a period that names no year")
                continue  # "Quý IV hàng năm": the quarter, every year
            if token in yearly_words and periods:
                raise cell.refuse(token.start, token.end, "the period beside it names its year")
            token.specs = _every_specs(token)
        if token.specs:
            givers.append(token)
    if yearless and not yearly_words and dated is not None:
        token = yearless[0]
        raise cell.refuse(token.start, token.end,
                          f'it names no year while "{cell.part(dated)}" does (add the year, or "hàng năm")')
    days = [t for t in part if t.kind == "day"]
    if len(days) > 1:
        raise cell.refuse(days[1].start, days[1].end, "one day per deadline")
    if days:
        if not givers:
            raise cell.refuse(days[0].start, days[0].end, "a day with no month, period or recurrence")
        for giver in givers:
            giver.specs = [_with_day(cell, spec, days[0]) for spec in giver.specs]
    words = _label_words(cell, part, givers)
    return [(spec, words[giver], giver) for giver in givers for spec in giver.specs]


def _every_items(token: _Token) -> list[str]:
    found = re.findall(r"(?:6|sáu)\s*tháng|tháng|quý|năm", token.match.group(0), re.IGNORECASE)
    return [("6 tháng" if item[0] in "6sS" else item.lower()) for item in found]


def _every_specs(token: _Token) -> list[DeadlineSpec]:
    kinds = {"tháng": "monthly", "quý": "quarterly", "6 tháng": "half-yearly"}
    items = list(dict.fromkeys(_every_items(token)))
    return [DeadlineSpec(kinds[item]) if item in kinds else DeadlineSpec("year-end", yearly=True) for item in items]


# Which "tháng cuối ..." a day inside a period may name, by the kind of the deadline.
_DAY_OF = {
    "monthly": (None,), "month": (None,),
    "quarterly": ("quý", "kỳ"), "quarter": ("quý", "kỳ"),
    "half-yearly": ("quý", "kỳ", "6 tháng"), "half": ("quý", "kỳ", "6 tháng"),
    "year-end": ("quý", "kỳ", "năm", "6 tháng"),
}


def _with_day(cell: _Cell, spec: DeadlineSpec, token: _Token) -> DeadlineSpec:
    """A deadline due on a day of its period's last month ("trước ngày 15 của tháng cuối quý")."""
    day, of = int(token.match["day"]), token.match["of"]
    of = None if of is None else ("6 tháng" if of[0] in "6sS" else of.lower())
    if of not in _DAY_OF.get(spec.kind, ()):
        raise cell.refuse(token.start, token.end, 'say which month the day is in ("ngày 15 hàng tháng", '
                                                  '"ngày 15 của tháng cuối quý")')
    if spec.kind in ("monthly", "quarterly", "half-yearly"):
        return replace(spec, day=day)  # (a day past a month's end falls on its last day)
    month = spec.month_in_year
    try:
        checked_date(spec.year or 2000, month, day, f"{day}/{month}" + (f"/{spec.year}" if spec.year else ""))
    except DateInputError as error:
        raise cell.refuse(token.start, token.end, str(error)) from None
    return DeadlineSpec("date", year=spec.year, month=month, day=day, yearly=spec.yearly)


def _label_words(cell: _Cell, part: list[_Token], givers: list[_Token]) -> dict[_Token, list[_Token]]:
    """The label and action words of each deadline of a part: all of them when it has one
    deadline; with several, the words after each ("Quý I/2014 thí điểm Quý I/2015 toàn
    tỉnh"), or before each when the part starts with words ("Sơ kết tháng 6/2014 …")."""
    gaps: list[list[_Token]] = [[]]
    for token in part:
        if token in givers:
            gaps.append([])
        elif token.kind in ("label", "action"):
            gaps[-1].append(token)
    if len(givers) <= 1:
        return {g: gaps[0] + gaps[-1] for g in givers}
    if gaps[0] and gaps[-1]:
        raise cell.refuse(gaps[0][0].start, gaps[0][-1].end,
                          "with several deadlines, words both before the first and after the last are unclear")
    if gaps[0]:
        return {g: gaps[i] for i, g in enumerate(givers)}
    return {g: gaps[i + 1] for i, g in enumerate(givers)}


# ── Labels of the deadlines of one cell ─────────────────────────────────────

def _labelled(cell: _Cell, found: list[tuple[DeadlineSpec, list[_Token]]]) -> list[DeadlineSpec]:
    """Several deadlines in one cell: each gets the English label of its label word
    ("thí điểm" → pilot) and its words as label_vi; a one-off deadline without a label
    word is labelled by its period (2014-q1); recurring ones are told apart by their
    periods, or, when two would share them, labelled by their period in the year (q2)."""
    specs = []
    for spec, words in found:
        label_vi = cell.text[words[0].start:words[-1].end] if words else None
        label = _english_label(cell, words)
        if label is None and not spec.recurs:
            label = _period_label(spec)
        specs.append(replace(spec, label=label, label_vi=label_vi))
    clashing = _clashes(specs)
    if clashing:
        specs = [replace(s, label=_period_label(s)) if i in clashing else s for i, s in enumerate(specs)]
        # (a one-off labelled by its period could share a label with a recurrence's milestone)
        if _clashes(specs) or (any(not specs[i].recurs for i in clashing) and any(s.recurs for s in specs)):
            raise DeadlineError(f'the deadline "{cell.text}" names the same deadline twice; write a deadline: rule')
    return specs


def _english_label(cell: _Cell, words: list[_Token]) -> str | None:
    """The English label of a deadline's label word ("thí điểm" → pilot), if it has one."""
    _patterns, label_patterns = _tokens()
    english = {label for token in words if token.kind == "label"
               for pattern, label in label_patterns if pattern.fullmatch(cell.part(token))}
    return english.pop() if len(english) == 1 else None


def _clashes(specs: list[DeadlineSpec]) -> set[int]:
    """The specs whose milestones would share labels."""
    keys: dict[tuple, list[int]] = {}
    for index, spec in enumerate(specs):
        shape = spec.kind if spec.kind in ("monthly", "quarterly", "half-yearly") else spec.recurs
        keys.setdefault((spec.label, shape), []).append(index)
    return {i for indexes in keys.values() if len(indexes) > 1 for i in indexes}


def _period_label(spec: DeadlineSpec) -> str | None:
    """A deadline's period as a label: 2014-q1 (once) or q1 (each year, then 'q1-2014')."""
    prefix = "" if spec.yearly else f"{spec.year}-"
    if spec.kind == "quarter":
        return f"{prefix}q{spec.quarter}"
    if spec.kind == "half":
        return f"{prefix}h{spec.half}"
    if spec.kind == "month":
        return f"{prefix}{spec.month:02d}"
    if spec.kind == "date":
        return f"{spec.year}-{spec.month:02d}-{spec.day:02d}" if not spec.yearly else f"{spec.day:02d}-{spec.month:02d}"
    if spec.kind == "year-end":
        return str(spec.year) if not spec.yearly else "year"
    if spec.kind == "after":
        return "after"
    return spec.label  # a recurrence: its periods are its labels
