"""The report to hand up, from views.report_data: one self-contained HTML file
(Jinja2, autoescaped: every note and title people typed is shown as text), or
Markdown for e-mail. Both follow the shape of a provincial monitoring report:
results in the four categories, the timeline, agencies, shortcomings (what is
overdue and why), what comes next, and the progress recorded lately.

Jinja2 is imported here only, and only the report command imports this module.
"""

from __future__ import annotations

import io

from civreform.render import (GRID_MARKS, STANDING_STYLES, standing_words, status_label, timeline_grid,
                              timeline_legend, vi_date, write_markdown)

# The report's words; the Vietnamese ones are the terms provincial reports use.
def _words() -> dict[str, dict[str, str]]:
    """The report's words by language, from the one catalogue (words.REPORT)."""
    from civreform.words import REPORT

    return {"en": {key: pair[0] for key, pair in REPORT.items()}, "vi": {key: pair[1] for key, pair in REPORT.items()}}


WORDS = _words()
CATEGORIES = ("done-on-time", "done-late", "within-deadline", "overdue")


def _context(data: dict, lang: str) -> dict:
    """What both formats show, in the chosen language: dates, names and labels made once."""
    vi = lang == "vi"
    words = WORDS[lang]
    agencies = data["agencies"]
    plan = data["plan"]

    def day(iso):
        return vi_date(iso) if vi else (iso or "")

    def names(codes):
        return "; ".join(agencies.get(c, {}).get("name" if vi else "name_en", c) for c in codes)

    def milestone(task, label):
        """A milestone's label as the plan says it in Vietnamese ("main" is chính)."""
        if not vi:
            return label
        return data["labels_vi"].get((task, label)) or ("chính" if label == "main" else label)

    def rows(items, days_key):
        return [{"task": r["task"], "title": r["title"] if vi else r["title_en"] or r["title"],
                 "milestone": milestone(r["task"], r["milestone"]), "due": day(r["due"]), "days": r[days_key], "lead": names(r["lead"]),
                 "status": status_label(r["status"], vi) + (f" ({r['units_done']}/{r['units']})" if r["units"] > 1
                                                            else ""),
                 "note": r["reason"]} for r in items]

    counts = data["counts"]
    total = data["milestones"]
    categories = [{"key": key, "label": standing_words(key, vi), "count": counts[key],
                   "width": round(100 * counts[key] / total, 2) if total else 0,
                   "style": STANDING_STYLES.get(key, "grey"), "mark": GRID_MARKS[key]} for key in CATEGORIES]
    headers, cells, standings = timeline_grid(data["timeline"], vi)
    issuer = agencies.get(plan["issuer"], {}).get("name" if vi else "name_en", plan["issuer"])
    return {
        "lang": lang, "w": words, "plan": plan, "issuer": issuer, "as_of": day(data["as_of"]),
        "issued": day(plan["issued"]), "period": f"{day(plan['period_start'])} – {day(plan['period_end'])}",
        "plan_title": plan["title"] if vi else plan["title_en"] or plan["title"],
        "signer": plan["signer"], "signer_title": plan["signer_title"] if vi else plan["signer_title_en"],
        "made": words["made"].format(at=_made_at(data["made"]["at"], vi), db=data["made"]["db"]),
        "categories": categories, "counts": counts, "total": total, "done": data["done"],
        "share": f"{data['share_done'] * 100:.0f}%",
        "share_of": words["share_of"].format(done=data["done"], total=total),
        "quarters": headers, "as_of_column": data["timeline"]["quarters"].index(data["timeline"]["as_of_quarter"])
        if data["timeline"]["as_of_quarter"] else None,
        "timeline_rows": [{"cells": row, "standings": kinds, "lead": names(task["lead"])}
                          for row, kinds, task in zip(cells, standings, data["timeline"]["tasks"])],
        "any_waiting": any(row[-1] for row in cells),
        "legend": timeline_legend(data["timeline"], vi),
        "scorecard": [{**row, "shown_name": row["name"] if vi else row["name_en"] or row["name"],
                       "rate": "" if row["on_time_rate"] is None else f"{row['on_time_rate'] * 100:.0f}%"}
                      for row in data["scorecard"]],
        "overdue": rows(data["overdue"], "days_overdue"),
        "upcoming": rows(data["upcoming"], "days_left"),
        "upcoming_title": words["upcoming"].format(days=data["ahead_days"]),
        "recent_title": words["recent"].format(days=data["recent_days"]),
        "recent": [{"on": day(e["on"]), "task": e["task"], "milestone": milestone(e["task"], e["milestone"]),
                    "agency": agencies.get(e["agency"], {}).get("name" if vi else "name_en", e["agency"]),
                    "status": status_label(e["status"], vi)
                    + ("" if e["percent"] is None or e["status"] == "done" else f" {e['percent']}%"),
                    "note": e["note"], "evidence": e["evidence"], "by": e["by"]} for e in data["recent"]],
    }


