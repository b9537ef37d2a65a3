"""Startup cost of `civreform overdue` against its framework's import time.

    python -m benchmarks.startup [--runs 30] [--as-of 2014-01-01] [--terminal]

Runs, interleaved in one virtualenv: `python -c "import typer"`, `civreform
overdue --format csv`, `python -c "import typer, rich.table, rich.console"` and
`civreform overdue` (table), on the bundled plan, and prints the medians and the
two ratios the performance issue sets (CSV vs typer; table vs typer + Rich).
civreform pauses Python's cycle collector while it imports, which the bare imports
do not; the same imports with the collector paused give the like-for-like ratios.
Output goes to /dev/null, or with --terminal to a 160-column pseudo-terminal, where
Rich lays the table out for that width and writes colour, as on the analyst's screen.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cli_command() -> list[str]:
    """The `civreform` script of this virtualenv, as users run it; else `python -m civreform`."""
    script = Path(sys.executable).parent / "civreform"
    return [str(script)] if script.exists() else [sys.executable, "-m", "civreform"]


def run_on_a_terminal(command: list[str], env: dict, columns: int = 160) -> float:
    """Run `command` with its output on a pseudo-terminal `columns` wide, as the analyst
    runs it (Rich then lays out for that width and writes colour), reading all it writes;
    return how long the command took."""
    import fcntl
    import pty
    import struct
    import termios
    import threading

    reader_end, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))

    def drain() -> None:
        try:
            while os.read(reader_end, 65536):
                pass
        except OSError:  # the terminal side closed: all is read
            pass

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        started = time.perf_counter()
        subprocess.run(command, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal,
                       check=True)
        return time.perf_counter() - started
    finally:
        os.close(terminal)
        reader.join()
        os.close(reader_end)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--as-of", default="2014-01-01",
                        help="the reports' day: 2014-01-01 lists 14 rows, 2026-11-27 (today) 34")
    parser.add_argument("--terminal", action="store_true",
                        help="every command's output on a 160-column pseudo-terminal instead of /dev/null")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="civreform-startup-"))
    env = {**os.environ, "CIVREFORM_DB": str(folder / "civreform.db"), "CIVREFORM_AS_OF": args.as_of}
    # Bytecode as an installed package has it (pip compiles on install); with
    # PYTHONDONTWRITEBYTECODE a source tree would recompile civreform on every run.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if args.terminal:
        env.pop("COLUMNS", None)  # the terminal's own width, as on a real one

    def run(command: list[str]) -> float:
        if args.terminal:
            return run_on_a_terminal(command, env)
        started = time.perf_counter()
        subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, check=True)
        return time.perf_counter() - started

    civreform = cli_command()
    subprocess.run([*civreform, "load"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    print(f"civreform command: {' '.join(civreform)}")
    commands = {
        "import typer": [sys.executable, "-c", "import typer"],
        "overdue --format csv": [*civreform, "overdue", "--format", "csv"],
        "import typer, rich.table, rich.console": [sys.executable, "-c", "import typer, rich.table, rich.console"],
        "overdue (table)": [*civreform, "overdue"],
        # civreform pauses Python's cycle collector while it imports (civreform/__main__.py);
        # the same imports paused alike show what is left of its own cost.
        "import typer, rich.* (collector paused)": [
            sys.executable, "-c", "import gc; gc.disable(); import typer, rich.table, rich.console"],
        "import typer (collector paused)": [sys.executable, "-c", "import gc; gc.disable(); import typer"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(3):  # warm the file cache
        for command in commands.values():
            run(command)
    for _ in range(args.runs):
        for name, command in commands.items():
            times[name].append(run(command))
    median = {name: statistics.median(values) for name, values in times.items()}
    for name, value in median.items():
        print(f"{name:44s} median {value * 1000:6.1f} ms   min {min(times[name]) * 1000:6.1f} ms")
    print(f"ratio csv / import typer:                 {median['overdue --format csv'] / median['import typer']:.2f} (target 1.25)")
    print(f"ratio table / import typer+rich:          "
          f"{median['overdue (table)'] / median['import typer, rich.table, rich.console']:.2f} (target 1.25)")
    print(f"like for like, both paused:               csv "
          f"{median['overdue --format csv'] / median['import typer (collector paused)']:.2f}, table "
          f"{median['overdue (table)'] / median['import typer, rich.* (collector paused)']:.2f}")
    # A shared machine only ever adds time: the fastest runs show the cost itself.
    fastest = {name: min(values) for name, values in times.items()}
    print(f"same ratios of the fastest runs:          csv {fastest['overdue --format csv'] / fastest['import typer']:.2f}, "
          f"table {fastest['overdue (table)'] / fastest['import typer, rich.table, rich.console']:.2f}")


if __name__ == "__main__":
    main()
