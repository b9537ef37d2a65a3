"""Rows -> Rich table | CSV | JSON | Markdown. The one place that writes output.

CSV, JSON and Markdown never go through a Rich Console (which would wrap and
draw boxes); they are written with csv/json to the stream. Every piece of
user-supplied text reaches a Rich table as a Text object, never as markup, and
with control characters made visible.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Iterator
from typing import IO

FORMATS = ("table", "csv", "json", "markdown")
# What never reaches a terminal as itself: C0 controls except tab and newline, DEL,
# C1 controls (ESC starts ANSI sequences) and the bidirectional overrides and
# isolates, which reorder what follows them on the line ("Trojan Source").
_UNSAFE_ABOVE_C0 = "\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_UNSAFE = "\x00-\x08\x0b-\x1f" + _UNSAFE_ABOVE_C0
_CONTROL = re.compile(f"[{_UNSAFE}]")
_CONTROL_ONE_LINE = re.compile(f"[\t\n{_UNSAFE}]")  # a message is one line
_CONTROL_CSV = re.compile(f"(?!\r\n)[{_UNSAFE}]")  # CSV keeps its CRLF line ends
# JSON escapes C0 controls itself, not the rest (escaped as \uXXXX: the same JSON value).
_JSON_RAW = re.compile(f"[{_UNSAFE_ABOVE_C0}]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TABLE_ROW_CAP = 1000
# Ids, dates and numbers stay on one line; long text takes the width that is left.
SHORT_COLUMNS = {"due", "next_due", "on"}
LONG_TEXT_COLUMNS = {"title", "name", "note", "evidence", "content", "reason", "snippet"}
OPTIONAL_COLUMNS = {"reason"}  # shown in a table only when some row has one


def visible(text: str, one_line: bool = False) -> str:
    """Text for a terminal, with control characters and bidi overrides shown as
    escapes (\\x1b, \\u202e), so none reaches it as such: the one sanitiser for
    everything civreform prints to a person. Tabs and line breaks stay, except in a
    message (`one_line`), which stays one line."""
    return (_CONTROL_ONE_LINE if one_line else _CONTROL).sub(_escape, text)


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def json_text(value, **options) -> str:
    """json.dumps, UTF-8 kept, with DEL, C1 controls and bidi overrides escaped as
    \\uXXXX like the C0 controls json escapes itself: the same value when parsed."""
    import json

    # Such characters stand only inside strings, so each can be escaped where it is.
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False, **options))


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


_FORMULA_FIRST = frozenset(_FORMULA_START)  # each a single character


def csv_cell(value):
    """A value for a spreadsheet: lists joined, and text that a spreadsheet would
    run as a formula (OWASP "CSV injection") prefixed with an apostrophe. Text, numbers
    and None, nearly every cell, are decided by their exact type first: a CSV of 1M
    events is 17M cells."""
    kind = type(value)
    if kind is str:
        return "'" + value if value[:1] in _FORMULA_FIRST else value
    if value is None:
        return ""
    if kind is int:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    text = ",".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


# Output goes to the stream CHUNK_ROWS rows at a time: one write (a system call when
# Python runs unbuffered, PYTHONUNBUFFERED=1, as in many containers) per chunk, not per row.
CHUNK_ROWS = 500


def _hand_over(chunk, out: IO[str], shown=None) -> None:
    """Write what `chunk` holds (through `shown`, if given) to `out`, and empty it."""
    out.write(chunk.getvalue() if shown is None else shown(chunk.getvalue()))
    chunk.seek(0)
    chunk.truncate()


def _is_terminal(out: IO) -> bool:
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty())


def for_terminal_csv(text: str) -> str:
    """CSV shown on a terminal: visible() but for the CRLF line ends. Only on a
    terminal: CSV into a pipe or a file stays byte for byte what the data holds."""
    return _CONTROL_CSV.sub(_escape, text)


def write_csv(rows: Iterable[dict], columns: list[str], out: IO[str], bom: bool = False,
              header: list[str] | None = None) -> int:
    """Rows (dicts) as RFC 4180 CSV (CRLF line ends), one column each, every cell
    through csv_cell (the formula guard); CHUNK_ROWS rows a write. `header`: the
    header row's words, when they are not the column keys."""
    import csv
    import io
    from itertools import islice

    chunk = io.StringIO()
    shown = for_terminal_csv if _is_terminal(out) else None
    if bom:
        chunk.write("\ufeff")
    writer = csv.writer(chunk, lineterminator="\r\n")
    writer.writerow(header or columns)
    values = ([csv_cell(row.get(column)) for column in columns] for row in rows)
    count = 0
    while batch := list(islice(values, CHUNK_ROWS)):
        writer.writerows(batch)
        count += len(batch)
        _hand_over(chunk, out, shown)
    _hand_over(chunk, out, shown)
    return count