def _made_at(stamp: str, vi: bool) -> str:
    """'2026-11-27 09:30:00' as the report says it: 27/11/2026 09:30 in Vietnamese."""
    day, _, clock = stamp.partition(" ")
    return f"{vi_date(day)} {clock[:5]}".strip() if vi else stamp[:16]


def as_html(data: dict, lang: str) -> str:
    """The report as one HTML page with its style sheet inside; no script, no link out."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader("civreform", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html.j2").render(**_context(data, lang))


def as_markdown(data: dict, lang: str) -> str:
    """The report as Markdown for an e-mail: the same sections, tables in pipes."""
    c = _context(data, lang)
    w = c["w"]
    out = io.StringIO()

    def table(rows: list[dict], columns: list[tuple[str, str]], empty: str) -> None:
        if rows:
            write_markdown(rows, columns, out)
        else:
            out.write(f"{empty}\n")
        out.write("\n")

    out.write(f"# {w['report']} {w['on_plan']} {c['plan']['number']}\n\n")
    out.write(f"**{c['plan_title']}** ({w['issued']} {c['issued']}, {c['issuer']}; {w['period']} {c['period']})\n\n")
    out.write(f"{w['as_of']}: **{c['as_of']}**. {c['made']}\n\n")
    out.write(f"## {w['results']}\n\n")
    table([{"label": cat["label"], "count": cat["count"]} for cat in c["categories"]]
          + [{"label": w["ongoing_tasks"], "count": c["counts"]["ongoing"]},
             {"label": w["share"], "count": f"{c['share']} ({c['share_of']})"}],
          [("label", w["categories"]), ("count", "#")], "")
    out.write(f"## {w['timeline']}\n\n")
    grid_columns = [w["task"], w["title"], w["lead"], *c["quarters"]] + ([w["waiting"]] if c["any_waiting"] else [])
    table([dict(enumerate(row["cells"])) for row in c["timeline_rows"]], list(enumerate(grid_columns)), "")
    out.write(f"{c['legend']}\n\n")
    out.write(f"## {w['agencies']}\n\n")
    table(c["scorecard"], [("shown_name", w["agency"]), ("done_on_time", w["on_time"]), ("done_late", w["late"]),
                           ("within_deadline", w["within"]), ("overdue", w["overdue_col"]),
                           ("ongoing", w["ongoing"]), ("total", w["total"]), ("rate", w["rate"])], "")
    out.write(f"{w['rate_note']}\n\n")
    milestone_columns = [("task", w["task"]), ("milestone", w["milestone"]), ("due", w["due"])]
    out.write(f"## {w['overdue']}\n\n")
    table(c["overdue"], [*milestone_columns, ("days", w["days_overdue"]), ("lead", w["lead"]),
                         ("status", w["status"]), ("title", w["title"]), ("note", w["note"])], w["none_overdue"])
    out.write(f"## {c['upcoming_title']}\n\n")
    table(c["upcoming"], [*milestone_columns, ("days", w["days_left"]), ("lead", w["lead"]),
                          ("status", w["status"]), ("title", w["title"])], w["none_upcoming"])
    out.write(f"## {c['recent_title']}\n\n")
    table(c["recent"], [("on", w["on"]), ("task", w["task"]), ("milestone", w["milestone"]), ("agency", w["agency"]),
                        ("status", w["status"]), ("note", w["note"]), ("evidence", w["evidence"])], w["none_recent"])
    return out.getvalue()

