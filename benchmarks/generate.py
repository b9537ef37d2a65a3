"""Realistic synthetic plans, archives of them, and progress, for benchmarks and crash tests.

A plan looks like a provincial reform plan: ~20 departments and 10 districts, groups
with members, quarter and yearly deadlines, multi-milestone rows, ongoing tasks,
and a share of tasks led by "every department" or "every district" that are
reported member by member. An archive is many such plans (write_archive): 10-300
tasks each, most of them small (a median of ~25), periods from 2013 to 2026, the
same agency codes and names in every plan. Deterministic for a given seed.

    python -m benchmarks.generate ARCHIVE_DIR --tasks 100000 [--format json]
"""

from __future__ import annotations

import csv
import random
import sqlite3
from datetime import date, timedelta
from pathlib import Path

DEPARTMENTS = ["Nội vụ", "Tài chính", "Kế hoạch và Đầu tư", "Tư pháp", "Công Thương", "Nông nghiệp",
               "Giao thông Vận tải", "Xây dựng", "Tài nguyên và Môi trường", "Thông tin và Truyền thông",
               "Lao động", "Văn hóa, Thể thao và Du lịch", "Khoa học và Công nghệ", "Giáo dục và Đào tạo",
               "Y tế", "Ngoại vụ", "Thanh tra", "Văn phòng UBND", "Dân tộc", "Quy hoạch"]
DISTRICTS = ["Thành phố A", "Huyện B", "Huyện C", "Huyện D", "Huyện E", "Huyện G", "Huyện H", "Huyện K",
             "Huyện L", "Huyện M"]
VERBS = ["Xây dựng", "Triển khai", "Rà soát", "Ban hành", "Khảo sát", "Đánh giá", "Sửa đổi", "Tổ chức"]
OBJECTS = ["đề án vị trí việc làm", "quy định phân cấp", "chỉ số cải cách hành chính", "cơ sở dữ liệu cán bộ",
           "bộ phận một cửa", "kế hoạch đào tạo", "quy chế văn hóa công sở", "hệ thống ISO 9001:2008"]
ROMAN = ["I", "II", "III", "IV"]


def agencies_data() -> list[dict]:
    agencies = [{"code": f"s{i:02d}", "name": f"Sở {name}", "name_en": f"Department {i}", "kind": "department"}
                for i, name in enumerate(DEPARTMENTS)]
    agencies += [{"code": f"d{i:02d}", "name": name, "name_en": f"District {i}", "kind": "district"}
                 for i, name in enumerate(DISTRICTS)]
    agencies += [
        {"code": "sbn", "name": "Các sở, ban, ngành", "kind": "group",
         "members": [f"s{i:02d}" for i in range(len(DEPARTMENTS))]},
        {"code": "huyen", "name": "UBND cấp huyện", "kind": "group",
         "members": [f"d{i:02d}" for i in range(len(DISTRICTS))]},
        {"code": "cqlq", "name": "Các cơ quan liên quan", "kind": "group"},
    ]
    return agencies


