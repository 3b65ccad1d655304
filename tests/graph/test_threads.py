"""The thread count parallel kernels take when other processes keep cores busy."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numba
import numpy as np
import pytest

from alchemist.graph import Graph, louvain, pagerank
from alchemist.graph import _threads

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/loadavg"), reason="/proc is Linux's")


def test_a_blip_of_one_reading_is_not_a_busy_core(monkeypatch):
    readings = iter([1, 0, 1])
    monkeypatch.setattr(_threads, "_running_elsewhere_once", lambda: next(readings))
    assert _threads.running_elsewhere(samples=3, gap=0) == 0
    readings = iter([2, 1, 3])
    assert _threads.running_elsewhere(samples=3, gap=0) == 1


def test_a_busy_process_is_counted_as_running_elsewhere():
    # a child that never sleeps is runnable all the time: seen by /proc/loadavg at every sample
    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        seen = [_threads.running_elsewhere() for _ in range(20)]
    finally:
        child.kill()
        child.wait()
    assert min(seen) >= 1


@pytest.mark.parametrize("others, expected", [(0, 2), (1, 1), (2, 1), (7, 1)])
def test_threads_for_gives_up_a_thread_for_each_busy_core_and_restores_the_count(monkeypatch, others, expected):
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs 2 Numba threads")
    monkeypatch.setattr(_threads, "running_elsewhere", lambda: others)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setenv("GOMP_SPINCOUNT", "20000")
    before = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        with _threads.threads_for(True) as threads:
            assert threads == numba.get_num_threads() == expected
        assert numba.get_num_threads() == 2
        with _threads.threads_for(False) as threads:  # no parallel region: not checked
            assert threads == numba.get_num_threads() == 2
        monkeypatch.setenv("GOMP_SPINCOUNT", "0")  # sleeping threads: a busy core costs them nothing
        with _threads.threads_for(True) as threads:
            assert threads == 2
    finally:
        numba.set_num_threads(before)


def test_louvain_takes_one_thread_and_gives_the_same_answers_on_a_busy_machine(monkeypatch):
    # large enough for the parallel paths; "busy": every core taken by other processes
    rng = np.random.default_rng(5)
    n, m = 20_000, 220_000  # 440K adjacency entries: the batched moves, the load check
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    g = Graph.from_arrays(src, dst, node_ids=[str(i) for i in range(n)], directed=True)
    idle = louvain(g, seed=3), pagerank(g)
    monkeypatch.setattr(_threads, "running_elsewhere", lambda: os.cpu_count() or 1)
    chosen = []
    usable = _threads.usable_threads
    monkeypatch.setattr(_threads, "usable_threads", lambda *a: chosen.append(usable(*a)) or chosen[-1])
    busy = louvain(g, seed=3), pagerank(g)
    if numba.get_num_threads() > 1:  # Louvain checked the load and took one thread (PageRank does not check)
        assert chosen == [1]
    assert np.array_equal(idle[0], busy[0])
    np.testing.assert_allclose(busy[1], idle[1], rtol=0, atol=1e-12)
