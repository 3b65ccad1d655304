"""Timeline: a slider over a graph's versions or event times, with playback, driving a GraphView.

Moving the slider rebuilds the graph as it was (:meth:`alchemist.Graph.at`) and shows it in the
GraphView with the nodes where the full layout puts them, so the picture grows in place. Rebuilds
run in a background thread that takes only the newest slider value (a fast scrub or playback
never queues stale states).

Compare mode (:meth:`Timeline.compare`, or the Compare button): a second slider pins an earlier
state, and the view shows the slider's state coloured by what changed since the pinned one
(:mod:`alchemist.widgets.compare`: added green, removed red as ghosts at their old places, changed
amber).
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import traitlets as t

from alchemist.errors import WidgetError
from alchemist.widgets._base import AlchemistWidget, LatestWorker, asset, escape
from alchemist.widgets.compare import known_positions, place, show_comparison

__all__ = ["Timeline"]


class Timeline(AlchemistWidget):
    """Time travel over a graph.

    Parameters
    ----------
    graph : alchemist.Graph
        The full graph (it must keep its event log).
    view : GraphView, optional
        The view to drive; its positions (for ``graph``) place the nodes of every past state.
    by : {"version", "time"}
        Slide over the number of applied events, or over event time (Unix seconds).
    steps : int
        Playback steps from start to end.
    interval_ms : int
        Milliseconds between playback steps.
    threaded : bool
        Rebuild in a background thread (False: inline, for scripts).

    Attributes (synced traits)
    --------------------------
    min, max, value, step : float — the slider; ``value`` is a version or a Unix time.
    playing : bool. label : str — the state shown: its date (UTC), events applied, nodes, edges.
    start_label, end_label : str — the dates of the first and the last event.
    comparing : bool — compare mode; ``compare_value`` is the earlier state (a version or a time),
    ``compare_label`` says it and what changed since. ``diff`` (not synced) is the last
    :class:`~alchemist.graph.diff.GraphDiff` shown.
    """

    _esm = asset("dom.js", "timeline.js")

    min = t.Float(0).tag(sync=True)
    max = t.Float(0).tag(sync=True)
    value = t.Float(0).tag(sync=True)
    step = t.Float(1).tag(sync=True)
    by = t.Unicode("version").tag(sync=True)
    playing = t.Bool(False).tag(sync=True)
    interval_ms = t.Int(300).tag(sync=True)
    label = t.Unicode("").tag(sync=True)
    start_label = t.Unicode("").tag(sync=True)
    end_label = t.Unicode("").tag(sync=True)
    comparing = t.Bool(False).tag(sync=True)
    compare_value = t.Float(0).tag(sync=True)
    compare_label = t.Unicode("").tag(sync=True)

    def __init__(self, graph, view=None, *, by: str = "version", steps: int = 100, interval_ms: int = 300,
                 threaded: bool = True):
        if by not in ("version", "time"):
            raise WidgetError(f"by={by!r}; use 'version' or 'time'")
        if steps < 1:
            raise WidgetError(f"steps={steps}; it must be at least 1")
        super().__init__(by=by, interval_ms=int(interval_ms))
        self.graph = graph
        self.view = view
        self.state = graph
        if view is not None and view.graph is not graph:
            raise WidgetError("the GraphView must show the same graph as the Timeline (GraphView(graph, ...))")
        self._known = known_positions(None, view) if view is not None else None  # the full layout's places
        self.diff = None
        # event times (Unix seconds) in log order: the date of each version
        self._times = np.array([_seconds(e.timestamp) for e in graph.events], dtype=np.float64)
        if by == "version":
            lo, hi = 0.0, float(graph.version)
            step = max(1.0, float(np.ceil((hi - lo) / steps)))
        else:
            if not self._times.size:
                raise WidgetError("by='time' needs a graph with timestamped events (its log is empty)")
            lo, hi = float(self._times.min()), float(self._times.max())
            step = max((hi - lo) / steps, 1e-3)
        self._worker = LatestWorker(self._show, name="alchemist-timeline") if threaded else None
        with self.hold_sync():
            self.min, self.max, self.step, self.value = lo, hi, step, hi
            self.label = self._label(graph, hi)
            if self._times.size:
                self.start_label, self.end_label = _date(self._times.min()), _date(self._times.max())
        self.observe(self._on_value, names=["value", "comparing", "compare_value"])

    def seek(self, value: float, *, wait: bool = True) -> None:
        """Show the graph's state at a version or a time.

        Parameters
        ----------
        value : float
            A version, or a Unix time in seconds (by the timeline's ``by``), clipped to the range.
        wait : bool
            Block until the state is shown.
        """
        self.value = float(min(max(value, self.min), self.max))
        if wait:
            self.wait()

    def compare(self, before: float, after: float | None = None, *, wait: bool = True) -> None:
        """Compare mode: show the state at ``after`` (the slider) coloured by what changed since ``before``.

        Parameters
        ----------
        before : float
            The earlier state: a version, or a Unix time (by the timeline's ``by``).
        after : float, optional
            The later state (the slider's value by default).
        wait : bool
            Block until it is shown.
        """
        with self.hold_trait_notifications():
            self.compare_value = float(min(max(before, self.min), self.max))
            self.comparing = True
            if after is not None:
                self.value = float(min(max(after, self.min), self.max))
        if wait:
            self.wait()

    def stop_comparing(self, *, wait: bool = True) -> None:
        """Leave compare mode (the view shows the slider's state as usual).

        Parameters
        ----------
        wait : bool
            Block until it is shown.
        """
        self.comparing = False
        if wait:
            self.wait()

    def wait(self, timeout: float = 60.0) -> None:
        """Block until the newest requested state is shown.

        Parameters
        ----------
        timeout : float
            Seconds to wait at most.

        Raises
        ------
        Exception
            The error that showing a state raised, if any.
        """
        if self._worker is not None:
            self._worker.wait(timeout)
            if self._worker.errors:
                raise self._worker.errors.pop()
        if self.view is not None:
            self.view.wait(timeout)

    def static_html(self) -> str:
        """HTML shown where no widget manager runs (nbconvert, papermill reports).

        Returns
        -------
        str
            The timeline's mode and the label of the state shown (and in compare mode what changed), with
            every user-given text escaped.
        """
        compared = f"<div>{escape(self.compare_label)}</div>" if self.comparing else ""
        return f"<div><b>Timeline</b> ({escape(self.by)}): {escape(self.label)}</div>{compared}"

    # ------------------------------------------------------------------ internals
    def _on_value(self, change) -> None:
        if self._worker is None:
            self._show(self.value)
        else:
            self._worker.submit(self.value)

    def _at(self, value: float):
        if self.by == "version":
            return self.graph.at(version=int(round(value)))
        return self.graph.at(timestamp=float(value))

    def _show(self, value: float) -> None:
        past = self._at(value)
        self.state = past
        self.label = self._label(past, value)
        if self.comparing:
            earlier = self._at(self.compare_value)
            if self.view is not None:
                self.diff = show_comparison(self.view, earlier, past, positions=self._known)
            else:
                from alchemist.graph.diff import diff

                self.diff = diff(earlier, past)
            c = self.diff.counts
            self.compare_label = (f"compared with {self._label(earlier, self.compare_value).split(' · ')[0]}: nodes "
                                  f"+{c['nodes_added']} −{c['nodes_removed']} ~{c['nodes_changed']}, edges "
                                  f"+{c['edges_added']} −{c['edges_removed']} ~{c['edges_changed']}")
            return
        self.compare_label = ""
        if self.view is not None:  # nodes removed by the end (not in the layout) go next to their neighbours
            positions = place(past.node_ids, past.edge_index()[:2], self._known)
            self.view.set_graph(past, positions, keep_viewport=True)

    def _label(self, graph, value: float) -> str:
        """``date · k of n events · nodes · edges``: the date shown is the slider's time, or (by
        version) the time of the last event applied."""
        if self.by == "time":
            when = _date(value)
            applied = int(graph.version)
        else:
            applied = int(round(value))
            if not self._times.size:  # no event log (bulk-built graph): no dates to show
                when = f"version {applied:,}"
            else:
                when = _date(self._times[min(applied, self._times.size) - 1]) if applied > 0 else "before the first event"
        return (f"{when} · {applied:,} of {int(self.graph.version):,} events · {graph.number_of_nodes():,} nodes · "
                f"{graph.number_of_edges():,} edges")


def _date(seconds: float) -> str:
    return datetime.fromtimestamp(float(seconds), tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _seconds(timestamp) -> float:
    if isinstance(timestamp, (int, float)):
        return float(timestamp)
    from alchemist.events import parse_rfc3339

    value = parse_rfc3339(timestamp)
    return value.timestamp() if hasattr(value, "timestamp") else float(value)
