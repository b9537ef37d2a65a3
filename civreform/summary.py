"""The weekly summary as plain text or Markdown: no colour, no box drawing, lines
under 100 characters, and the same bytes for the same data (so weeks diff)."""

from __future__ import annotations

from civreform.render import STANDING_LABELS_VI, visible

WIDTH = 99
STANDING_NAMES = {
    "en": {"done-on-time": "done on time", "done-late": "done late", "within-deadline": "within deadline",
           "overdue": "overdue", "ongoing": "ongoing tasks (no due date)"},
    "vi": {**STANDING_LABELS_VI, "ongoing": "thường xuyên (không có hạn)"},
}


def _fit(prefix: str, text: str, width: int = WIDTH) -> str:
    """prefix + text on one line of at most width characters, control characters made visible."""
    line = prefix + visible(" ".join(text.split()))
    return line if len(line) <= width else line[: width - 1] + "…"


def _title(item: dict, lang: str) -> str:
    return (item.get("title_en") if lang == "en" else None) or item.get("title") or ""


def _milestone_line(item: dict, lang: str, md: bool) -> str:
    units = f" {item['units_done']}/{item['units']} done" if item.get("units", 1) > 1 else ""
    head = (f"task {item['task']} {item['milestone']}, due {item['due']}, {','.join(item['lead'])}, "
            f"{item['status']}{units}: ")
    return _fit("- " if md else "  ", head + _title(item, lang))


def _sections(data: dict, lang: str, md: bool) -> list[tuple[str, list[str]]]:
    names = STANDING_NAMES[lang]
    counts = data["counts"]
    width = max(len(n) for n in names.values())
    standing_lines = [f"{'- ' if md else '  '}{names[key]:<{width}}  {counts[key]:>6}" for key in names]
    share = f"{data['share_done'] * 100:.0f}%"
    standing_lines.append(f"{'- ' if md else '  '}{'share done':<{width}}  {share:>6} "
                          f"({data['done']} of {data['milestones']} milestones)")
    changes = []
    for event in data["changes"]:
        who = f" {event['agency']}" if event["agency"] else ""
        percent = "" if event["percent"] is None else f" {event['percent']}%"
        milestone = f" {event['milestone']}" if event["milestone"] else ""
        text = f"{event['on']} task {event['task']}{milestone}{who}: {event['status']}{percent}"
        if event["note"]:
            text += f" — {event['note']}"
        changes.append(_fit("- " if md else "  ", text))
    ranking = [
        _fit(f"{'- ' if md else '  '}{row['overdue']:>4}  {row['agency']:<12} ",
             (row["name_en"] if lang == "en" else "") or row["name"])
        for row in data["agencies_by_overdue"]
    ]
    days = data["days"]
    return [
        ("Milestones by standing", standing_lines),
        (f"Progress recorded for the last {days} days ({len(changes)})", changes),
        (f"Became overdue in the last {days} days ({len(data['became_overdue'])})",
         [_milestone_line(i, lang, md) for i in data["became_overdue"]]),
        (f"Due in the next {days} days ({len(data['due_soon'])})",
         [_milestone_line(i, lang, md) for i in data["due_soon"]]),
        (f"Due in the next 30 days ({len(data['due_30'])})",
         [_milestone_line(i, lang, md) for i in data["due_30"]]),
        ("Agencies by overdue milestones", ranking),
    ]


def _heading(data: dict) -> tuple[str, str]:
    plans = ", ".join(f"{p['number']} ({p['plan']})" for p in data["plans"]) or "no plan loaded"
    period = data["period"]
    return (_fit("civreform summary: ", plans),
            _fit("", f"As of {data['as_of']}; the last {data['days']} days are {period['from']} to {period['to']}."))


def as_text(data: dict, lang: str = "en") -> str:
    title, subtitle = _heading(data)
    lines = [title, subtitle]
    for heading, body in _sections(data, lang, md=False):
        lines += ["", heading, *(body or ["  (none)"])]
    return "\n".join(lines) + "\n"


def as_markdown(data: dict, lang: str = "en") -> str:
    title, subtitle = _heading(data)
    lines = [f"# {title}", "", subtitle]
    for heading, body in _sections(data, lang, md=True):
        escaped = [line.replace("|", "\\|") for line in body]
        lines += ["", f"## {heading}", "", *(escaped or ["- (none)"])]
    return "\n".join(lines) + "\n"