def write_json(rows: Iterable[dict], out: IO[str]) -> int:
    """A JSON array written row by row, so a large result streams in constant memory."""
    import io

    chunk = io.StringIO()
    chunk.write("[")
    count = 0
    for row in rows:
        chunk.write(",\n  " if count else "\n  ")
        chunk.write(json_text(row))
        count += 1
        if count % CHUNK_ROWS == 0:
            _hand_over(chunk, out)
    chunk.write("\n]\n" if count else "]\n")
    _hand_over(chunk, out)
    return count


def write_json_object(value: dict, out: IO[str]) -> None:
    out.write(json_text(value, indent=2))
    out.write("\n")


def _markdown_cell(value) -> str:
    """A value in a Markdown table cell: HTML in it shown as text (a mail client renders
    HTML inside Markdown), pipes and backslashes escaped, line breaks as <br>."""
    text = visible(cell_text(value)).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")


def write_markdown(rows: Iterable[dict], columns: list[tuple[str, str]], out: IO[str]) -> int:
    out.write("| " + " | ".join(header for _key, header in columns) + " |\n")
    out.write("|" + "|".join(" --- " for _ in columns) + "|\n")
    count = 0
    for row in rows:
        out.write("| " + " | ".join(_markdown_cell(row.get(key)) for key, _header in columns) + " |\n")
        count += 1
    return count


def make_console(stderr: bool = False):
    from rich.console import Console

    class DataConsole(Console):
        def on_broken_pipe(self) -> None:
            # Rich would exit 1 when the reader goes away (| head); the CLI stops
            # quietly with 0 there, for a table as for CSV.
            self.quiet = True
            raise BrokenPipeError

    # markup/emoji/highlight off: everything we print is data. NO_COLOR: Rich itself
    # drops only the colours, and would still write bold headers in escape codes.
    plain = bool(os.environ.get("NO_COLOR"))
    return DataConsole(stderr=stderr, highlight=False, emoji=False, markup=False,
                       color_system=None if plain else "auto")


# Columns wider than this give up width first, down to it, while others can.
LONG_TEXT_MIN = 24


def column_widths(cells: list[list[str]], headers: list[str], long_text: list[bool], fixed: list[bool],
                  room: int, cell_len=len) -> list[int] | None:
    """Each column's width in a table `room` cells wide, one space between columns.

    Every column starts at its widest line (header included). While the table is too
    wide, the widest column that can still give gives up one cell, in four rounds:
    any column but `fixed` ones down to LONG_TEXT_MIN (a list of codes not below its
    widest code); the other columns, but not `fixed` ones, down to their widest word
    (so ids, statuses and agency codes are never broken); long text down to its widest
    word; anything, down to one cell.

    Rich's own layout levels every wrappable column alike, which at 80 columns left
    the title 10 cells and broke "not-started (0/17)"; it also measures every cell
    twice, which was a quarter of the time of a 34-row table. A table that still does
    not fit gets None: print_table then leaves a column out, never breaking a value."""
    columns = range(len(headers))
    natural = [0 for _ in columns]
    widest_word = [0 for _ in columns]
    for row in (headers, *cells):
        for index in columns:
            text = row[index]
            natural[index] = max(natural[index], *map(cell_len, text.split("\n")))
            widest_word[index] = max(widest_word[index], 0, *map(cell_len, text.split()))
    widths = [max(width, 1) for width in natural]
    excess = sum(widths) + len(widths) - 1 - room
    rounds = (  # (which columns give, down to what)
        ([not fixed[i] for i in columns],
         [LONG_TEXT_MIN if long_text[i] else max(LONG_TEXT_MIN, widest_word[i]) for i in columns]),
        ([not (long_text[i] or fixed[i]) for i in columns], widest_word),
        (long_text, widest_word),
    )
    for gives, floor in rounds:
        while excess > 0:
            candidates = [i for i in columns if gives[i] and widths[i] > max(floor[i], 1)]
            if not candidates:
                break
            widest = max(candidates, key=widths.__getitem__)
            widths[widest] -= 1
            excess -= 1
    return widths if excess <= 0 else None


