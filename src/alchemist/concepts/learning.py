"""Learning concepts from data: prototypes and cuboids from labelled points, categories by
clustering, nearest neighbours, and 2-D projections for display.

Prototype = mean of a category's points (Gärdenfors 2000, §4.9; Rosch's prototype theory);
cuboid core = the bounding box of a category's central points (a quantile box), with the
sensitivity chosen so that the membership at the category's median distance from the core
is ``1/2`` (a simple, stated heuristic).
"""

from __future__ import annotations

import numpy as np

from alchemist.concepts.concept import Concept
from alchemist.concepts.regions import PrototypeConcepts
from alchemist.concepts.space import ConceptualSpace
from alchemist.errors import ConceptError, DimensionMismatchError

__all__ = ["fit_prototypes", "fit_cuboid_concepts", "detect_categories", "nearest_neighbors", "project_2d"]


def fit_prototypes(space: ConceptualSpace, points, labels) -> PrototypeConcepts:
    """One prototype per label: the mean of its members (circular dimensions: the circular mean).

    Parameters
    ----------
    space : ConceptualSpace
        The space.
    points : array_like, shape ``(n_points, n_dims)``
        Labelled points.
    labels : array_like, shape ``(n_points,)``
        A hashable label per point.

    Returns
    -------
    PrototypeConcepts
        Named by the labels (as strings), sorted.

    Raises
    ------
    DimensionMismatchError
        If the shapes do not fit.
    ConceptError
        If no points are given.

    Examples
    --------
    >>> from alchemist.concepts import ConceptualSpace
    >>> pc = fit_prototypes(ConceptualSpace({"a": [0, 1]}), [[0, 0], [0, 2], [4, 4]], ["x", "x", "y"])
    >>> pc.names, pc.prototypes.tolist()
    (['x', 'y'], [[0.0, 1.0], [4.0, 4.0]])
    """
    x, labels = _labelled(space, points, labels)
    names = sorted(set(labels.tolist()), key=str)
    protos = np.array([_mean(space, x[labels == n]) for n in names])
    return PrototypeConcepts(space, protos, [str(n) for n in names])


def fit_cuboid_concepts(space: ConceptualSpace, points, labels, quantile: float = 0.25, mu: float = 1.0) -> dict[str, Concept]:
    """One fuzzy concept per label, fitted to its points.

    The core is the box between the ``quantile`` and ``1 − quantile`` per-dimension quantiles of
    the label's points; ``c`` puts membership 1/2 at the median distance of its points outside
    the core.

    Parameters
    ----------
    space : ConceptualSpace
        The space.
    points : array_like, shape ``(n_points, n_dims)``
        Labelled points.
    labels : array_like, shape ``(n_points,)``
        A hashable label per point.
    quantile : float
        In ``[0, 0.5)``; 0 gives the bounding box.
    mu : float
        Maximal membership of every concept.

    Returns
    -------
    dict of str to Concept
        By label, sorted.

    Raises
    ------
    ConceptError
        If ``quantile`` is not in ``[0, 0.5)`` or no points are given.
    DimensionMismatchError
        If the shapes do not fit.

    Examples
    --------
    >>> from alchemist.concepts import ConceptualSpace
    >>> pts = [[0, 0], [0, 2], [1, 1], [4, 4], [5, 5]]
    >>> concepts = fit_cuboid_concepts(ConceptualSpace({"a": [0, 1]}), pts, ["x", "x", "x", "y", "y"])
    >>> concepts["x"].cuboids
    [([0.0, 0.5], [0.5, 1.5])]
    """
    if not 0.0 <= quantile < 0.5:
        raise ConceptError(f"quantile = {quantile!r} must lie in [0, 0.5)")
    x, labels = _labelled(space, points, labels)
    out = {}
    for name in sorted(set(labels.tolist()), key=str):
        pts = x[labels == name]
        lo = np.quantile(pts, quantile, axis=0)
        hi = np.quantile(pts, 1.0 - quantile, axis=0)
        concept = space.concept([(lo, hi)], mu=mu, c=1.0)
        d = np.asarray(concept.distance_to_core(pts))
        outside = d[d > 0]
        median = float(np.median(outside)) if outside.size else 1.0
        out[str(name)] = concept.with_parameters(c=np.log(2.0) / max(median, 1e-12))
    return out


def detect_categories(points, n_categories: int, method: str = "kmeans", random_state: int = 0, backend: str = "auto"):
    """Unsupervised categories of points (scikit-learn, on the CPU).

    Parameters
    ----------
    points : array_like, shape ``(n_points, n_dims)``
        Finite coordinates.
    n_categories : int
        Number of categories, ``1 … n_points``.
    method : {"kmeans", "gmm"}
        ``KMeans`` (k-means++, 4 starts) or ``GaussianMixture`` (full covariances).
    random_state : int
        Seed.
    backend : str
        Accepted for symmetry with the other calls; the computation runs on the CPU.

    Returns
    -------
    labels : ndarray, shape ``(n_points,)``, int64
    centers : ndarray, shape ``(n_categories, n_dims)``, float64

    Raises
    ------
    ConceptError
        On non-finite points, an ``n_categories`` out of range or an unknown ``method``.
    MissingDependencyError
        If scikit-learn is not installed (``pip install 'alchemist[learn]'``).

    Examples
    --------
    >>> labels, centers = detect_categories([[0, 0], [0, 1], [10, 10], [10, 11]], 2)
    >>> bool(labels[0] == labels[1] != labels[2] == labels[3])
    True
    """
    x = np.asarray(points, dtype=np.float64)
    if x.ndim != 2 or not np.isfinite(x).all():
        raise ConceptError("points must be a finite (n_points, n_dims) array")
    if not 1 <= int(n_categories) <= len(x):
        raise ConceptError(f"n_categories = {n_categories!r} must lie in 1..{len(x)}")
    if method == "kmeans":
        KMeans = _sklearn("sklearn.cluster").KMeans

        model = KMeans(n_clusters=int(n_categories), n_init=4, random_state=random_state).fit(x)
        return model.labels_.astype(np.int64), model.cluster_centers_
    if method == "gmm":
        GaussianMixture = _sklearn("sklearn.mixture").GaussianMixture

        model = GaussianMixture(n_components=int(n_categories), random_state=random_state).fit(x)
        return model.predict(x).astype(np.int64), model.means_
    raise ConceptError(f"unknown method {method!r}; use 'kmeans' or 'gmm'")


