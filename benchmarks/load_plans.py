"""How long `civreform load FILE` takes as a whole process, for plans of realistic size.

    python -m benchmarks.load_plans               # bundled plan, 300 and 3,000 tasks, 7 runs each
    python -m benchmarks.load_plans --runs 5 --sizes 300

Each plan is generated as YAML and as JSON (benchmarks/generate.py: departments,
districts and groups that lead member by member; quarter, half, month, yearly and
multi-milestone deadline rules with their time_text), with the texts of the bundled
plan's length (content, content_en, lead_text, support_text). Each is loaded into a new
database (as a first load is: creating the database is part of the time) and into one that
holds the bundled plan; the median wall time (and CPU time) is reported against the targets
(bundled and 300 tasks under 0.5 s, 3,000 tasks under 3 s). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.generate import _flow, head_yaml_lines, plan_data

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"bundled": 0.5, 300: 0.5, 3000: 3.0}


def realistic_plan(tasks: int) -> tuple[dict, list[dict]]:
    """The generated plan, each task with texts as long as the bundled plan's."""
    head, entries = plan_data(f"gen-{tasks}", tasks, seed=tasks)
    names = {agency["code"]: agency["name"] for agency in head["agencies"]}
    rows = []
    for task in entries:
        number = task["id"]
        task["content"] += (", bảo đảm đúng quy định của pháp luật, công khai, minh bạch; báo cáo kết quả "
                            "thực hiện về Ủy ban nhân dân tỉnh qua Sở Nội vụ để tổng hợp")
        task["content_en"] = (f"Task {number}: carry out the reform at agencies and units, in line with the law, "
                              "openly and transparently; report the results to the Provincial People's Committee")
        task["lead_text"] = ", ".join(names[code] for code in task["lead"])
        task["support_text"] = "Các cơ quan, đơn vị liên quan"
        rows.append(task)
    return head, rows


def write_yaml(path: Path, head: dict, tasks: list[dict]) -> None:
    lines = head_yaml_lines(head)
    for task in tasks:
        lines.append(f'  - id: "{task["id"]}"')
        for key, value in task.items():
            if key == "id":
                continue
            written = json.dumps(value, ensure_ascii=False) if isinstance(value, str) and key != "deadline" \
                else _flow(value)
            lines.append(f"    {key}: {written}")
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_json(path: Path, head: dict, tasks: list[dict]) -> None:
    path.write_text(json.dumps({**head, "tasks": tasks}, ensure_ascii=False, indent=1), encoding="utf-8")


def timed_load(plan: Path | None, runs: int, fresh: bool) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of `civreform --db DB load [plan]` (after one warm-up run): into a
    new database each run (fresh: creating it is part of the time), or into one that already
    holds the bundled plan (the plan is then updated in place, as an edited plan is). CPU
    time (user + system, from wait4) is what the load itself costs on a machine busy with
    other work; wall time is what a user waits."""
    env = {**os.environ, "CIVREFORM_TODAY": "2026-11-27"}
    times = []
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "t.db"
        for run in range(runs + 1):
            if fresh or not db.exists():
                db.unlink(missing_ok=True)
                Path(f"{db}-wal").unlink(missing_ok=True)
                Path(f"{db}-shm").unlink(missing_ok=True)
            if not fresh and not db.exists():
                subprocess.run([sys.executable, "-m", "civreform", "--db", str(db), "load"], cwd=ROOT, env=env,
                               check=True, capture_output=True)
            command = [sys.executable, "-m", "civreform", "--db", str(db), "load", *([str(plan)] if plan else [])]
            started = time.perf_counter()
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _pid, status, usage = os.wait4(process.pid, 0)
            elapsed = time.perf_counter() - started
            if os.waitstatus_to_exitcode(status) != 0:
                raise SystemExit(f"{' '.join(command)} failed:\n{process.stderr.read().decode()}")
            process.stderr.close()
            if run:  # the first run warms the file cache and the bytecode
                times.append((elapsed, usage.ru_utime + usage.ru_stime))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sizes", type=int, nargs="*", default=[300, 3000])
    args = parser.parse_args()
    rows = [("bundled plan (26 tasks)", "yaml", None, TARGETS["bundled"])]
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            head, tasks = realistic_plan(size)
            for kind, write in (("yaml", write_yaml), ("json", write_json)):
                path = Path(folder) / f"plan-{size}.{kind}"
                write(path, head, tasks)
                rows.append((f"{size:,} tasks ({path.stat().st_size / 1e6:.2f} MB)", kind, path, TARGETS.get(size)))
        print(f"`civreform --db DB load FILE`, median of {args.runs} runs, Python {sys.version.split()[0]}, "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
        print("| plan | format | new DB: wall s | CPU s | existing DB: wall s | CPU s | target s |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for label, kind, path, target in rows:
            cells, walls = [], []
            for fresh in (True, False):
                runs = timed_load(path, args.runs, fresh)
                wall = statistics.median(r[0] for r in runs)
                walls.append(wall)
                cells += [f"{wall:.3f} ({min(r[0] for r in runs):.2f}–{max(r[0] for r in runs):.2f})",
                          f"{statistics.median(r[1] for r in runs):.3f}"]
            verdict = "" if target is None else f"< {target} {'ok' if max(walls) < target else 'MISSED'}"
            print(f"| {label} | {kind} | {' | '.join(cells)} | {verdict} |", flush=True)


if __name__ == "__main__":
    main()
