"""Run a management command that SIGKILLs its own process at a named point of a transfer.

    python -m tests.crashing_worker <point>[@<n>] transfer_to_cen CODE [--batch-size N]

The kill tests run this instead of ``manage.py``: Django is set up, one production
function of the transfer is wrapped so that the process kills itself with SIGKILL —
no cleanup, no rollback handler, as a power cut would — the first (or n-th) time the
run reaches that point, and then the command runs as ``manage.py`` would run it.
Production code knows nothing of it.

The points:

- ``before_first_batch``: the run is claimed, nothing has been read or sent;
- ``mid_batch``: a batch is written in its CEN transaction, the checkpoint not yet
  moved, nothing committed;
- ``between_batches``: a batch and its checkpoint have committed in CEN, the platform's
  run row has not heard of it;
- ``before_reconciliation``: everything is sent and withdrawn, CEN is not yet checked.
"""

import importlib
import os
import signal
import sys
from collections.abc import Callable

# (module, object in it, function name, kill before or after the call)
CRASH_POINTS = {
    "before_first_batch": ("operations.transfer", None, "_attempt", "before"),
    "mid_batch": ("operations.cen_ingest", None, "cen_upsert", "after"),
    "between_batches": (
        "operations.transfer_progress",
        "TransferProgress",
        "batch_written",
        "before",
    ),
    # Where the run looks it up: the name operations.transfer imported.
    "before_reconciliation": ("operations.transfer", None, "cen_reconcile", "before"),
}


def crash_at(point: str, nth: int = 1) -> None:
    """Make the process SIGKILL itself the n-th time the transfer reaches ``point``."""
    module_name, holder_name, function_name, when = CRASH_POINTS[point]
    module = importlib.import_module(module_name)
    holder = getattr(module, holder_name) if holder_name else module
    original: Callable = getattr(holder, function_name)
    calls = 0

    def crashing(*args, **kwargs):
        nonlocal calls
        calls += 1
        if when == "before" and calls == nth:
            os.kill(os.getpid(), signal.SIGKILL)
        result = original(*args, **kwargs)
        if when == "after" and calls == nth:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(holder, function_name, crashing)


def main(argv: list[str]) -> None:
    spec, command = argv[1], argv[2:]
    point, _sep, nth = spec.partition("@")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cencomm.settings")
    import django

    django.setup()
    crash_at(point, int(nth or 1))
    from django.core.management import execute_from_command_line

    execute_from_command_line(["manage.py", *command])


if __name__ == "__main__":
    main(sys.argv)
