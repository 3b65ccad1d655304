"""ConceptSpaceView: a 2-D projection of a conceptual space with its prototypes and regions.

The kernel projects the points (PCA by default, or any ``(n, 2)`` projection the caller gives),
colours each pixel of the plane by its nearest projected prototype (the Voronoi regions of the
prototype concepts, Gärdenfors 2000 §3.9), draws points and prototypes, and sends the picture as
bytes. A click in the plane is mapped back to the space and categorized by ``categorize`` —
by default nearest prototype in the projection; pass :func:`alchemist.concepts.categorize` with
the space to categorize in the full space.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import traitlets as t

from alchemist.errors import WidgetError
from alchemist.render import raster
from alchemist.widgets._base import AlchemistWidget, asset, escape, png_html
from alchemist.widgets.graph_view import PALETTE

__all__ = ["ConceptSpaceView"]


class ConceptSpaceView(AlchemistWidget):
    """Points, prototypes and prototype regions of a conceptual space, in 2-D.

    Parameters
    ----------
    points : (n, d) array
        Points in the space (d ≥ 2).
    prototypes : (k, d) array
        Prototype points of ``k`` concepts.
    names : sequence of str, length k
        Concept names (shown as text).
    point_colors : sequence of "#rrggbb", length n, optional
        A colour per point (e.g. the sRGB of a colour chip); by default the colour of its concept.
    prototype_colors : sequence of "#rrggbb", length k, optional
    projection : (n + k, 2) array or callable, optional
        2-D coordinates of points then prototypes, or ``f((m, d)) -> (m, 2)``; PCA by default.
    categorize : callable, optional
        ``categorize(points (m, d), prototypes (k, d)) -> (m,) int``; with a projection that is not
        invertible (anything but the default PCA) clicks are categorized in the plane.
    width, height : int
        Size of the picture in pixels; the plane it shows spans the projected points and
        prototypes with 5 % padding on each side.

    Attributes (synced traits)
    --------------------------
    image : bytes (PNG). names, colors : list of str — the legend.
    clicked : dict — ``x``, ``y`` (plane), ``concept`` (index), ``name`` and the pixel ``px``, ``py``
      of the last click (the browser marks it on the picture).
    """

    _esm = asset("dom.js", "concept_view.js")

    image = t.Bytes(b"").tag(sync=True)
    width = t.Int(640).tag(sync=True)
    height = t.Int(480).tag(sync=True)
    names = t.List(t.Unicode()).tag(sync=True)
    colors = t.List(t.Unicode()).tag(sync=True)
    clicked = t.Dict().tag(sync=True)
    title = t.Unicode("").tag(sync=True)

    def __init__(self, points, prototypes, names: Sequence[str], *, point_colors: Sequence[str] | None = None,
                 prototype_colors: Sequence[str] | None = None, projection=None,
                 categorize: Callable | None = None, width: int = 640, height: int = 480, title: str = ""):
        X = np.asarray(points, dtype=np.float64)
        P = np.asarray(prototypes, dtype=np.float64)
        if X.ndim != 2 or P.ndim != 2 or X.shape[1] != P.shape[1] or X.shape[1] < 2:
            raise WidgetError(f"points {X.shape} and prototypes {P.shape} must be (n, d) and (k, d) with the same d ≥ 2")
        if len(names) != P.shape[0]:
            raise WidgetError(f"{len(names)} names for {P.shape[0]} prototypes; give one name per prototype")
        colors = list(prototype_colors or [PALETTE[i % len(PALETTE)] for i in range(P.shape[0])])
        for c in colors + list(point_colors or []):
            raster.parse_color(c)
        super().__init__(width=int(width), height=int(height), names=[str(n) for n in names], colors=colors,
                         title=title)
        self.points, self.prototypes = X, P
        self._categorize = categorize
        self._pca = None
        if projection is None:
            both = np.vstack([X, P])
            mean = both.mean(axis=0)
            _, _, vt = np.linalg.svd(both - mean, full_matrices=False)
            self._pca = (mean, vt[:2])
            flat = (both - mean) @ vt[:2].T
        elif callable(projection):
            flat = np.asarray(projection(np.vstack([X, P])), dtype=np.float64)
        else:
            flat = np.asarray(projection, dtype=np.float64)
        if flat.shape != (X.shape[0] + P.shape[0], 2):
            raise WidgetError(f"projection gave shape {flat.shape}; expected ({X.shape[0] + P.shape[0]}, 2)")
        self.xy, self.prototype_xy = flat[: X.shape[0]], flat[X.shape[0]:]
        self.labels = self._assign(X, self.xy)
        self._point_rgb = (np.array([raster.parse_color(c) for c in point_colors], np.uint8) if point_colors
                           else np.array([raster.parse_color(colors[i]) for i in self.labels], np.uint8).reshape(-1, 3))
        lo, hi = flat.min(axis=0), flat.max(axis=0)
        pad = 0.05 * np.maximum(hi - lo, 1e-9)
        self.view = raster.Viewport((lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1]), self.width,
                                     self.height)
        self.image = self.render()
        self.on_msg(self._on_custom_msg)

    def render(self) -> bytes:
        """Draw the prototype regions, the points and the prototypes.

        Returns
        -------
        bytes
            A PNG of ``width × height`` pixels.
        """
        v = self.view
        cols, rows = np.meshgrid(np.arange(v.width) + 0.5, np.arange(v.height) + 0.5)
        plane = v.to_data(np.column_stack([cols.ravel(), rows.ravel()]))
        region = _nearest(plane, self.prototype_xy)
        tint = np.array([raster.parse_color(c) for c in self.colors], np.float32)
        image = (0.25 * tint[region] + 0.75 * 24).astype(np.uint8).reshape(v.height, v.width, 3)
        _, px = raster.node_pixels(self.xy, v)
        inside = raster.node_pixels(self.xy, v)[0]
        raster.draw_points(image, px, self._point_rgb[inside], 3)
        _, ppx = raster.node_pixels(self.prototype_xy, v)
        raster.draw_points(image, ppx, np.array([255, 255, 255], np.uint8), 11)
        raster.draw_points(image, ppx, tint.astype(np.uint8)[: ppx.shape[0]], 7)
        return raster.encode_image(image)

    def categorize_pixel(self, x: float, y: float) -> dict:
        """Categorize the point under a pixel of the picture (the click answer).

        Parameters
        ----------
        x, y : float
            Pixel ``(column, row)``, row 0 at the top.

        Returns
        -------
        dict
            ``x``, ``y`` (plane coordinates), ``concept`` (index), ``name``, ``px``, ``py``: with a
            ``categorize`` function and the default PCA projection, the point is mapped back to the
            space and categorized there, else by the nearest projected prototype.
        """
        xy = self.view.to_data(np.array([[x, y]]))
        if self._pca is not None and self._categorize is not None:
            mean, axes = self._pca
            label = int(self._categorize(mean + xy @ axes, self.prototypes)[0])
        else:
            label = int(_nearest(xy, self.prototype_xy)[0])
        return {"x": float(xy[0, 0]), "y": float(xy[0, 1]), "concept": label, "name": self.names[label],
                "px": float(x), "py": float(y)}

    def static_html(self) -> str:
        """HTML shown where no widget manager runs (nbconvert, papermill reports).

        Returns
        -------
        str
            The picture and a legend of the concepts' colours, with every user-given text escaped.
        """
        legend = " · ".join(f'<span style="color:{c}">■</span> {escape(n)}' for n, c in zip(self.names, self.colors))
        return png_html(self.image, f"conceptual space {self.title}", self.width) + f"<div>{legend}</div>"

    def _assign(self, X, xy) -> np.ndarray:
        if self._categorize is not None:
            return np.asarray(self._categorize(X, self.prototypes), dtype=np.int64)
        return _nearest(xy, self.prototype_xy)

    def _on_custom_msg(self, _widget, content, buffers) -> None:
        if isinstance(content, dict) and content.get("type") == "click":
            self.clicked = self.categorize_pixel(content["x"], content["y"])


def _nearest(points: np.ndarray, prototypes: np.ndarray) -> np.ndarray:
    from scipy.spatial import cKDTree

    return cKDTree(prototypes).query(points, k=1)[1].astype(np.int64)
