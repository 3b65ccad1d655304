"""GraphView's collaboration mode: other users' cursors and selections, through the gateway.

``view.collaborate("ws://host:8000", name="Ana")`` connects the widget's front end straight to
the gateway's WebSocket ``/ws/graphs/{graph_id}`` (:mod:`alchemist.gateway.collab`; the kernel holds
no socket). The browser then sends its pointer as a cursor in graph coordinates (throttled, so
every viewer sees it on the same spot of the graph, whatever their pan and zoom) and the view's
``selected`` nodes as the shared selection, and draws the other users' cursors as coloured arrows
with their names. Their selections come back to the kernel (``collaborators``), which answers with
the positions of those nodes (``collab_marks``), ringed in each user's colour over the picture.

:class:`CollaborationMixin` is a base class of :class:`~alchemist.widgets.GraphView`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import traitlets as t

from alchemist.errors import WidgetError

__all__ = ["Collaboration", "CollaborationMixin", "MAX_MARKS"]

#: Selected nodes of one collaborator ringed on the picture at most (the first ones of the selection).
MAX_MARKS = 2_000
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class Collaboration:
    """Where and as whom a view collaborates.

    Parameters
    ----------
    url : str
        The gateway: ``ws://host:port`` / ``wss://...`` (``http(s)://`` is turned into ``ws(s)://``),
        optionally with the path ``/ws/graphs/<graph_id>`` already.
    graph_id : str
        The graph collaborated on (the view's graph id by default).
    name : str, optional
        The name others see (the authenticated user's id by default).
    color : str, optional
        ``#rrggbb`` (one derived from the user's id by default).
    token : str, optional
        An API key or JWT, sent as ``?token=`` (a browser cannot set WebSocket headers).
    user : str, optional
        Without credentials (an anonymous gateway), the id to appear under.
    share_selection : bool
        Send this view's selection to the others (needs write access to the graph).

    Examples
    --------
    >>> Collaboration("http://127.0.0.1:8000", "g1", name="Ana Lima").socket_url()
    'ws://127.0.0.1:8000/ws/graphs/g1?name=Ana+Lima'
    """

    url: str
    graph_id: str
    name: str | None = None
    color: str | None = None
    token: str | None = None
    user: str | None = None
    share_selection: bool = True

    def __post_init__(self):
        scheme = urlsplit(self.url).scheme
        if scheme not in ("ws", "wss", "http", "https"):
            raise WidgetError(f"collaboration url {self.url!r} must start with ws://, wss://, http:// or https://")
        if self.color is not None and not _COLOR.match(self.color):
            raise WidgetError(f"color={self.color!r} must be '#rrggbb'")
        if not self.graph_id:
            raise WidgetError("collaboration needs a graph id: pass graph_id= or show a graph that has one")

    def socket_url(self) -> str:
        """The WebSocket URL the browser opens (``/ws/graphs/<graph_id>`` and the query).

        Returns
        -------
        str
        """
        parts = urlsplit(self.url)
        scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
        path = parts.path.rstrip("/")
        if "/ws/graphs/" not in path:
            path = f"{path}/ws/graphs/{quote(self.graph_id, safe='')}"
        query = {k: v for k, v in (("name", self.name), ("color", self.color), ("user", self.user),
                                   ("token", self.token)) if v}
        return urlunsplit((scheme, parts.netloc, path, urlencode(query), ""))


class CollaborationMixin(t.HasTraits):
    """The collaboration traits and methods of :class:`~alchemist.widgets.GraphView`.

    Attributes (synced traits)
    --------------------------
    collaboration : dict — ``url`` (the WebSocket URL), ``graph_id``, ``share_selection``; empty
      when not collaborating.
    collaborators : list of dict — the other sessions as the browser last heard them: ``session``,
      ``user`` (``id``, ``name``, ``color``), ``node_ids``.
    collab_marks : list of dict — per collaborator with a selection: ``session``, ``name``,
      ``color``, ``ids`` and ``points`` (``[[x, y], ...]`` graph positions, at most :data:`MAX_MARKS`).
    """

    collaboration = t.Dict().tag(sync=True)
    collaborators = t.List(t.Dict()).tag(sync=True)
    collab_marks = t.List(t.Dict()).tag(sync=True)

    def collaborate(self, url, graph_id: str | None = None, *, name: str | None = None, color: str | None = None,
                    token: str | None = None, user: str | None = None, share_selection: bool = True):
        """Show other users' cursors and selections and share this view's, through a gateway.

        Parameters
        ----------
        url : str or Collaboration
            The gateway (``ws://host:port``), or a ready :class:`Collaboration`.
        graph_id : str, optional
            The graph's id on the gateway (default: the shown graph's ``graph_id``).
        name, color, token, user, share_selection
            See :class:`Collaboration`.

        Returns
        -------
        GraphView
            ``self``, so ``display(GraphView(g).collaborate(url))`` reads in one line.

        Raises
        ------
        WidgetError
            A URL that is not ws(s)/http(s), a colour that is not ``#rrggbb``, no graph id.

        Examples
        --------
        >>> from alchemist import Graph
        >>> from alchemist.widgets import GraphView
        >>> import numpy as np
        >>> view = GraphView(Graph.from_edges([("a", "b")], graph_id="g1"), np.zeros((2, 2)) + [[0, 0], [1, 1]],
        ...                  width=64, height=48, threaded=False)
        >>> view.collaborate("ws://127.0.0.1:8000", name="Ana").collaboration["url"]
        'ws://127.0.0.1:8000/ws/graphs/g1?name=Ana'
        >>> view.stop_collaborating(); view.collaboration
        {}
        >>> view.close()
        """
        if isinstance(url, Collaboration):
            config = url
        else:
            gid = graph_id or getattr(self.graph, "graph_id", None) or ""
            config = Collaboration(str(url), gid, name=name, color=color, token=token, user=user,
                                   share_selection=share_selection)
        if not getattr(self, "_collab_listening", False):
            self.on_msg(self._on_collab_msg)
            self._collab_listening = True
        self.collaboration = {"url": config.socket_url(), "graph_id": config.graph_id,
                              "share_selection": bool(config.share_selection)}
        return self

    def stop_collaborating(self) -> None:
        """Leave the collaboration (the browser closes its socket; the others see ``leave``).

        Returns
        -------
        None
        """
        with self.hold_sync():
            self.collaboration = {}
            self.collaborators = []
            self.collab_marks = []

    def collaborator_marks(self, peers: list[dict]) -> list[dict]:
        """The rings to draw for the collaborators' selections: graph positions of their nodes.

        Parameters
        ----------
        peers : list of dict
            ``session``, ``user`` (``name``, ``color``) and ``node_ids`` of each collaborator.

        Returns
        -------
        list of dict
            As :attr:`collab_marks`, in the order of each selection; ids not in the shown graph,
            and repeated ones, are left out.
        """
        marks = []
        for peer in peers[:500]:
            ids = list(dict.fromkeys(str(i) for i in (peer.get("node_ids") or [])[:MAX_MARKS * 2]))
            rows = self._rows_of(ids)[:MAX_MARKS]
            if not rows.size:
                continue
            user = peer.get("user") or {}
            color = user.get("color") if _COLOR.match(str(user.get("color", ""))) else "#ffffff"
            node_ids = self.graph.node_ids
            marks.append({"session": str(peer.get("session", "")), "name": str(user.get("name", ""))[:64],
                          "color": color, "ids": [node_ids[r] for r in rows.tolist()],
                          "points": self.positions[rows].astype(float).tolist()})
        return marks

    def _on_collab_msg(self, _widget, content, buffers) -> None:
        if not isinstance(content, dict) or content.get("type") != "collab_peers":
            return
        peers = [p for p in content.get("peers") or [] if isinstance(p, dict)]
        with self.hold_sync():
            self.collaborators = [{"session": str(p.get("session", "")), "user": p.get("user") or {},
                                   "node_ids": list(p.get("node_ids") or [])[:MAX_MARKS]} for p in peers[:500]]
            self.collab_marks = self.collaborator_marks(peers)