def plan_data(plan_id: str, tasks: int, seed: int = 1, start_year: int = 2013, years: int = 3):
    """A whole plan as data, one task at a time (a generator of the task entries follows the head)."""
    rng = random.Random(seed)
    end_year = start_year + years - 1
    head = {"format": "civreform-plan/1",
            "plan": {"id": plan_id, "number": f"{plan_id}/KH-UBND", "issued": f"{start_year}-08-14",
                     "title": f"Kế hoạch tổng hợp {plan_id}",
                     "period": {"start": f"{start_year}-09-01", "end": f"{end_year}-12-31"}},
            "agencies": agencies_data()}

    def task_entries():
        for number in range(1, tasks + 1):
            roll = rng.random()
            if roll < 0.08:
                lead = rng.choice([["sbn"], ["huyen"], ["sbn", "huyen"]])  # reported member by member
            elif roll < 0.13:
                lead = [f"d{rng.randrange(len(DISTRICTS)):02d}"]
            else:
                lead = [f"s{rng.randrange(len(DEPARTMENTS)):02d}"]
            kind = rng.random()
            year = rng.randint(start_year, end_year)
            quarter = ROMAN[rng.randrange(4)]
            if kind < 0.55:
                deadline, time_text = {"quarter": quarter, "year": year}, f"Quý {quarter} năm {year}"
            elif kind < 0.70:
                deadline, time_text = {"quarter": quarter, "every": "year"}, f"Quý {quarter} hàng năm"
            elif kind < 0.78:
                deadline, time_text = {"day": 30, "month": 11, "every": "year"}, "trước ngày 30/11"
            elif kind < 0.86:
                deadline = [{"label": "pilot", "quarter": "I", "year": start_year + 1},
                            {"label": "all-units", "quarter": "I", "year": end_year}]
                time_text = f"Quý I/{start_year + 1} thí điểm Quý I/{end_year} tất cả"
            elif kind < 0.92:
                deadline, time_text = {"half": 1, "year": year}, f"6 tháng đầu năm {year}"
            elif kind < 0.96:
                deadline, time_text = {"month": rng.randint(1, 12), "year": year}, "tháng"
            else:
                deadline, time_text = "ongoing", "Thường xuyên"
            verb, thing = rng.choice(VERBS), rng.choice(OBJECTS)
            yield {"id": str(number), "title": f"{verb} {thing} {number}", "title_en": f"Task {number}",
                   "content": f"{verb} {thing} tại các cơ quan, đơn vị (nhiệm vụ {number})",
                   "lead": lead, "support": ["cqlq"], "time_text": time_text, "deadline": deadline}

    return head, task_entries()


