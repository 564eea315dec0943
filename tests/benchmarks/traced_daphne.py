"""daphne with tracemalloc on, for the soak's ``--trace-memory``.

    python -m tests.benchmarks.traced_daphne <daphne's arguments>

The first SIGUSR1 starts tracing (tracing from the start would slow the imports
several times over); each later one writes, to ``$TRACE_OUT/trace-<n>.txt``, the
allocation sites of what was allocated since then and is still alive, largest first,
each with the lines of code that led to it. Only memory allocated through Python is
traced: a growth of RSS that does not show here is the allocator's or a C library's.
"""

import gc
import os
import signal
import sys
import tracemalloc
from pathlib import Path

FRAMES = int(os.environ.get("TRACE_FRAMES", "15"))
TOP = int(os.environ.get("TRACE_TOP", "25"))
OUT = Path(os.environ.get("TRACE_OUT", "."))

state = {"count": 0}


def snapshot() -> tracemalloc.Snapshot:
    gc.collect()
    ignored = [tracemalloc.Filter(False, tracemalloc.__file__)]
    return tracemalloc.take_snapshot().filter_traces(ignored)


def report(_signum, _frame) -> None:
    state["count"] += 1
    if not tracemalloc.is_tracing():
        gc.collect()
        tracemalloc.start(FRAMES)
        lines = ["tracing started"]
    else:
        current = snapshot()
        traced, peak = tracemalloc.get_traced_memory()
        lines = [f"alive since tracing started: {traced / 2**20:.1f} MiB (peak {peak / 2**20:.1f})"]
        for stat in current.statistics("traceback")[:TOP]:
            lines.append("")
            lines.append(f"{stat.size / 1024:.0f} KiB in {stat.count} blocks")
            lines.extend(f"    {line}" for line in stat.traceback.format(limit=FRAMES))
    lines.insert(1, f"objects tracked by the collector: {len(gc.get_objects())}")
    (OUT / f"trace-{state['count']}.txt").write_text("\n".join(lines) + "\n")


def main() -> None:
    signal.signal(signal.SIGUSR1, report)
    from daphne.cli import CommandLineInterface

    sys.argv[0] = "daphne"
    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