class _OneLine:
    """A cell that fits its column on one line: its text as one segment. Rich's Text
    would wrap, justify and crop it to the same characters, at 3-4 times the cost."""

    __slots__ = ("segments",)

    def __init__(self, text: str) -> None:
        from rich.segment import Segment

        self.segments = [Segment(text)]

    def __rich_console__(self, console, options):
        return self.segments


def _table_cell(text: str, width: int, cell_len):
    """The renderable for one cell. Tabs and line breaks need Text (it expands and
    breaks them); so do trailing spaces (it trims them, a no-break space too), the
    joiners of emoji sequences (it pads them otherwise) and anything wider than its
    column."""
    if ("\t" in text or "\n" in text or text[-1:].isspace() or "\u200d" in text or "\ufe0f" in text
            or cell_len(text) > width):
        from rich.text import Text

        return Text(text)
    return _OneLine(text)


# Colour by standing on a terminal (never the only signal: the words differ too).
STANDING_STYLES = {"overdue": "red", "done-late": "yellow", "done-on-time": "green", "pending": "cyan"}
BLOCKED_STYLE = "bold magenta"


def print_table(console, headers: list[str], cells: list[list[str]], *, long_text: list[bool],
                fixed: list[bool], title: str | None = None, styles: list[list[str | None]] | None = None) -> None:
    """Print `cells` (text, already made visible) as civreform's tables look: widths
    from column_widths, no outer edge, one space between columns, a rule under each
    header as wide as its column (which shows where "Days late" ends and "Lead"
    begins), and no cell padding (Rich wraps every padded cell in a Padding of its
    own). `fixed` columns (dates) never wrap. `styles`: a Rich style (a colour) for each
    cell or None, as `cells` are laid out; a terminal shows it, a pipe or NO_COLOR not."""
    from rich import box
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    headers = [visible(header) for header in headers]
    left_out = []
    while (widths := column_widths(cells, headers, long_text=long_text, fixed=fixed, room=console.width,
                                   cell_len=cell_len)) is None and len(headers) > 1:
        # Too narrow even with text wrapped to its widest word: leave out the last
        # column (listings put what identifies a row first) rather than cut a value.
        left_out.insert(0, headers[-1])
        headers, long_text, fixed = headers[:-1], long_text[:-1], fixed[:-1]
        cells = [row[:-1] for row in cells]
        styles = [row[:-1] for row in styles] if styles else styles
    if widths is None:
        widths = [console.width]
    if left_out:
        print(visible(f"civreform: {len(left_out)} column(s) left out to fit {console.width} columns: "
                      f"{', '.join(left_out)} (widen the terminal, or use --format csv or json)", one_line=True),
              file=sys.stderr)
    rules_under_headers = box.Box("    \n    \n ─  \n    \n    \n    \n    \n    \n")
    table = Table(title=Text(visible(title)) if title else None, title_justify="left", box=rules_under_headers,
                  show_edge=False, padding=0)
    for header, width, never_wraps in zip(headers, widths, fixed):
        table.add_column(Text(header), width=width, overflow="fold", no_wrap=never_wraps)
    for number, row in enumerate(cells):
        row_styles = styles[number] if styles else [None] * len(row)
        table.add_row(*[_table_cell(text, width, cell_len) if style is None else Text(text, style=style)
                        for text, width, style in zip(row, widths, row_styles)])
    # Widths that fit the console (as column_widths gives them unless there are more
    # columns than half its width) need not be cropped again, line by line.
    console.print(table, crop=sum(widths) + len(widths) - 1 > console.width)


