"""civreform's benchmark suite: one command, one table.

    python -m benchmarks.run                      # 1k, 10k and 100k tasks, 10 events per task
    python -m benchmarks.run --sizes 1000 --repeat 3

For each size it generates a realistic plan (benchmarks/generate.py) as YAML and
as JSON, times `civreform load` of each (the two taking turns, each load into a
new database holding the bundled plan), adds progress events, then times `overdue` and `upcoming`
(CSV) and `record`, each in a fresh process, reporting the median wall time and
the peak memory (max RSS) of that process (for a load with its worker process,
the larger of the two, as wait4 reports it; one more load is polled for both and
their sum). Where Debian's `taskwarrior` is
installed, it imports the same tasks into Taskwarrior and times `task overdue`,
`task add` and the import side by side. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2014-06-30"


def measure(command: list[str], env: dict, cwd: Path | None = None, stdin=None) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MiB, output lines) of one process."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, env=env, cwd=cwd or ROOT, stdout=out, stderr=subprocess.PIPE,
                                   stdin=stdin)
        _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) not in (0, 1):
            raise RuntimeError(f"{' '.join(command)} failed: {process.stderr.read().decode()[-500:]}")
        out.seek(0)
        lines = sum(1 for _ in out)
    return wall, usage.ru_maxrss / 1024, lines


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def tree_memory(command: list[str], env: dict) -> dict:
    """Memory of a command and of the processes it starts (the load's worker), polled
    every 10 ms from /proc (Linux): each process's own peak (its VmHWM, last seen
    just before it ended) and the peak of their sum. A run of its own: polling costs
    time, so timed runs do not poll."""
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    own_peak: dict[int, int] = {}
    sum_peak = 0
    while process.poll() is None:
        try:
            children = [int(pid) for pid in
                        Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()]
        except (OSError, ValueError):
            children = []
        total = 0
        for pid in [process.pid, *children]:
            total += _status_kib(pid, "VmRSS")
            own_peak[pid] = max(own_peak.get(pid, 0), _status_kib(pid, "VmHWM"))
        sum_peak = max(sum_peak, total)
        time.sleep(0.01)
    workers = [kib for pid, kib in own_peak.items() if pid != process.pid]
    return {"command_mib": own_peak.get(process.pid, 0) / 1024, "worker_mib": max(workers, default=0) / 1024,
            "sum_mib": sum_peak / 1024}


def repeated(command: list[str], env: dict, repeat: int, cwd: Path | None = None) -> dict:
    measure(command, env, cwd)  # warm-up, not counted: file cache and bytecode as in everyday use
    runs = [measure(command, env, cwd) for _ in range(repeat)]
    return {"median_s": statistics.median(r[0] for r in runs), "min_s": min(r[0] for r in runs),
            "peak_mib": max(r[1] for r in runs), "lines": runs[0][2]}


def civreform(*args: str) -> list[str]:
    return [sys.executable, "-m", "civreform", *args]


def helper(code: str) -> str:
    """Run setup work in its own process: on Linux a child's peak RSS starts from its
    parent's at fork, so the measuring process must stay small."""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def bench_size(tasks: int, events_per_task: int, repeat: int, work: Path) -> dict:
    folder = work / f"n{tasks}"
    folder.mkdir(parents=True, exist_ok=True)
    plan = folder / "plan.yaml"
    helper(f"from pathlib import Path; from benchmarks.generate import write_plan; "
           f"write_plan(Path({str(plan)!r}), 'gen-{tasks}', {tasks}, seed={tasks})")
    db = folder / "civreform.db"
    env = {**os.environ, "CIVREFORM_DB": str(db), "CIVREFORM_TODAY": "2026-11-27"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # run with cached bytecode, as an installed package does
    plan_json = folder / "plan.json"
    helper(f"from pathlib import Path; from benchmarks.generate import write_plan; "
           f"write_plan(Path({str(plan_json)!r}), 'gen-{tasks}', {tasks}, seed={tasks})")
    os.sync()  # the plans just written: their dirty pages reach the disk before the timed loads
    loads = timed_loads({"yaml": plan, "json": plan_json}, folder, env, repeat)
    measure(civreform("load"), env)  # the bundled plan, then the large one: the database the reports read
    measure(civreform("load", str(plan)), env)
    events = int(helper(f"from pathlib import Path; from benchmarks.generate import add_events; "
                        f"print(add_events(Path({str(db)!r}), {tasks * events_per_task}, seed={tasks}))"))
    os.sync()  # the 1M-event setup leaves dirty pages; let them reach the disk before timing reads
    results = {"tasks": tasks, "events": events, "plan_mib": plan.stat().st_size / 2**20}
    for name, (runs, memory) in loads.items():
        prefix = "load" if name == "yaml" else "load_json"
        results.update({f"{prefix}_s": statistics.median(r[0] for r in runs), f"{prefix}_min_s": min(r[0] for r in runs),
                        f"{prefix}_max_s": max(r[0] for r in runs), f"{prefix}_peak_mib": max(r[1] for r in runs),
                        f"load_{name}_memory": memory})
    results["overdue_csv"] = repeated(civreform("overdue", "--as-of", AS_OF, "--format", "csv"), env, repeat)
    results["overdue_today_csv"] = repeated(civreform("overdue", "--format", "csv"), env, repeat)
    results["upcoming_csv"] = repeated(civreform("upcoming", "--as-of", AS_OF, "--format", "csv"), env, repeat)
    results["overdue_table"] = repeated(civreform("overdue", "--as-of", AS_OF), env, repeat)
    import sqlite3

    conn = sqlite3.connect(db)
    spread = conn.execute("SELECT task_id FROM tasks WHERE plan_id = ? AND per_member = 0 ORDER BY seq",
                          (f"gen-{tasks}",)).fetchall()
    conn.close()
    records = []
    for index in range(repeat):
        task = spread[(index * 7919) % len(spread)][0]
        records.append(measure(civreform("--plan", f"gen-{tasks}", "record", task, "--status", "in-progress",
                                         "--on", "2014-01-01"), env))
    results["record"] = {"median_s": statistics.median(r[0] for r in records),
                         "peak_mib": max(r[1] for r in records)}
    if shutil.which("task"):
        results["taskwarrior"] = bench_taskwarrior(db, folder, repeat)
    return results


def timed_loads(plans: dict[str, Path], folder: Path, env: dict, repeat: int) -> dict[str, tuple[list, dict | None]]:
    """For each plan file (by name): `repeat` timed loads, each into a new database
    holding the bundled plan, after one uncounted, the names taking turns; then one
    more of each polled for memory (Linux)."""
    runs: dict[str, list] = {name: [] for name in plans}
    memory: dict[str, dict | None] = dict.fromkeys(plans)
    for index in range(repeat + 2):
        for name, plan_file in plans.items():
            db = folder / f"{name}.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            load_env = {**env, "CIVREFORM_DB": str(db)}
            measure(civreform("load"), load_env)
            if index == repeat + 1:
                if sys.platform == "linux":
                    memory[name] = tree_memory(civreform("load", str(plan_file)), load_env)
            else:
                runs[name].append(measure(civreform("load", str(plan_file)), load_env))
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
    return {name: (runs[name][1:], memory[name]) for name in plans}


def bench_taskwarrior(db: Path, folder: Path, repeat: int) -> dict:
    """The same milestones as Taskwarrior tasks (one per milestone, due on its date)."""
    import sqlite3

    data = folder / "taskdata"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir()
    rc = folder / "taskrc"
    rc.write_text(f"data.location={data}\nconfirmation=off\nverbose=nothing\ngc=off\nrecurrence=off\n"
                  "hooks=off\nnews.version=2.6.2\n", encoding="utf-8")
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT m.task_id, m.label, m.due, t.title FROM milestones m JOIN tasks t "
                        "ON t.plan_id = m.plan_id AND t.task_id = m.task_id WHERE m.plan_id LIKE 'gen-%'")
    export = folder / "tasks.json"
    written = 0
    with export.open("w", encoding="utf-8") as handle:
        for task_id, label, due, title in rows:  # streamed: the measuring process stays small
            handle.write(json.dumps({"description": f"{task_id} {label} {title}", "status": "pending",
                                     "due": due.replace("-", "") + "T000000Z", "project": "plan"},
                                    ensure_ascii=False) + "\n")
            written += 1
    conn.close()
    env = {**os.environ, "TASKRC": str(rc), "TASKDATA": str(data)}
    imported = measure(["task", "import", str(export)], env)
    overdue = repeated(["task", "overdue"], env, repeat)
    adds = [measure(["task", "add", f"bench {i}", "due:2014-01-01"], env) for i in range(repeat)]
    return {"tasks": written, "import_s": imported[0], "import_peak_mib": imported[1], "overdue": overdue,
            "add_median_s": statistics.median(a[0] for a in adds), "add_peak_mib": max(a[1] for a in adds)}


