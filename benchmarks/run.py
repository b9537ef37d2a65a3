"""civreform's benchmark: an archive of plans, beside Taskwarrior doing the same work.

    python -m benchmarks.run                               # 1k, 10k and 100k tasks, 10 events per task
    python -m benchmarks.run --sizes 1000 --repeat 5 --work /tmp/bench

For each size it writes an archive (benchmarks/generate.py: plans of 10-300 tasks,
periods 2013-2026, the same agency codes in every plan, group-led tasks) as YAML
files and as JSON files, and times `civreform load DIR` of each into a new database
against `task import` of the same milestones into a new Taskwarrior (one task per
milestone, project = plan, tags = lead agencies), the three taking turns. Then it
adds ~10 events per task straight into SQLite and times every daily command, with
and without --plan and --agency, each paired with Taskwarrior's nearest command,
both in the same loop (a fresh process each run; median of --repeat after an
uncounted warm-up; peak RSS from wait4). `civreform --version` is the startup
floor. Not part of the test suite; Taskwarrior (`apt-get install taskwarrior`) is
optional.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TODAY = "2026-11-27"
AGENCY = "s03"


def measure(command: list[str], env: dict, cwd: Path | None = None) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MiB, output lines) of one process."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, env=env, cwd=cwd or ROOT, stdout=out, stderr=subprocess.PIPE,
                                   stdin=subprocess.DEVNULL)
        _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) not in (0, 1):
            raise RuntimeError(f"{' '.join(command)} failed: {process.stderr.read().decode()[-500:]}")
        out.seek(0)
        lines = sum(1 for _ in out)
    return wall, usage.ru_maxrss / 1024, lines


def summarise(runs: list[tuple[float, float, int]]) -> dict:
    return {"median_s": statistics.median(r[0] for r in runs), "min_s": min(r[0] for r in runs),
            "max_s": max(r[0] for r in runs), "peak_mib": max(r[1] for r in runs), "lines": runs[-1][2]}


def civreform(*args: str) -> list[str]:
    return [sys.executable, "-m", "civreform", *args]


def helper(code: str) -> str:
    """Setup work in its own process: a child's peak RSS starts from its parent's at fork,
    so the measuring process stays small."""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def fresh(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def taskwarrior_env(folder: Path, name: str) -> dict:
    data = folder / name
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    rc = folder / f"{name}.taskrc"
    rc.write_text(f"data.location={data}\nconfirmation=off\nverbose=nothing\ngc=off\nrecurrence=off\n"
                  "hooks=off\nnews.version=2.6.2\n", encoding="utf-8")
    return {**os.environ, "TASKRC": str(rc), "TASKDATA": str(data)}


def taskwarrior_export(db: Path, path: Path) -> int:
    """The archive's milestones as Taskwarrior tasks, one JSON line each."""
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT m.plan_id, m.task_id, m.label, m.due, t.title, t.lead_codes FROM milestones m "
                        "JOIN tasks t ON t.plan_id = m.plan_id AND t.task_id = m.task_id")
    written = 0
    with path.open("w", encoding="utf-8") as handle:
        for plan_id, task_id, label, due, title, leads in rows:
            handle.write(json.dumps({"description": f"{task_id} {label} {title}", "status": "pending",
                                     "due": due.replace("-", "") + "T000000Z", "project": plan_id,
                                     "tags": leads.split(",")}, ensure_ascii=False) + "\n")
            written += 1
    conn.close()
    return written