def write_table(rows: Iterable[dict], columns: list[tuple[str, str]], title: str | None = None,
                empty: str = "nothing to show", cap: int = TABLE_ROW_CAP, display=None) -> int:
    """A Rich table on stdout (no escape codes when stdout is not a terminal or NO_COLOR is set).

    Shows the first `cap` rows (after `display`, which only they go through) and
    counts the rest for the notice."""
    from itertools import islice

    from rich.text import Text

    iterator: Iterator[dict] = iter(rows)
    shown = list(islice(iterator, cap))
    # reports.Rows counts the rest without making a dict of each
    extra = iterator.count_rest() if hasattr(iterator, "count_rest") else sum(1 for _ in iterator)
    console = make_console()
    if not shown:
        console.print(Text(visible(empty)))
        return 0
    cells = [[visible(cell_text(row.get(key))) for key, _header in columns]
             for row in (display(shown) if display is not None else shown)]
    styles = [[_cell_style(key, row) for key, _header in columns] for row in shown]
    keep = [i for i, (key, _header) in enumerate(columns)
            if key not in OPTIONAL_COLUMNS or any(row[i] for row in cells)]
    if len(keep) < len(columns):
        columns = [columns[i] for i in keep]
        cells = [[row[i] for i in keep] for row in cells]
        styles = [[row[i] for i in keep] for row in styles]
    names = [key.lstrip("_") for key, _header in columns]
    print_table(console, [header for _key, header in columns], cells, title=title, styles=styles,
                long_text=[name in LONG_TEXT_COLUMNS for name in names], fixed=[name in SHORT_COLUMNS for name in names])
    if extra:
        print(f"civreform: showing the first {cap} of {cap + extra} rows; use --format csv or json for all",
              file=sys.stderr)
    return len(cells) + extra


def _cell_style(key: str, row: dict) -> str | None:
    """A cell's colour: the standing column (or, where a listing has none, the due
    date) by the row's standing; the status column when the row is blocked."""
    name = key.lstrip("_")
    if name == "status" and row.get("status") == "blocked":
        return BLOCKED_STYLE
    if name == "standing" or (name == "due" and "standing" in row):
        return STANDING_STYLES.get(row.get("standing"))
    return None


def write_rows(rows: Iterable[dict], fmt: str, *, columns: list[str], table_columns: list[tuple[str, str]],
               title: str | None = None, empty: str = "nothing to show", bom: bool = False,
               display=None) -> int:
    """Write rows in the chosen format; machine formats carry every column. `display`
    adds the fields only people see (labels in the chosen language) to table and
    Markdown rows; machine formats skip it."""
    out = sys.stdout
    if fmt == "csv":
        return write_csv(rows, columns, out, bom=bom)
    if fmt == "json":
        return write_json(({c: row.get(c) for c in columns} for row in rows), out)
    if fmt == "markdown":
        return write_markdown(display(rows) if display is not None else rows, table_columns, out)
    return write_table(rows, table_columns, title, empty, display=display)


# The Government Office's words for standings, and the usual words for statuses.
def _column(key: str, vi: bool) -> str:
    from civreform import words

    return words.column(key, "vi" if vi else "en")


def _phrase(key: str, vi: bool, **values) -> str:
    from civreform import words

    return words.phrase(key, "vi" if vi else "en", **values)


def _milestone(label: str, vi: bool, label_vi: str | None = None) -> str:
    from civreform import words

    return words.milestone(label, "vi" if vi else "en", label_vi)


def _day(iso: str | None, vi: bool) -> str:
    from civreform import words

    return words.day(iso, "vi" if vi else "en")


def standing_label(value: str | None, vi: bool) -> str:
    """A standing as tables show it: the code, or the Vietnamese report category."""
    from civreform import words

    return words.standing(value, "vi" if vi else "en")


def status_label(value: str | None, vi: bool) -> str:
    from civreform import words

    return words.status(value, "vi" if vi else "en")