def table(results: list[dict]) -> str:
    lines = ["| tasks | events | load YAML s, median (fastest–slowest) (MiB) | load JSON s, median (fastest–slowest) (MiB) | overdue csv s (MiB, rows) | overdue today csv s (rows) | "
             "upcoming csv s (MiB, rows) | overdue table s | record s (MiB) |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(
            f"| {r['tasks']:,} | {r['events']:,} | {r['load_s']:.2f} ({r['load_min_s']:.2f}–{r['load_max_s']:.2f}) ({r['load_peak_mib']:.0f}) | "
            f"{r['load_json_s']:.2f} ({r['load_json_min_s']:.2f}–{r['load_json_max_s']:.2f}) ({r['load_json_peak_mib']:.0f}) | "
            f"{r['overdue_csv']['median_s']:.2f} ({r['overdue_csv']['peak_mib']:.0f}, {r['overdue_csv']['lines'] - 1:,}) | "
            f"{r['overdue_today_csv']['median_s']:.2f} ({r['overdue_today_csv']['lines'] - 1:,}) | "
            f"{r['upcoming_csv']['median_s']:.2f} ({r['upcoming_csv']['peak_mib']:.0f}, {r['upcoming_csv']['lines'] - 1:,}) | "
            f"{r['overdue_table']['median_s']:.2f} | {r['record']['median_s']:.3f} ({r['record']['peak_mib']:.0f}) |")
    polled = [r for r in results if r.get("load_json_memory")]
    if polled:
        lines += ["", "Memory of one more load of each, polled from /proc: each process's peak, and the peak of their sum:",
                  "", "| tasks | YAML: command MiB | worker MiB | together MiB | JSON: command MiB | worker MiB | together MiB |",
                  "|---:|---:|---:|---:|---:|---:|---:|"]
        for r in polled:
            cells = [f"{memory['command_mib']:.0f} | {memory['worker_mib']:.0f} | {memory['sum_mib']:.0f}"
                     for memory in (r["load_yaml_memory"], r["load_json_memory"])]
            lines.append(f"| {r['tasks']:,} | {' | '.join(cells)} |")
    if any("taskwarrior" in r for r in results):
        lines += ["", "Taskwarrior on the same milestones (one task each):", "",
                  "| tasks | import s (MiB) | task overdue s (MiB, lines) | task add s (MiB) |", "|---:|---:|---:|---:|"]
        for r in results:
            tw = r.get("taskwarrior")
            if tw:
                lines.append(f"| {tw['tasks']:,} | {tw['import_s']:.2f} ({tw['import_peak_mib']:.0f}) | "
                             f"{tw['overdue']['median_s']:.2f} ({tw['overdue']['peak_mib']:.0f}, {tw['overdue']['lines']:,}) | "
                             f"{tw['add_median_s']:.3f} ({tw['add_peak_mib']:.0f}) |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--events-per-task", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--work", type=Path, default=None, help="Keep the generated data here.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the raw results here.")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="civreform-bench-"))
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        print(f"… {size:,} tasks", file=sys.stderr, flush=True)
        results.append(bench_size(size, args.events_per_task, args.repeat, work))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"SQLite {__import__('sqlite3').sqlite_version}; as-of {AS_OF}; median of {args.repeat} runs")
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
