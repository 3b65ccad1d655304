"""How many Numba threads a parallel kernel should use now, given how OpenMP's idle threads wait
and what else the machine is running.

Why: with spinning idle threads (``GOMP_SPINCOUNT`` above 0, ``import alchemist``'s default), a
kernel made of many short parallel regions (Louvain's batched local moving: hundreds per level)
is fastest on an idle machine, but when another process keeps a core busy, each region waits for
a thread the scheduler has set aside while its partner spins on the core that thread needs.
soc-Slashdot0902, Louvain, 2 threads beside one busy process: 0.26 s, against 0.11 s on one
thread and 0.08 s on two with the machine idle. So such a kernel takes one thread fewer for each
core that other processes keep busy at the moment it starts (the kernels give the same result
on every thread count).
"""

from __future__ import annotations

import contextlib
import os
import time

__all__ = ["threads_spin", "usable_threads", "threads_for", "running_elsewhere"]


def threads_spin() -> bool:
    """Whether libgomp's idle threads spin before they sleep (``GOMP_SPINCOUNT`` set above 0, as
    ``import alchemist`` sets it by default, or no passive ``OMP_WAIT_POLICY``): then a parallel
    region starts in microseconds, else each one wakes its threads from sleep."""
    count = os.environ.get("GOMP_SPINCOUNT")
    if count is not None:
        return count.strip() not in ("", "0")
    return os.environ.get("OMP_WAIT_POLICY", "").strip().upper() != "PASSIVE"


def usable_threads(requested: int, running_others: int, cores: int) -> int:
    """``requested`` threads, less one for each core that ``running_others`` runnable threads of
    other processes keep busy beyond the ``cores - requested`` left over; at least 1.

    Parameters
    ----------
    requested : int
        The thread count the caller would use on an idle machine.
    running_others : int
        Runnable threads of other processes now (:func:`running_elsewhere`).
    cores : int
        Online processors.

    Returns
    -------
    int

    Raises
    ------
    None

    Examples
    --------
    >>> usable_threads(2, 0, 2), usable_threads(2, 1, 2), usable_threads(2, 5, 2), usable_threads(4, 1, 8)
    (2, 1, 1, 4)
    """
    spare = max(0, cores - requested)
    return max(1, requested - max(0, running_others - spare))


def running_elsewhere(samples: int = 3, gap: float = 5e-5) -> int | None:
    """Runnable threads of other processes now: the kernel's count of runnable threads
    (``/proc/loadavg``'s fourth field) less this process's own (``/proc/self/task/*/stat``), the
    least of ``samples`` readings ``gap`` seconds apart (a kernel thread's blip is not a busy
    core); None where ``/proc`` cannot tell."""
    least = None
    for i in range(samples):
        if i:
            time.sleep(gap)
        count = _running_elsewhere_once()
        if not count:  # None (no /proc) or 0: no need to read again
            return count
        least = count if least is None else min(least, count)
    return least


def _running_elsewhere_once() -> int | None:
    try:
        with open("/proc/loadavg") as f:
            running = int(f.read().split()[3].split("/")[0])
        own = 0
        for task in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{task}/stat") as f:
                    own += f.read().rpartition(")")[2].split()[0] == "R"
            except OSError:  # the thread ended meanwhile
                pass
    except (OSError, ValueError, IndexError):
        return None
    return max(0, running - own)


@contextlib.contextmanager
def threads_for(parallel: bool):
    """Run the block on :func:`usable_threads` Numba threads when ``parallel`` (its kernels would
    take the parallel path) and idle threads spin; the thread count is restored after it.

    Parameters
    ----------
    parallel : bool
        Whether the block's kernels run many parallel regions (checking costs 0.03-0.3 ms).

    Yields
    ------
    int
        The Numba thread count in effect.
    """
    import numba

    before = numba.get_num_threads()
    others = running_elsewhere() if parallel and before > 1 and threads_spin() else None
    use = before if others is None else usable_threads(before, others, os.cpu_count() or 1)
    if use == before:
        yield before
        return
    numba.set_num_threads(use)
    try:
        yield use
    finally:
        numba.set_num_threads(before)