def write_task_detail(detail: dict, when, vi: bool = False) -> None:
    """`show` on a terminal: the task's facts, its milestones, and for a task every
    member reports on, who has reported done, milestone by milestone."""
    from rich.table import Table
    from rich.text import Text

    def standing(value):
        return standing_label(value, vi)

    def status(value):
        return status_label(value, vi)

    console = make_console()
    names = detail["agency_names"]

    def agency_list(codes):
        return "; ".join(f"{names[c]['name'] if vi else names[c]['name_en'] or names[c]['name']} ({c})" for c in codes)

    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column(overflow="fold")
    lines = [
        (_column("task", vi), f"{detail['id']} ({detail['plan']})"),
        (_column("title", vi), detail["title"] if vi else detail["title_en"] or detail["title"]),
        (_phrase("show.content", vi), detail["content"] if vi else detail["content_en"] or detail["content"]),
        (_column("lead", vi), agency_list(detail["lead"])),
        (_phrase("show.lead_source", vi), detail["lead_text"]),
        (_phrase("show.support_agencies", vi), agency_list(detail["support"])),
        (_phrase("show.support_source", vi), detail["support_text"]),
        (_phrase("show.deadline_source", vi), detail["time_text"]),
        (_column("standing", vi), standing(detail["standing"])),
    ]
    if detail.get("note"):
        lines.append((_column("note", vi), detail["note"]))
    if detail.get("target"):
        target = detail["target"]
        lines.append((_phrase("show.target", vi), target.get("text" if vi else "text_en") or target.get("text", "")))
    for key, value in lines:
        facts.add_row(Text(key), Text(visible(value or "")))
    console.print(facts)
    if detail["milestones"]:
        cells = []
        for m in detail["milestones"]:
            units = f" ({m['units_done']}/{m['units']})" if m["units"] > 1 else ""
            label = _milestone(m["label"], vi, m["label_vi"])
            cells.append([visible(cell) for cell in (
                label, _day(m["due"], vi), status(m["status"]) + units, "" if m["percent"] is None else f"{m['percent']}%",
                _day(m["done_on"], vi), standing(m["standing"]))])
        print_table(console, [_column("milestone", vi), _column("due", vi), _column("status", vi), "%",
                              _column("done_on", vi), _column("standing", vi)], cells,
                    title=_phrase("show.milestones", vi, date=_day(when.isoformat(), vi)),
                    long_text=[False] * 6, fixed=[False, True, False, False, True, False])
    else:
        console.print(Text(_phrase("show.ongoing", vi) + status(detail.get("status"))))
    if detail["members"]:
        labels = [m["label"] for m in detail["milestones"]]
        by_agency: dict[str, dict] = {}
        for member in detail["members"]:
            entry = by_agency.setdefault(member["agency"], {"name": member["name"]})
            entry[member["milestone"]] = GRID_MARKS[member["standing"]]
        cells = [[visible(f"{entry['name']} ({code})"), *[entry.get(m, "") for m in labels]]
                 for code, entry in by_agency.items()]
        print_table(console, [_column("agency", vi), *map(visible, labels)], cells,
                    title=_phrase("show.by_agency", vi),
                    long_text=[True] + [False] * len(labels), fixed=[False] * (1 + len(labels)))
        console.print(Text("  ".join(f"{mark} {standing(name)}" for name, mark in GRID_MARKS.items()
                                     if name != "ongoing")))
    if detail.get("support_progress"):
        cells = [[visible(cell_text(value)) for value in (
            event["id"], event["agency"], event["milestone"], status(event["status"]),
            "" if event["percent"] is None else f"{event['percent']}%", event["on"], event["note"],
            event["evidence"])] for event in detail["support_progress"]]
        print_table(console, ["#", _column("agency", vi), _column("milestone", vi), _column("status", vi),
                              "%", _column("on", vi), _column("note", vi), _column("evidence", vi)], cells,
                    title=_phrase("show.support", vi),
                    long_text=[False, False, False, False, False, False, True, True],
                    fixed=[True, False, False, False, False, True, False, False])


# One mark a standing in show's grid of members: the mark differs, not only a colour.
GRID_MARKS = {"done-on-time": "✓", "done-late": "✓!", "within-deadline": "·", "overdue": "✗", "pending": "○",
              "ongoing": "~"}


# `show --format csv`: one row per milestone (one row for an ongoing task), each with
# the task's own fields, so that a spreadsheet holds the whole task.
TASK_DETAIL_COLUMNS = ["task", "plan", "section", "title", "title_en", "content", "content_en", "lead", "support",
                       "time_text", "task_standing", "milestone", "label_vi", "due", "status", "percent", "standing",
                       "done_on", "units_done", "units", "reason"]


