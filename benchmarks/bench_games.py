"""Game theory: alchemist.games against QuantEcon, nashpy (and the 2^n / 10^6 workloads).

``run(full)`` returns a Markdown section. Every peer solves the same games (same seeds) in the
same process, except nashpy, which runs in a subprocess with a per-game timeout because its
Lemke–Howson and support enumeration can run for minutes.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
import timeit

import numpy as np

NASHPY_TIMEOUT_S = 20.0


def run(full: bool = False) -> str:
    import quantecon.game_theory as gt

    from alchemist.games import (
        CoalitionalGame,
        NormalFormGame,
        is_nash,
        lemke_howson,
        pure_nash,
        shapley_value,
        support_enumeration,
        vertex_enumeration,
    )
    from alchemist.backend import gpu_available

    out = ["## Games\n"]

    # ------------------------------------------------------------------ first calls
    t0 = time.perf_counter()
    small = NormalFormGame(*np.random.default_rng(0).random((2, 3, 3)))
    lemke_howson(small)
    support_enumeration(small)
    t_first = time.perf_counter() - t0
    t0 = time.perf_counter()
    lemke_howson(small)
    support_enumeration(small)
    t_second = time.perf_counter() - t0
    out.append(
        f"First calls (Numba compile or on-disk cache load) of lemke_howson + support_enumeration: "
        f"{t_first:.2f} s; warm: {t_second * 1e3:.2f} ms. Timings below exclude first calls.\n"
    )

    # ------------------------------------------------------------------ Lemke–Howson
    sizes = [10, 20, 50, 100, 200] + ([300, 500] if full else [])
    rows = ["| n×n | pivots | alchemist (ms) | QuantEcon (ms) | QE / ours | nashpy (ms) | nashpy / ours | verified |",
            "|---|---|---|---|---|---|---|---|"]
    for n in sizes:
        A, B = np.random.default_rng(n).random((2, n, n))
        game = NormalFormGame(A, B)
        qg = gt.NormalFormGame([gt.Player(A), gt.Player(B.T)])
        gt.lemke_howson(qg)  # warm
        lemke_howson(game)
        number, reps = (500, 5) if n <= 20 else (20, 3) if n <= 50 else (1, 3) if n <= 100 else (1, 1)
        ours = _best(lambda: lemke_howson(game), reps, number)  # back to back, min of repeats
        qe = _best(lambda: gt.lemke_howson(qg), reps, number)
        (x, y), info = lemke_howson(game, full_output=True)
        nashpy_t = _nashpy("lemke_howson", n, n) if n <= 50 else None
        nash_cell, nash_ratio = _fmt_peer(nashpy_t, ours, "not run (n > 50)" if n > 50 else None)
        rows.append(f"| {n} | {info['n_pivots']} | {ours * 1e3:.3f} | {qe * 1e3:.3f} | {qe / ours:.2f}× | "
                    f"{nash_cell} | {nash_ratio} | {is_nash(game, (x, y))} |")
    out.append("### Lemke–Howson (label 0), random uniform games, seed = n\n")
    out.append("\n".join(rows) + "\n")
    out.append("Both Numba implementations follow the same path (same pivot counts); ours pivots on "
               "condensed tableaux (half the width) with vectorized row updates. nashpy runs in a subprocess "
               f"with a {NASHPY_TIMEOUT_S:.0f} s timeout. Small games are timed over many calls (best mean of "
               "5 repeats of 500 calls at n <= 20): the per-call path (validation, best-response check) is one "
               "compiled call.\n")

    # ------------------------------------------------------------------ enumeration
    sizes = [4, 6, 8, 10] + ([12, 14] if full else [])
    rows = ["| n×n | equilibria | support enum (ms) | QE support enum (ms) | QE / ours | nashpy support enum (ms) "
            "| vertex enum (ms) | QE vertex enum (ms) | QE / ours | nashpy vertex enum (ms) |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for n in sizes:
        A, B = np.random.default_rng(1000 + n).random((2, n, n))
        game = NormalFormGame(A, B)
        qg = gt.NormalFormGame([gt.Player(A), gt.Player(B.T)])
        if n == sizes[0]:
            gt.support_enumeration(qg)
            gt.vertex_enumeration(qg)
        number = 50 if n <= 6 else 10 if n <= 8 else 1
        reps = 5 if n <= 10 else 2
        se = _best(lambda: support_enumeration(game), reps, number)
        n_eq = len(support_enumeration(game))
        qse = _best(lambda: gt.support_enumeration(qg), reps, number)
        ve = _best(lambda: vertex_enumeration(game), reps, number)
        qve = _best(lambda: gt.vertex_enumeration(qg), reps, number)
        nse = _nashpy("support_enumeration", n, 1000 + n) if n <= 10 else None
        nve = _nashpy("vertex_enumeration", n, 1000 + n) if n <= 10 else None
        nse_cell, _ = _fmt_peer(nse, se, "not run" if n > 10 else None)
        nve_cell, _ = _fmt_peer(nve, ve, "not run" if n > 10 else None)
        rows.append(f"| {n} | {n_eq} | {se * 1e3:.2f} | {qse * 1e3:.2f} | {qse / se:.2f}× | {nse_cell} | "
                    f"{ve * 1e3:.2f} | {qve * 1e3:.2f} | {qve / ve:.2f}× | {nve_cell} |")
    out.append("### Support and vertex enumeration, random uniform games\n")
    out.append("\n".join(rows) + "\n")
    out.append("Vertex enumeration: ours walks the feasible bases of both best-response polytopes in Numba "
               "(labels as bitmasks, completely labeled pairs by hash lookup); QuantEcon uses Qhull. "
               "Times are the best mean over repeated calls on the same game (seed 1000 + n).\n")

    # ------------------------------------------------------------------ Shapley
    rows = ["| players | coalitions | exact CPU (ms) | exact GPU (ms) |", "|---|---|---|---|"]
    shapley_value(CoalitionalGame(3, [0, 1, 1, 2, 1, 2, 2, 3]))
    for n in [16, 20] + ([22, 24] if full else []):
        v = np.random.default_rng(n).random(1 << n)
        v[0] = 0
        g = CoalitionalGame(n, v)
        cpu = _best(lambda: shapley_value(g, backend="cpu"), 2)
        gpu = "no GPU"
        if gpu_available():
            shapley_value(g, backend="cuda")
            gpu = f"{_best(lambda: shapley_value(g, backend='cuda'), 2) * 1e3:.1f}"
        rows.append(f"| {n} | {1 << n:,} | {cpu * 1e3:.1f} | {gpu} |")
    out.append("### Exact Shapley value (random characteristic functions)\n")
    out.append("\n".join(rows) + "\n")

    # ------------------------------------------------------------------ pure equilibria
    rows = ["| players × actions | profiles | alchemist CPU (ms) | QuantEcon pure_nash_brute (ms) | QE / ours |",
            "|---|---|---|---|---|"]
    for players, actions, run_qe in [(5, 10, True), (6, 10, full)]:
        rng = np.random.default_rng(players)
        shape = (actions,) * players
        payoffs = [rng.integers(0, 100, size=shape).astype(float) for _ in range(players)]
        game = NormalFormGame(payoffs)
        ours = _best(lambda: pure_nash(game, backend="cpu"), 3)
        qe_cell, ratio = "not run (quick mode)", ""
        if run_qe:
            qg = gt.NormalFormGame(np.stack(payoffs, axis=-1))
            qe = _best(lambda: gt.pure_nash_brute(qg), 1)
            qe_cell, ratio = f"{qe * 1e3:.0f}", f"{qe / ours:.0f}×"
        rows.append(f"| {players} × {actions} | {actions ** players:,} | {ours * 1e3:.1f} | {qe_cell} | {ratio} |")
    out.append("### Pure-strategy equilibria, n players (vectorized over all profiles)\n")
    out.append("\n".join(rows) + "\n")
    return "\n".join(out)


def _best(fn, reps: int, number: int = 1) -> float:
    """Best mean time per call over ``reps`` repeats of ``number`` calls (``timeit`` style)."""
    return min(timeit.repeat(fn, number=number, repeat=reps)) / number


def _fmt_peer(t, ours, skipped):
    if skipped is not None:
        return skipped, ""
    if t is None:
        return f"did not finish in {NASHPY_TIMEOUT_S:.0f} s", f"> {NASHPY_TIMEOUT_S / ours:.0f}×"
    if isinstance(t, str):
        return t, ""
    return f"{t * 1e3:.1f}", f"{t / ours:.0f}×"


def _nashpy(method: str, n: int, seed: int):
    """Time nashpy's ``method`` on the benchmark's game in a subprocess; None on timeout."""
    code = textwrap.dedent(f"""
        import time, warnings, numpy as np, nashpy
        warnings.simplefilter("ignore")
        A, B = np.random.default_rng({seed}).random((2, {n}, {n}))
        g = nashpy.Game(A, B)
        t = time.perf_counter()
        r = g.{method}() if "{method}" == "lemke_howson" else list(g.{method}())
        print(time.perf_counter() - t)
    """).replace('g.lemke_howson()', 'g.lemke_howson(initial_dropped_label=0)')
    try:
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=NASHPY_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return None
    if res.returncode != 0:
        last = (res.stderr.strip().splitlines() or ["error"])[-1]
        return f"failed: {last[:60]}"
    return float(res.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    print(run(full="--full" in sys.argv))
