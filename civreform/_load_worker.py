"""The worker behind `civreform load` of a large plan (see loading.LoadWorker): reads
and validates the plan file named on its command line, streamed from the size given
after it, and writes the plan's head and then its batches of rows to stdout, one
message each. Not a command for people."""

from __future__ import annotations

import dataclasses
import gc
import marshal
import pickle
import signal
import sys


def send(out, message: tuple) -> None:
    """One message: its length (8 bytes) and its marshal record."""
    record = marshal.dumps(message)
    out.write(len(record).to_bytes(8, "little"))
    out.write(record)


def main(path: str, stream_from_bytes: int) -> int:
    from civreform import plan as plan_module
    from civreform.errors import PlanFileError
    from civreform.loading import task_batches
    from civreform.plan import read_plan_file

    plan_module.STREAM_FROM_BYTES = stream_from_bytes

    out = sys.stdout.buffer
    try:
        plan = read_plan_file(path, stream=True)
        head = dataclasses.replace(plan, tasks=None)
        send(out, ("head", pickle.dumps(head, protocol=pickle.HIGHEST_PROTOCOL)))
        for batch, tasks, milestones, done in task_batches(plan):
            send(out, ("rows", batch.rows(), tasks, milestones, done))
        send(out, ("end",))
    except PlanFileError as error:
        send(out, ("error", error.problem, error.path, error.line))
    out.flush()
    return 0


def run() -> None:
    """The worker's entry point: `run()` with the file and the streaming size as arguments."""
    # Ctrl-C reaches the whole process group: the command rolls back and stops this
    # worker itself; a worker whose reader has gone ends at its next write.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A short-lived process whose values hold no reference cycles: the cyclic
    # collector would only walk its batches again and again (~5 % of its time).
    gc.disable()
    try:
        sys.exit(main(sys.argv[1], int(sys.argv[2])))
    except BrokenPipeError:
        sys.exit(0)