def bench_size(tasks: int, events_per_task: int, repeat: int, load_repeat: int, work: Path, warmup: int = 1) -> dict:
    folder = work / f"n{tasks}"
    folder.mkdir(parents=True, exist_ok=True)
    archives = {fmt: folder / f"archive-{fmt}" for fmt in ("yaml", "json")}
    for fmt, path in archives.items():
        shutil.rmtree(path, ignore_errors=True)
        helper(f"from pathlib import Path; from benchmarks.generate import write_archive; "
               f"write_archive(Path({str(path)!r}), {tasks}, seed=7, fmt={fmt!r})")
    plans = sum(1 for _ in archives["json"].rglob("*.json"))
    db = folder / "civreform.db"
    env = {**os.environ, "CIVREFORM_DB": str(db), "CIVREFORM_TODAY": TODAY}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # cached bytecode, as an installed package runs
    fresh(db)
    measure(civreform("load", str(archives["json"])), env)  # the database the reports read
    tw_file = folder / "taskwarrior.json"
    milestones = taskwarrior_export(db, tw_file)
    has_task = shutil.which("task") is not None
    os.sync()

    # Loads: YAML, JSON and Taskwarrior's import of the same milestones, taking turns.
    loads: dict[str, list] = {"load_yaml": [], "load_json": [], "task_import": []}
    scratch = folder / "load.db"
    for index in range(1 - warmup, load_repeat + 1):
        for fmt in ("yaml", "json"):
            fresh(scratch)
            run = measure(civreform("load", str(archives[fmt])), {**env, "CIVREFORM_DB": str(scratch)})
            if index > 0:
                loads[f"load_{fmt}"].append(run)
        if has_task:
            tw_env = taskwarrior_env(folder, "tw-import")
            run = measure(["task", "import", str(tw_file)], tw_env)
            if index > 0:
                loads["task_import"].append(run)
    unchanged = [measure(civreform("load", str(archives["json"])), {**env, "CIVREFORM_DB": str(scratch)})
                 for _ in range(3)]
    fresh(scratch)

    events = int(helper(f"from pathlib import Path; from benchmarks.generate import add_events; "
                        f"print(add_events(Path({str(db)!r}), {tasks * events_per_task}, seed={tasks}))"))
    conn = sqlite3.connect(db)
    plan, plan_tasks = conn.execute("SELECT plan_id, count(*) FROM tasks GROUP BY plan_id "
                                    "ORDER BY count(*) DESC, plan_id LIMIT 1").fetchone()
    record_tasks = [r[0] for r in conn.execute("SELECT task_id FROM tasks WHERE plan_id = ? AND per_member = 0 "
                                               "ORDER BY seq", (plan,))]
    conn.close()
    tw_env = taskwarrior_env(folder, "tw")
    if has_task:
        measure(["task", "import", str(tw_file)], tw_env)
    os.sync()

    pairs = [  # (name, civreform's arguments, Taskwarrior's nearest)
        ("--version (startup floor)", ["--version"], None),
        ("overdue (table)", ["overdue"], ["overdue"]),
        ("overdue -f csv", ["overdue", "-f", "csv"], ["+OVERDUE", "export"]),
        ("overdue --plan P", ["--plan", plan, "overdue"], [f"project:{plan}", "overdue"]),
        ("overdue --agency A", ["overdue", "--agency", AGENCY], [f"+{AGENCY}", "overdue"]),
        ("overdue --agency A --plan P", ["--plan", plan, "overdue", "--agency", AGENCY],
         [f"project:{plan}", f"+{AGENCY}", "overdue"]),
        ("tasks --agency A -f csv", ["tasks", "--agency", AGENCY, "-f", "csv"], None),
        ("summary", ["summary"], ["summary"]),
        ("summary --plan P", ["--plan", plan, "summary"], [f"project:{plan}", "summary"]),
        ("summary --agency A", ["summary", "--agency", AGENCY], None),
        ("history -f csv", ["history", "-f", "csv"], None),
        ("record --plan P", None, ["add", "bench", "due:2014-01-01", f"project:{plan}"]),
    ]
    runs: dict[str, dict[str, list]] = {name: {"civreform": [], "taskwarrior": []} for name, _c, _t in pairs}
    for index in range(1 - warmup, repeat + 1):  # rounds up to 0 are the uncounted warm-up
        for name, args, tw_args in pairs:
            if args is None:  # record: a new event each time, on a different task
                task = record_tasks[(index * 7919) % len(record_tasks)]
                args = ["--plan", plan, "record", task, "--status", "in-progress", "--note", f"bench {index}"]
            run = measure(civreform(*args), env)
            if index > 0:
                runs[name]["civreform"].append(run)
            if has_task and tw_args is not None:
                run = measure(["task", *tw_args], tw_env)
                if index > 0:
                    runs[name]["taskwarrior"].append(run)
    return {"tasks": tasks, "plans": plans, "events": events, "milestones": milestones, "plan": plan,
            "plan_tasks": plan_tasks,
            "loads": {name: summarise(r) for name, r in loads.items() if r},
            "load_unchanged": summarise(unchanged),
            "commands": {name: {who: summarise(r) for who, r in by.items() if r} for name, by in runs.items()}}


def table(results: list[dict]) -> str:
    lines = ["| command | tasks (plans, events) | civreform s (MiB) | Taskwarrior s (MiB) | ratio |",
             "|---|---:|---:|---:|---:|"]
    for r in results:
        size = f"{r['tasks']:,} ({r['plans']:,}, {r['events']:,})"
        floor = r["commands"]["--version (startup floor)"]["civreform"]["median_s"]
        tw_import = r["loads"].get("task_import")
        for name in ("load_yaml", "load_json"):
            ours = r["loads"][name]
            ratio = f"{ours['median_s'] / tw_import['median_s']:.2f}× import" if tw_import else ""
            theirs = f"{tw_import['median_s']:.2f} ({tw_import['peak_mib']:.0f})" if tw_import else "—"
            lines.append(f"| load DIR ({name[5:].upper()}) | {size} | {ours['median_s']:.2f} ({ours['peak_mib']:.0f}) "
                         f"| {theirs} | {ratio} |")
        again = r["load_unchanged"]
        lines.append(f"| load DIR again, all unchanged | {size} | {again['median_s']:.2f} ({again['peak_mib']:.0f}) | — | |")
        for name, by in r["commands"].items():
            ours, theirs = by["civreform"], by.get("taskwarrior")
            ratio = f"{ours['median_s'] / theirs['median_s']:.3f}" if theirs else ""
            if "--plan P" in name and "summary" not in name and "record" not in name or name.startswith("--version"):
                ratio += f" ({ours['median_s'] / floor:.2f}× floor)"
            tw = f"{theirs['median_s']:.2f} ({theirs['peak_mib']:.0f})" if theirs else "—"
            lines.append(f"| {name} | {size} | {ours['median_s']:.3f} ({ours['peak_mib']:.0f}) | {tw} | {ratio} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--events-per-task", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--load-repeat", type=int, default=5)
    parser.add_argument("--warmup", type=int, choices=[0, 1], default=1, help="An uncounted first round (1) or none.")
    parser.add_argument("--work", type=Path, default=None, help="Keep the generated data here.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the raw results here.")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="civreform-bench-"))
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        print(f"… {size:,} tasks", file=sys.stderr, flush=True)
        results.append(bench_size(size, args.events_per_task, args.repeat, args.load_repeat, work, args.warmup))
        if args.json:
            args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}; today {TODAY}; median of {args.repeat} runs "
          f"({args.load_repeat} for loads); P = the largest plan, A = {AGENCY}")
    print(table(results))
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