def _flow(value) -> str:
    """A small value in YAML flow style (our generated values need no quoting)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return str(value)


def head_yaml_lines(head: dict) -> list[str]:
    """The lines of a plan file before its tasks (format, plan, agencies), up to `tasks:`."""
    plan = head["plan"]
    lines = [f"format: {head['format']}", "plan:", f"  id: {plan['id']}", f"  number: {plan['number']}",
             f"  issued: {plan['issued']}", f"  title: {plan['title']}", "  period:",
             f"    start: {plan['period']['start']}", f"    end: {plan['period']['end']}", "agencies:"]
    for agency in head["agencies"]:
        lines.append(f"  - code: {agency['code']}")
        lines += [f"    {key}: {_flow(value)}" for key, value in agency.items() if key != "code"]
    return [*lines, "tasks:"]


def plan_yaml(plan_id: str, tasks: int, seed: int = 1, **period) -> str:
    """The plan as YAML text (written directly: yaml.dump is too slow for 100k tasks)."""
    head, entries = plan_data(plan_id, tasks, seed, **period)
    lines = head_yaml_lines(head)
    for task in entries:
        lines.append(f'  - id: "{task["id"]}"')
        lines += [f'    {key}: "{value}"' if key == "time_text" else f"    {key}: {_flow(value)}"
                  for key, value in task.items() if key != "id"]
    return "\n".join(lines) + "\n"


def write_plan(path: Path, plan_id: str, tasks: int, seed: int = 1, **period) -> Path:
    """The plan as YAML, or as JSON when path ends in .json (same plan for the same seed);
    period: start_year and years (plan_data's)."""
    if path.suffix == ".json":
        import json

        head, entries = plan_data(plan_id, tasks, seed, **period)
        with path.open("w", encoding="utf-8") as handle:
            handle.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "tasks": [\n')
            for index, task in enumerate(entries):
                handle.write((",\n" if index else "") + json.dumps(task, ensure_ascii=False))
            handle.write("\n]}\n")
        return path
    path.write_text(plan_yaml(plan_id, tasks, seed, **period), encoding="utf-8")
    return path


def archive_plans(total_tasks: int, seed: int = 1):
    """(plan id, tasks, first year, years, seed) of each plan of an archive of about
    total_tasks tasks: sizes 10-300, log-normal (most plans small, a few large), periods
    of 1-3 years starting 2013-2024 (so ending by 2026)."""
    rng = random.Random(seed)
    made, number = 0, 0
    while made < total_tasks:
        number += 1
        size = min(300, max(10, int(rng.lognormvariate(3.2, 0.7))), max(1, total_tasks - made))
        start = rng.randint(2013, 2024)
        years = rng.randint(1, min(3, 2026 - start + 1))
        yield f"p{number:05d}", size, start, years, seed * 100_003 + number
        made += size


def write_archive(folder: Path, total_tasks: int, seed: int = 1, fmt: str = "yaml") -> list[Path]:
    """An archive of plans of about total_tasks tasks in all, one file each (YAML or JSON),
    in sub-folders of 500 plans as an office would file them by year or batch."""
    paths = []
    for index, (plan_id, size, start, years, plan_seed) in enumerate(archive_plans(total_tasks, seed)):
        sub = folder / f"batch{index // 500:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        paths.append(write_plan(sub / f"{plan_id}.{fmt}", plan_id, size, plan_seed, start_year=start, years=years))
    return paths


def add_events(db_path: Path, count: int, seed: int = 1) -> int:
    """Append `count` progress events spread over the plans' milestones and years, straight
    into the events table in one transaction (the benchmark's setup, not what is measured)."""
    rng = random.Random(seed)
    conn = sqlite3.connect(db_path)
    units = conn.execute(
        """SELECT m.plan_id, m.task_id, m.label, coalesce(tm.agency_code, ''), m.due FROM milestones m
           JOIN tasks t ON t.plan_id = m.plan_id AND t.task_id = m.task_id
           LEFT JOIN task_members tm ON t.per_member = 1 AND tm.plan_id = m.plan_id AND tm.task_id = m.task_id
           ORDER BY m.plan_id, m.task_id, m.label, tm.agency_code"""  # the same events whatever the query plan
    ).fetchall()
    statuses = ["in-progress", "in-progress", "done", "blocked", "not-started"]

    def rows():
        for _ in range(count):
            plan_id, task_id, label, agency, due = rng.choice(units)
            happened = date.fromisoformat(due) - timedelta(days=rng.randint(-120, 300))
            status = rng.choice(statuses)
            percent = 100 if status == "done" else 0 if status == "not-started" else rng.randint(1, 99)
            yield (plan_id, task_id, label, agency, status, percent, happened.isoformat(),
                   "2026-01-01T00:00:00+00:00", "", "", "bench", "bench")

    with conn:
        written = conn.executemany(
            """INSERT INTO events (plan_id, task_id, milestone, agency, status, percent, happened_on,
                 recorded_at, note, evidence, recorded_by, source) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)""",
            rows()).rowcount
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # as a long-lived database would be
    conn.close()
    return written


def write_import_csv(db_path: Path, path: Path, rows: int, seed: int = 1) -> int:
    """A filled-in template of `rows` valid progress reports, for import benchmarks and crash tests."""
    rng = random.Random(seed)
    conn = sqlite3.connect(db_path)
    units = conn.execute(
        """SELECT m.plan_id, m.task_id, m.label, coalesce(tm.agency_code, ''), p.issued FROM milestones m
           JOIN tasks t ON t.plan_id = m.plan_id AND t.task_id = m.task_id
           JOIN plans p ON p.plan_id = m.plan_id
           LEFT JOIN task_members tm ON t.per_member = 1 AND tm.plan_id = m.plan_id AND tm.task_id = m.task_id
           ORDER BY m.plan_id, m.task_id, m.label, tm.agency_code"""
    ).fetchall()
    conn.close()
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["plan", "task", "milestone", "agency", "status", "percent", "date", "note"])
        for index in range(rows):
            plan_id, task_id, label, agency, issued = rng.choice(units)
            day = date.fromisoformat(issued) + timedelta(days=rng.randint(1, 800))
            writer.writerow([plan_id, task_id, label, agency, "in-progress", rng.randint(1, 99),
                             day.isoformat(), f"báo cáo {index}"])
    return rows


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--format", choices=["yaml", "json"], default="yaml")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    paths = write_archive(args.folder, args.tasks, args.seed, args.format)
    print(f"{len(paths)} plans in {args.folder}")


if __name__ == "__main__":
    main()
