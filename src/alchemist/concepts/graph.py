"""Conceptual spaces on the graph: layout forces and CIM events.

* :func:`similarity_attraction` — springs between each node and its k nearest conceptual
  neighbours, weighted by similarity (for ``alchemist.layout``'s extra forces);
* :func:`category_repulsion` — repulsion between nodes of different categories;
* :func:`space_events` / :func:`position_events` — payloads of the events
  ``conceptual_space_created``, ``concept_added``, ``region_added`` and
  ``conceptual_position_set`` so that a space lives on the CIM like the graph does.
"""

from __future__ import annotations

import numpy as np

from alchemist.concepts.concept import Concept
from alchemist.concepts.regions import ConvexRegion, PrototypeConcepts
from alchemist.concepts.space import ConceptualSpace
from alchemist.errors import ConceptError, DimensionMismatchError

__all__ = ["similarity_attraction", "category_repulsion", "space_events", "position_events", "space_from_events"]


def similarity_attraction(coordinates, space: ConceptualSpace, k: int = 10, strength: float = 1.0, c: float = 1.0):
    """A ``PairAttraction`` force pulling each node towards its ``k`` nearest conceptual neighbours.

    Parameters
    ----------
    coordinates : array_like, shape ``(n_nodes, n_dims)``
        Conceptual positions of the graph's nodes (row = node row in the layout).
    space : ConceptualSpace
        Its metric defines the neighbours (KD-tree for Euclidean spaces, brute force otherwise)
        and the weights ``exp(−c·d)``.
    k : int
        Neighbours per node (capped at ``n_nodes − 1``).

    Returns
    -------
    alchemist.layout.forces.PairAttraction
    """
    from alchemist.layout.forces import PairAttraction

    x = space.check_points(coordinates, "coordinates")
    if x.ndim != 2:
        raise DimensionMismatchError(f"coordinates must be (n_nodes, {space.n_dims}), got {x.shape}")
    n = len(x)
    k = min(int(k), n - 1)
    if k < 1:
        raise ConceptError(f"similarity_attraction needs at least 2 nodes and k >= 1 (got {n} nodes, k={k})")
    from alchemist.concepts.categorize import distance_matrix, is_euclidean, metric_arrays

    if is_euclidean(metric_arrays(space, space.n_dims)):
        from alchemist.concepts.learning import nearest_neighbors

        d, idx = nearest_neighbors(x, x, k=k + 1, space=space)
    else:
        dm = distance_matrix(x, x, space, backend="cpu")
        idx = np.argsort(dm, axis=1)[:, : k + 1]
        d = np.take_along_axis(dm, idx, axis=1)
    rows = np.repeat(np.arange(n), k + 1)
    cols, dist = idx.ravel(), d.ravel()
    keep = rows != cols
    rows, cols, dist = rows[keep], cols[keep], dist[keep]
    return PairAttraction(rows, cols, weight=np.exp(-c * dist), strength=strength)


def category_repulsion(labels, strength: float = 1.0, graph=None):
    """A ``GroupRepulsion`` force separating the nodes of different categories in a layout.

    Parameters
    ----------
    labels : array_like, shape ``(n_nodes,)``
        Category of each node (row = node row in the layout).
    strength : float
        Scale of the force, relative to ForceAtlas2's own repulsion (1: as strong as it).
    graph : Graph, optional
        The graph being laid out, for ForceAtlas2's masses ``1 + degree``; without it the masses
        come from the layout the force is given to (:meth:`~alchemist.layout.forces.Force.bind`).

    Returns
    -------
    alchemist.layout.forces.GroupRepulsion
        An extra force for :func:`alchemist.layout.forceatlas2` (``forces=[...]``).

    Examples
    --------
    >>> type(category_repulsion([0, 0, 1])).__name__
    'GroupRepulsion'
    """
    from alchemist.layout.forces import GroupRepulsion

    return GroupRepulsion(np.asarray(labels), strength=strength, graph=graph)