def task_detail_rows(detail: dict) -> list[dict]:
    task = {"task": detail["id"], "plan": detail["plan"], "section": detail["section"], "title": detail["title"],
            "title_en": detail["title_en"], "content": detail["content"], "content_en": detail["content_en"],
            "lead": ",".join(detail["lead"]), "support": ",".join(detail["support"]),
            "time_text": detail["time_text"], "task_standing": detail["standing"]}
    milestones = detail["milestones"] or [{"label": "", "status": detail.get("status"),
                                           "percent": detail.get("percent"), "standing": "ongoing"}]
    return [{**task, **{key: m.get(key) for key in TASK_DETAIL_COLUMNS if key in m},
             "milestone": m["label"]} for m in milestones]


def write_task_markdown(detail: dict, when, vi: bool, out: IO[str]) -> None:
    """`show --format markdown`: the whole task as a document (for e-mail or a wiki)."""
    names = detail["agency_names"]

    def agencies(codes):
        return "; ".join(f"{names[c]['name'] if vi else names[c]['name_en'] or names[c]['name']} ({c})"
                         for c in codes) or "-"

    title = detail["title"] if vi else detail["title_en"] or detail["title"]
    content = detail["content"] if vi else detail["content_en"] or detail["content"]
    out.write(f"## {_markdown_cell(detail['id'])}. {_markdown_cell(title)}\n\n{_markdown_cell(content)}\n\n")
    for label, value in ((_column("plan", vi), detail["plan"]), (_column("lead", vi), agencies(detail["lead"])),
                         (_phrase("show.support_agencies", vi), agencies(detail["support"])),
                         (_phrase("show.deadline_source", vi), detail["time_text"]),
                         (_column("standing", vi), standing_label(detail["standing"], vi))):
        out.write(f"- **{label}:** {_markdown_cell(value)}\n")
    out.write("\n")
    if detail["milestones"]:
        rows = [{**m, "_standing": standing_label(m["standing"], vi), "_status": status_label(m["status"], vi)}
                for m in detail["milestones"]]
        write_markdown(rows, [("label", _column("milestone", vi)), ("due", _column("due", vi)),
                              ("_status", _column("status", vi)), ("percent", "%"),
                              ("done_on", _column("done_on", vi)), ("_standing", _column("standing", vi)),
                              ("reason", _column("reason", vi))], out)
    if detail["members"]:
        out.write("\n")
        rows = [{**m, "_standing": standing_label(m["standing"], vi), "_status": status_label(m["status"], vi)}
                for m in detail["members"]]
        write_markdown(rows, [("milestone", _column("milestone", vi)), ("agency", _column("agency", vi)),
                              ("_status", _column("status", vi)), ("done_on", _column("done_on", vi)),
                              ("_standing", _column("standing", vi))], out)


# ── timeline ────────────────────────────────────────────────────────────────

# Standings as English tables and the report say them (machine formats keep the codes).
_ROMAN = ("I", "II", "III", "IV")
AS_OF_MARK = "▼"


def standing_words(value: str, vi: bool) -> str:
    """A standing in words: the Vietnamese report category or plain English."""
    from civreform import words

    return words.standing_words(value, "vi" if vi else "en")


def quarter_label(key: str, vi: bool) -> str:
    """2013-Q4 as people write it: Q4/2013, or Quý IV/2013."""
    year, number = key.split("-Q")
    return f"Quý {_ROMAN[int(number) - 1]}/{year}" if vi else f"Q{number}/{year}"


def worst_standing(standings: list[str]) -> str:
    """The standing a quarter's cell shows (in colour) for its milestones: the one a task
    takes from its milestones (reports.TASK_STANDING_ORDER)."""
    from civreform.reports import TASK_STANDING_ORDER

    return next(name for name in TASK_STANDING_ORDER if name in standings)


