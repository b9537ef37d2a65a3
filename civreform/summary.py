"""The weekly summary as plain text or Markdown: no colour, no box drawing, lines
under 100 characters, and the same bytes for the same data (so weeks diff)."""

from __future__ import annotations

from civreform import words
from civreform.render import visible

WIDTH = 99
# The counts the summary lists, in this order.
COUNTED = ("done-on-time", "done-late", "within-deadline", "overdue", "pending", "ongoing")


def _fit(prefix: str, text: str, width: int = WIDTH) -> str:
    """prefix + text on one line of at most width characters, control characters made visible."""
    line = prefix + visible(" ".join(text.split()))
    return line if len(line) <= width else line[: width - 1] + "…"


def _title(item: dict, lang: str) -> str:
    return (item.get("title_en") if lang == "en" else None) or item.get("title") or ""


def _milestone_line(item: dict, lang: str, md: bool) -> str:
    units = words.phrase("summary.units", lang, done=item["units_done"], units=item["units"]) \
        if item.get("units", 1) > 1 else ""
    head = words.phrase("summary.milestone_line", lang, task=item["task"],
                        milestone=words.milestone(item["milestone"], lang), due=words.day(item["due"], lang),
                        lead=",".join(item["lead"]), status=words.status(item["status"], lang), units=units)
    return _fit("- " if md else "  ", head + _title(item, lang))


def _sections(data: dict, lang: str, md: bool) -> list[tuple[str, list[str]]]:
    def say(key: str, **values) -> str:
        return words.phrase(key, lang, **values)

    names = {key: words.standing_words(key, lang) for key in COUNTED}
    names["ongoing"] = say("summary.ongoing_tasks")
    counts = data["counts"]
    width = max(len(n) for n in [*names.values(), say("summary.share_done")])
    bullet = "- " if md else "  "
    standing_lines = [f"{bullet}{names[key]:<{width}}  {counts.get(key, 0):>6}" for key in COUNTED]
    share = f"{data['share_done'] * 100:.0f}%"
    standing_lines.append(f"{bullet}{say('summary.share_done'):<{width}}  {share:>6} "
                          + say("summary.of_milestones", done=data["done"], total=data["milestones"]))
    changes = []
    for event in data["changes"]:
        who = f" {event['agency']}" if event["agency"] else ""
        percent = "" if event["percent"] is None else f" {event['percent']}%"
        milestone = f" {words.milestone(event['milestone'], lang)}" if event["milestone"] else ""
        status = words.status(event["status"], lang) if event["kind"] == "progress" else event["kind"]
        text = say("summary.change", on=words.day(event["on"], lang), task=event["task"], milestone=milestone,
                   who=who, status=status, percent=percent)
        if event["note"]:
            text += f" — {event['note']}"
        changes.append(_fit(bullet, text))
    ranking = [
        _fit(f"{bullet}{row['overdue']:>4}  {row['agency']:<12} ",
             (row["name_en"] if lang == "en" else "") or row["name"])
        for row in data["agencies_by_overdue"]
    ]
    days = data["days"]
    return [
        (say("summary.by_standing"), standing_lines),
        (say("summary.changes", days=days, count=len(changes)), changes),
        (say("summary.became_overdue", days=days, count=len(data["became_overdue"])),
         [_milestone_line(i, lang, md) for i in data["became_overdue"]]),
        (say("summary.due_soon", days=days, count=len(data["due_soon"])),
         [_milestone_line(i, lang, md) for i in data["due_soon"]]),
        (say("summary.due_30", count=len(data["due_30"])), [_milestone_line(i, lang, md) for i in data["due_30"]]),
        (say("summary.agencies"), ranking),
    ]


def _heading(data: dict, lang: str) -> tuple[str, str]:
    plans = ", ".join(f"{p['number']} ({p['plan']})" for p in data["plans"]) \
        or words.phrase("summary.no_plan", lang)
    if data.get("agency"):
        plans += words.phrase("summary.agency", lang, agency=f"{data['agency']['name']} ({data['agency']['code']})")
    period = data["period"]
    return (_fit(words.phrase("summary.title", lang), plans),
            _fit("", words.phrase("summary.as_of", lang, date=words.day(data["as_of"], lang), days=data["days"],
                                  start=words.day(period["from"], lang), end=words.day(period["to"], lang))))


def as_text(data: dict, lang: str = "en") -> str:
    title, subtitle = _heading(data, lang)
    lines = [title, subtitle]
    none = words.phrase("summary.none", lang)
    for heading, body in _sections(data, lang, md=False):
        lines += ["", heading, *(body or [f"  {none}"])]
    return "\n".join(lines) + "\n"


def as_markdown(data: dict, lang: str = "en") -> str:
    title, subtitle = _heading(data, lang)
    lines = [f"# {title}", "", subtitle]
    none = words.phrase("summary.none", lang)
    for heading, body in _sections(data, lang, md=True):
        escaped = [line.replace("|", "\\|") for line in body]
        lines += ["", f"## {heading}", "", *(escaped or [f"- {none}"])]
    return "\n".join(lines) + "\n"