def space_events(space: ConceptualSpace, concepts=None) -> list[tuple[str, dict]]:
    """``(event_type, payload)`` pairs describing a space and its concepts and regions.

    Parameters
    ----------
    space : ConceptualSpace
        The space: a ``conceptual_space_created`` event carrying :meth:`ConceptualSpace.to_dict`.
    concepts : mapping, optional
        ``{id: item}``: each fuzzy :class:`Concept` or :class:`PrototypeConcepts` becomes a
        ``concept_added`` event (``space_id``, ``concept_id``, ``kind`` and the concept), each
        :class:`ConvexRegion` a ``region_added`` event (``space_id``, ``region_id``, ``A``, ``b``).

    Returns
    -------
    list of (str, dict)
        The events, space first; :func:`space_from_events` reads them back.

    Raises
    ------
    ConceptError
        If an item is of another type.

    Examples
    --------
    >>> from alchemist.concepts import Concept, ConceptualSpace
    >>> plane = ConceptualSpace({"a": [0, 1]}, name="plane")
    >>> events = space_events(plane, {"unit": Concept.from_cuboids(plane, [([0, 0], [1, 1])])})
    >>> [event_type for event_type, _ in events]
    ['conceptual_space_created', 'concept_added']
    """
    out = [("conceptual_space_created", space.to_dict())]
    for name, item in dict(concepts or {}).items():
        if isinstance(item, Concept):
            out.append(("concept_added", {"space_id": space.name, "concept_id": str(name), "kind": "star_shaped", "concept": item.to_dict()}))
        elif isinstance(item, PrototypeConcepts):
            out.append(("concept_added", {
                "space_id": space.name, "concept_id": str(name), "kind": "prototypes",
                "names": list(item.names), "prototypes": item.prototypes.tolist(),
            }))
        elif isinstance(item, ConvexRegion):
            out.append(("region_added", {"space_id": space.name, "region_id": str(name), "A": item.A.tolist(), "b": item.b.tolist()}))
        else:
            raise ConceptError(f"cannot describe {name!r} of type {type(item).__name__} as an event")
    return out


def space_from_events(events) -> tuple[ConceptualSpace, dict]:
    """Rebuild a space and its concepts and regions from :func:`space_events` output.

    Parameters
    ----------
    events : iterable of (str, dict)
        ``(event_type, payload)`` in order; unknown event types are ignored.

    Returns
    -------
    space : ConceptualSpace
    items : dict
        ``{id: Concept, PrototypeConcepts or ConvexRegion}``.

    Raises
    ------
    ConceptError
        If there is no ``conceptual_space_created`` event, or another event precedes it.

    Examples
    --------
    >>> from alchemist.concepts import Concept, ConceptualSpace
    >>> plane = ConceptualSpace({"a": [0, 1]}, name="plane")
    >>> unit = Concept.from_cuboids(plane, [([0, 0], [1, 1])])
    >>> space, items = space_from_events(space_events(plane, {"unit": unit}))
    >>> space.name, items["unit"] == unit
    ('plane', True)
    """
    space, items = None, {}
    for event_type, payload in events:
        if event_type == "conceptual_space_created":
            space = ConceptualSpace.from_dict(payload)
        elif space is None:
            raise ConceptError(f"event {event_type!r} arrived before conceptual_space_created")
        elif event_type == "concept_added" and payload.get("kind") == "prototypes":
            items[payload["concept_id"]] = PrototypeConcepts(space, payload["prototypes"], payload["names"])
        elif event_type == "concept_added":
            items[payload["concept_id"]] = Concept.from_dict(space, payload["concept"])
        elif event_type == "region_added":
            items[payload["region_id"]] = ConvexRegion(space, payload["A"], payload["b"])
    if space is None:
        raise ConceptError("no conceptual_space_created event")
    return space, items


def position_events(node_ids, coordinates, space_id: str = "space") -> list[tuple[str, dict]]:
    """``conceptual_position_set`` events placing graph nodes in a conceptual space.

    Parameters
    ----------
    node_ids : sequence
        Node ids (turned into strings).
    coordinates : array_like, shape ``(n_nodes, n_dims)``
        Their conceptual coordinates.
    space_id : str
        The space's name.

    Returns
    -------
    list of (str, dict)
        One ``("conceptual_position_set", {"node_id", "coordinates", "space_id"})`` per node.

    Raises
    ------
    DimensionMismatchError
        If the lengths differ or ``coordinates`` is not 2-D.
    ConceptError
        If a coordinate is not finite.

    Examples
    --------
    >>> position_events(["n1"], [[0.5, 1.0]], "plane")
    [('conceptual_position_set', {'node_id': 'n1', 'coordinates': [0.5, 1.0], 'space_id': 'plane'})]
    """
    ids = [str(i) for i in node_ids]
    x = np.asarray(coordinates, dtype=np.float64)
    if x.ndim != 2 or len(x) != len(ids):
        raise DimensionMismatchError(f"{len(ids)} node ids but coordinates of shape {x.shape}")
    if not np.isfinite(x).all():
        raise ConceptError("coordinates contain NaN or infinite values")
    return [
        ("conceptual_position_set", {"node_id": i, "coordinates": [float(v) for v in row], "space_id": space_id})
        for i, row in zip(ids, x.tolist())
    ]