def nearest_neighbors(points, queries, k: int = 1, space: ConceptualSpace | None = None):
    """The ``k`` nearest points of each query (SciPy's ``cKDTree``).

    Parameters
    ----------
    points : array_like, shape ``(n, n_dims)``
        The points searched.
    queries : array_like, shape ``(n_q, n_dims)``
        The query points.
    k : int
        Neighbours per query, ``1 … n``.
    space : ConceptualSpace, optional
        A space whose metric is Euclidean after weight scaling (one continuous domain): the
        coordinates are rescaled by its salience weights.

    Returns
    -------
    distances : ndarray, shape ``(n_q, k)``, float64
    indices : ndarray, shape ``(n_q, k)``, int64

    Raises
    ------
    DimensionMismatchError
        If the arrays are not 2-D of equal widths.
    ConceptError
        If ``space`` is not Euclidean or ``k`` is out of range.

    Examples
    --------
    >>> d, i = nearest_neighbors([[0, 0], [1, 0], [5, 5]], [[0.9, 0.1]], k=2)
    >>> d.round(4).tolist(), i.tolist()
    ([[0.1414, 0.9055]], [[1, 0]])
    """
    from scipy.spatial import cKDTree

    x = np.asarray(points, dtype=np.float64)
    q = np.asarray(queries, dtype=np.float64)
    if x.ndim != 2 or q.ndim != 2 or x.shape[1] != q.shape[1]:
        raise DimensionMismatchError(f"points {x.shape} and queries {q.shape} must be 2-D with equal widths")
    if space is not None:
        from alchemist.concepts.categorize import is_euclidean, metric_arrays

        arrays = metric_arrays(space, x.shape[1])
        if not is_euclidean(arrays):
            raise ConceptError("nearest_neighbors uses a KD-tree and needs a Euclidean space (one continuous domain)")
        scale = np.sqrt(arrays[0] * arrays[1][arrays[2]])
        x, q = x * scale, q * scale
    k = int(k)
    if not 1 <= k <= len(x):
        raise ConceptError(f"k = {k} must lie in 1..{len(x)}")
    d, i = cKDTree(x).query(q, k=k, workers=-1)
    return np.asarray(d).reshape(len(q), k), np.asarray(i).reshape(len(q), k).astype(np.int64)


def project_2d(points, method: str = "pca", random_state: int = 0) -> np.ndarray:
    """2-D coordinates of points for display.

    Parameters
    ----------
    points : array_like, shape ``(n_points, n_dims)``
        Finite coordinates, ``n_dims >= 2``.
    method : {"pca", "mds"}
        Principal components or metric multidimensional scaling (scikit-learn).
    random_state : int
        Seed.

    Returns
    -------
    ndarray, shape ``(n_points, 2)``, float32

    Raises
    ------
    ConceptError
        On a bad shape, non-finite points or an unknown ``method``.
    MissingDependencyError
        If scikit-learn is not installed (``pip install 'alchemist[learn]'``).

    Examples
    --------
    >>> project_2d([[0, 0, 0], [1, 1, 1], [2, 2, 2]]).shape
    (3, 2)
    """
    x = np.asarray(points, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] < 2 or not np.isfinite(x).all():
        raise ConceptError(f"points must be a finite (n_points, n_dims >= 2) array, got shape {x.shape}")
    if method == "pca":
        PCA = _sklearn("sklearn.decomposition").PCA

        return PCA(n_components=2, random_state=random_state).fit_transform(x).astype(np.float32)
    if method == "mds":
        MDS = _sklearn("sklearn.manifold").MDS

        return MDS(n_components=2, random_state=random_state, n_init=1, init="random").fit_transform(x).astype(np.float32)
    raise ConceptError(f"unknown method {method!r}; use 'pca' or 'mds'")


# ---------------------------------------------------------------------- helpers
def _labelled(space, points, labels):
    x = space.check_points(points)
    labels = np.asarray(labels)
    if x.ndim != 2 or labels.shape != (len(x),):
        raise DimensionMismatchError(f"points {x.shape} and labels {labels.shape} must be (n, n_dims) and (n,)")
    if len(x) == 0:
        raise ConceptError("no labelled points given")
    return x, labels


def _mean(space, pts):
    out = pts.mean(axis=0)
    for j in np.flatnonzero(space.periods > 0):
        lo = space.ranges[j][0]
        ang = (pts[:, j] - lo) / space.periods[j] * 2 * np.pi
        mean = np.arctan2(np.sin(ang).mean(), np.cos(ang).mean()) % (2 * np.pi)
        out[j] = lo + mean / (2 * np.pi) * space.periods[j]
    return out


def _sklearn(module: str):
    from alchemist._optional import require

    return require(module, extra="learn", feature="alchemist.concepts.learning", package="scikit-learn")
