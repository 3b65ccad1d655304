"""GameView: a two-player payoff table with equilibria highlighted, the Pareto front of the payoff
profiles, Shapley values, and coalitions coloured on a graph.

It takes plain arrays (payoff matrices, equilibria as ``(x, y)`` mixed strategies, Shapley values)
so it shows whatever :mod:`alchemist.games` — or nashpy, QuantEcon, pygambit — computed.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import traitlets as t

from alchemist.errors import WidgetError
from alchemist.widgets._base import AlchemistWidget, asset, escape

__all__ = ["GameView"]


class GameView(AlchemistWidget):
    """A two-player game at a glance.

    Parameters
    ----------
    A, B : (m, n) arrays
        Payoffs of the row and column player.
    equilibria : sequence of (x, y), optional
        Mixed strategies ``x`` (m,) and ``y`` (n,); cells in the support of both are highlighted.
    row_names, col_names : sequence of str, optional
    pareto : bool
        Compute and plot the Pareto front of the pure payoff profiles.
    shapley : sequence of float, optional
        Shapley values to show, with ``players`` names.

    Attributes (synced traits)
    --------------------------
    payoffs : list — ``[[a, b], …]`` rows. highlight : list of [i, j] — equilibrium support cells.
    equilibria : list of dict — ``x``, ``y`` (the mixed strategies) and ``u1``, ``u2`` (expected payoffs);
      listed under the table and ringed on the Pareto plot.
    profiles, front : list of [u1, u2] and list of int — every profile and the Pareto-optimal ones.
    selected_cell : list — ``[i, j]`` clicked in the table.
    """

    _esm = asset("dom.js", "game_view.js")

    payoffs = t.List().tag(sync=True)
    row_names = t.List(t.Unicode()).tag(sync=True)
    col_names = t.List(t.Unicode()).tag(sync=True)
    highlight = t.List().tag(sync=True)
    equilibria = t.List().tag(sync=True)
    profiles = t.List().tag(sync=True)
    front = t.List(t.Int()).tag(sync=True)
    shapley = t.List().tag(sync=True)
    selected_cell = t.List().tag(sync=True)
    title = t.Unicode("").tag(sync=True)

    def __init__(self, A, B, *, equilibria: Sequence = (), row_names: Sequence[str] | None = None,
                 col_names: Sequence[str] | None = None, pareto: bool = True, shapley: Sequence[float] | None = None,
                 players: Sequence[str] | None = None, title: str = ""):
        from alchemist.games import pareto_front

        A, B = np.asarray(A, dtype=np.float64), np.asarray(B, dtype=np.float64)
        if A.ndim != 2 or A.shape != B.shape:
            raise WidgetError(f"payoff matrices must be two (m, n) arrays of the same shape, got {A.shape} and {B.shape}")
        m, n = A.shape
        rows = [str(r) for r in (row_names or [f"r{i}" for i in range(m)])]
        cols = [str(c) for c in (col_names or [f"c{j}" for j in range(n)])]
        if len(rows) != m or len(cols) != n:
            raise WidgetError(f"{len(rows)} row names and {len(cols)} column names for a {m}×{n} game")
        cells, eqs = set(), []
        for k, (x, y) in enumerate(equilibria):
            x, y = np.asarray(x, float), np.asarray(y, float)
            if x.shape != (m,) or y.shape != (n,):
                raise WidgetError(f"equilibrium {k} has strategies of shapes {x.shape}, {y.shape}; expected ({m},), ({n},)")
            cells |= {(int(i), int(j)) for i in np.flatnonzero(x > 1e-9) for j in np.flatnonzero(y > 1e-9)}
            eqs.append({"x": x.round(6).tolist(), "y": y.round(6).tolist(), "u1": float(x @ A @ y), "u2": float(x @ B @ y)})
        profiles = np.column_stack([A.ravel(), B.ravel()])
        shap = []
        if shapley is not None:
            names = list(players or [f"player {i}" for i in range(len(shapley))])
            shap = [{"player": str(p), "value": float(v)} for p, v in zip(names, shapley)]
        super().__init__(payoffs=[[[float(A[i, j]), float(B[i, j])] for j in range(n)] for i in range(m)],
                         row_names=rows, col_names=cols, highlight=sorted([list(c) for c in cells]), equilibria=eqs,
                         profiles=profiles.tolist(), front=pareto_front(profiles).tolist() if pareto else [],
                         shapley=shap, title=title)
        self.on_msg(self._on_custom_msg)

    @staticmethod
    def coalition_view(graph, positions, coalitions: Sequence[Sequence[str]], **options):
        """A :class:`~alchemist.widgets.GraphView` with the nodes coloured by coalition.

        Parameters
        ----------
        graph : alchemist.Graph
            The graph.
        positions : ndarray, shape ``(n_nodes, 2)``, optional
            Node positions (as for :class:`~alchemist.widgets.GraphView`).
        coalitions : sequence of sequence of str
            Node ids of each coalition; nodes in none are coloured ``"none"``.
        **options
            Other arguments of :class:`~alchemist.widgets.GraphView`.

        Returns
        -------
        GraphView
            Coloured by the node column ``"coalition"``.
        """
        from alchemist.widgets.graph_view import GraphView

        member = {node: f"coalition {k}" for k, group in enumerate(coalitions) for node in group}
        view = GraphView(graph, positions, **options)
        values = [member.get(node, "none") for node in graph.node_ids]
        view.set_node_values("coalition", values)
        return view

    def static_html(self) -> str:
        """HTML shown where no widget manager runs (nbconvert, papermill reports).

        Returns
        -------
        str
            The bimatrix as a table, the highlighted cells marked, with every user-given text escaped.
        """
        hl = {tuple(c) for c in self.highlight}
        mark = ' style="background:#fde68a"'
        head = "<tr><th></th>" + "".join(f"<th>{escape(c)}</th>" for c in self.col_names) + "</tr>"
        body = "".join(
            f"<tr><th>{escape(r)}</th>" + "".join(
                f"<td{mark if (i, j) in hl else ''}>{a:g}, {b:g}</td>"
                for j, (a, b) in enumerate(row)) + "</tr>"
            for i, (r, row) in enumerate(zip(self.row_names, self.payoffs)))
        shap = "".join(f"<li>{escape(s['player'])}: {s['value']:.4g}</li>" for s in self.shapley)
        eqs = "".join(f"<li>row: {_mixed(e['x'], self.row_names)} · column: {_mixed(e['y'], self.col_names)} → "
                      f"({e['u1']:.4g}, {e['u2']:.4g})</li>" for e in self.equilibria)
        return (f"<b>{escape(self.title)}</b><table>{head}{body}</table>"
                f"<div>{len(self.equilibria)} equilibria · {len(self.front)} Pareto-optimal profiles</div>"
                + (f"<ol>{eqs}</ol>" if eqs else "") + (f"<ul>{shap}</ul>" if shap else ""))

    def _on_custom_msg(self, _widget, content, buffers) -> None:
        if isinstance(content, dict) and content.get("type") == "cell":
            self.selected_cell = [int(content["i"]), int(content["j"])]


def _mixed(p: Sequence[float], names: Sequence[str]) -> str:
    """``"up 0.6 + down 0.4"``: the strategies of a mixed strategy's support, HTML-escaped."""
    return " + ".join(f"{escape(n)} {v:.3g}" for n, v in zip(names, p) if v > 1e-9)
