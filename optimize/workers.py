"""Worker processes that never outlive their sweep, and a prompt stop on Ctrl-C.

A sweep's local workers are spawned processes (``optimize.sweep``). Left alone they outlive
a parent that is killed (they finish their solve, then wait forever for more work) and, after
Ctrl-C, finish every queued run. So each worker, when it starts (``init_worker``):

- ignores SIGINT: a Ctrl-C at a terminal reaches the whole process group, and the parent
  decides (``stop_pool`` ends the workers);
- on Linux asks the kernel for SIGTERM when its parent dies (``prctl(PR_SET_PDEATHSIG)``),
  which ends it even in the middle of a solve;
- everywhere, runs a daemon thread that polls ``os.getppid()`` against the parent's pid and
  ends the process once they differ (the parent died and the worker was re-parented). HiGHS
  releases the GIL while it solves, so the thread gets to run.

A worker ended mid-write leaves at most a hidden temporary folder (run folders are swapped in
whole, ``optimize.results.write``), which the sweep removes
(``optimize.results.safety.tidy_leftovers``).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor

#: How often a worker's watcher thread checks that its parent is still there.
PARENT_POLL_SECONDS = 0.5
#: How long ``stop_pool`` waits for a terminated worker before it kills it.
STOP_GRACE_SECONDS = 5.0
#: The exit code of a worker that ends because its parent is gone.
EXIT_ORPHANED = 1
#: ``prctl`` option: the signal this process gets when its parent dies (linux/prctl.h).
PR_SET_PDEATHSIG = 1


def init_worker(parent_pid: int) -> None:
    """Start a pool worker: ignore Ctrl-C (the parent decides) and die with the parent.

    ``parent_pid`` is the sweep's process, recorded before the pool starts.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    set_parent_death_signal(signal.SIGTERM)
    watch_parent(parent_pid)


def set_parent_death_signal(sig: signal.Signals) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent dies; return if set.

    Linux only (``prctl(PR_SET_PDEATHSIG)`` through libc); False elsewhere or if libc
    refuses. The signal comes when the thread that started this process ends; a sweep's
    pool starts its workers from the thread that runs the sweep and ends them before it
    returns.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def watch_parent(parent_pid: int, interval: float = PARENT_POLL_SECONDS) -> threading.Thread:
    """Start a daemon thread that ends this process once its parent is no longer ``parent_pid``.

    Ends it at once if the parent is already gone (it died before the death signal was
    set). Portable where ``os.getppid()`` changes when a parent dies (Linux, macOS).
    """
    if os.getppid() != parent_pid:
        os._exit(EXIT_ORPHANED)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os._exit(EXIT_ORPHANED)

    thread = threading.Thread(target=watch, name="ree-plan-parent-watch", daemon=True)
    thread.start()
    return thread


def stop_pool(pool: ProcessPoolExecutor, grace: float = STOP_GRACE_SECONDS) -> None:
    """Cancel the pool's pending jobs and end its workers now; return once they are gone.

    What the workers finished stays (each run folder was swapped in whole); what they were
    solving is lost and solved again by ``--resume``. A worker still alive ``grace``
    seconds after SIGTERM is killed.
    """
    # ProcessPoolExecutor has no public way to end busy workers before Python 3.14
    # (terminate_workers): its process table is read, the workers ended, and then the pool
    # shut down, which finds them gone and releases its queues (no leaked semaphores).
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        with contextlib.suppress(ProcessLookupError, AttributeError):
            process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(deadline - time.monotonic(), 0.0))
        if process.is_alive():
            process.kill()
            process.join()
    pool.shutdown(wait=True, cancel_futures=True)