def timeline_grid(data: dict, vi: bool, two_lines: bool = False
                  ) -> tuple[list[str], list[list[str]], list[list[str | None]]]:
    """The timeline as a grid for people: quarter headers (the as-of quarter marked;
    two_lines: the year under the quarter, for a narrow terminal), and for each task
    its id, title, lead and one cell per quarter holding the marks of the milestones
    due then (an ongoing task: a bar of its mark across every quarter), then the
    number of milestones waiting for their event, with each cell's standing for
    colouring (None for no colour)."""
    quarters = data["quarters"]
    headers = [(AS_OF_MARK if key == data["as_of_quarter"] else "") + quarter_label(key, vi) for key in quarters]
    if two_lines:
        headers = [header.replace("/", "\n") for header in headers]
    cells, standings = [], []
    for task in data["tasks"]:
        title = task["title"] if vi else task["title_en"] or task["title"]
        row = [visible(task["task"]), visible(title), visible(", ".join(task["lead"]))]
        kinds: list[str | None] = [None, None, None]
        for key, header in zip(quarters, headers):
            if task["ongoing"]:
                row.append(GRID_MARKS["ongoing"] * max(map(len, header.split("\n"))))
                kinds.append("ongoing")
                continue
            marks = task["cells"].get(key, [])
            row.append(" ".join(GRID_MARKS[name] for name in marks))
            kinds.append(worst_standing(marks) if marks else None)
        row.append(f"{GRID_MARKS['pending']} {task['pending']}" if task["pending"] else "")
        kinds.append("pending" if task["pending"] else None)
        cells.append(row)
        standings.append(kinds)
    return headers, cells, standings


def timeline_legend(data: dict, vi: bool) -> str:
    """The marks in words, and the as-of quarter's marker."""
    parts = [f"{mark} {standing_words(name, vi)}" for name, mark in GRID_MARKS.items()]
    when = data["as_of"]
    if data["as_of_quarter"]:
        parts.append(f"{AS_OF_MARK} " + (f"quý chứa ngày {vi_date(when)}" if vi else f"the quarter of {when}"))
    return "  ".join(parts)


def vi_date(iso: str | None) -> str:
    """2013-12-31 as Vietnamese writes it: 31/12/2013 (words.day states how)."""
    return _day(iso, True)


def write_timeline(data: dict, fmt: str, vi: bool, title: str, empty: str) -> None:
    """The timeline on a terminal (colour where it is one) or as Markdown, with its legend."""
    console = None
    fits = True
    if fmt != "markdown":
        console = make_console()
        fits = _timeline_fits(timeline_grid(data, vi), console.width)
    headers, cells, standings = timeline_grid(data, vi, two_lines=not fits)
    first = [("ID", "TT"), ("Title", "Nhiệm vụ"), ("Lead", "Chủ trì")]
    names = [vi_word if vi else word for word, vi_word in first] + headers + ["Chờ" if vi else "Waiting"]
    # Optional columns: "waiting" when some task waits; the title only where it can be read.
    show_title = fmt == "markdown" or _timeline_fits((headers, cells, standings), console.width)
    keep = [i for i in range(len(names)) if (i < len(names) - 1 or any(row[-1] for row in cells))
            and (i != 1 or show_title)]
    names = [names[i] for i in keep]
    cells = [[row[i] for i in keep] for row in cells]
    styles = [[STANDING_STYLES.get(kinds[i]) for i in keep] for kinds in standings]
    legend = timeline_legend(data, vi)
    if fmt == "markdown":
        out = sys.stdout
        out.write(f"**{title}**\n\n")
        write_markdown(({str(i): text for i, text in enumerate(row)} for row in cells),
                       [(str(i), name) for i, name in enumerate(names)], out)
        out.write(f"\n{legend}\n")
        return
    from rich.text import Text

    if not cells:
        console.print(Text(empty))
        return
    print_table(console, names, cells, title=title, styles=styles,
                long_text=[i == 1 for i in keep], fixed=[i != 1 for i in keep])
    console.print(Text(legend))


# The title is worth a column when it has at least this many cells.
TIMELINE_TITLE_MIN = 16


def _timeline_fits(grid, width: int) -> bool:
    """Whether the grid's ids, leads (broken at words) and quarter columns leave a
    title column of TIMELINE_TITLE_MIN cells in `width`."""
    headers, cells, _standings = grid
    if not cells:
        return True
    widest = [max(len(line) for text in column for line in text.split("\n")) for column in zip(*cells)]
    lead = max(len(word) for row in cells for word in row[2].split() or [""])
    quarters = sum(max(widest[3 + i], *map(len, header.split("\n"))) + 1 for i, header in enumerate(headers))
    return widest[0] + 1 + lead + 1 + quarters + widest[-1] + TIMELINE_TITLE_MIN <= width
