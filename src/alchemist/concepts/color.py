"""Colour data: CIELAB conversions, Munsell renotation chips and crowd-sourced colour names.

Conversions follow CIE 15:2004 (CIELAB, §8.2.1) and IEC 61966-2-1 (sRGB): sRGB → linear
(inverse companding) → CIE XYZ (D65, the sRGB matrix) → L*a*b* relative to the D65 white.
Munsell renotation data (Newhall, Judd & Nickerson 1943) are CIE xyY under illuminant C.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

from alchemist.concepts.space import ConceptualSpace
from alchemist.errors import ConceptError, InputFormatError

__all__ = [
    "WHITE_D65",
    "WHITE_C",
    "BASIC_COLOR_TERMS",
    "srgb_to_lab",
    "hex_to_lab",
    "xyz_to_lab",
    "xyy_to_lab",
    "lab_space",
    "read_munsell",
    "read_color_names",
    "basic_color_term",
]

#: Reference whites (CIE 1931 2° observer), Y = 1.
WHITE_D65 = np.array([0.95047, 1.0, 1.08883])
WHITE_C = np.array([0.98074, 1.0, 1.18232])

#: Berlin & Kay's (1969) eleven basic colour terms of English.
BASIC_COLOR_TERMS = ("red", "green", "blue", "yellow", "orange", "purple", "pink", "brown", "grey", "black", "white")

_SRGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)


def srgb_to_lab(rgb) -> np.ndarray:
    """sRGB in ``[0, 1]`` ``(..., 3)`` → CIELAB ``(..., 3)`` (D65 white).

    Raises
    ------
    ConceptError
        If a component is outside ``[0, 1]`` or not finite.
    """
    rgb = np.asarray(rgb, dtype=np.float64)
    if rgb.shape[-1:] != (3,) or not np.isfinite(rgb).all() or (rgb < 0).any() or (rgb > 1).any():
        raise ConceptError(f"sRGB values must be finite, in [0, 1], with a last axis of 3; got shape {rgb.shape}")
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return xyz_to_lab(linear @ _SRGB_TO_XYZ.T, WHITE_D65)


def hex_to_lab(hex_colors) -> np.ndarray:
    """Hex colours to CIELAB (sRGB, D65).

    Parameters
    ----------
    hex_colors : iterable of str
        ``"#rrggbb"`` strings (the ``#`` is optional).

    Returns
    -------
    ndarray, shape ``(n, 3)``
        ``L*, a*, b*``.

    Raises
    ------
    ConceptError
        If a string is not a 6-digit hex colour.

    Examples
    --------
    >>> hex_to_lab(["#ffffff", "#ff0000"]).round(1).tolist()
    [[100.0, -0.0, 0.0], [53.2, 80.1, 67.2]]
    """
    rgb = []
    for h in hex_colors:
        s = str(h).strip().lstrip("#")
        if not re.fullmatch(r"[0-9a-fA-F]{6}", s):
            raise ConceptError(f"{h!r} is not a hex colour like '#c93f38'")
        rgb.append([int(s[i : i + 2], 16) / 255.0 for i in (0, 2, 4)])
    return srgb_to_lab(np.array(rgb).reshape(-1, 3))


def xyz_to_lab(xyz, white=WHITE_D65) -> np.ndarray:
    """CIE XYZ to CIELAB (CIE 15:2004 §8.2.1).

    Parameters
    ----------
    xyz : array_like, shape ``(..., 3)``
        Tristimulus values, Y of the white = 1.
    white : array_like, shape ``(3,)``
        The reference white (D65 by default).

    Returns
    -------
    ndarray, shape ``(..., 3)``
        ``L*, a*, b*``.

    Examples
    --------
    >>> xyz_to_lab(WHITE_D65).round(6).tolist()
    [100.0, 0.0, 0.0]
    """
    t = np.asarray(xyz, dtype=np.float64) / np.asarray(white)
    delta = 6.0 / 29.0
    f = np.where(t > delta**3, np.cbrt(t), t / (3 * delta**2) + 4.0 / 29.0)
    L = 116.0 * f[..., 1] - 16.0
    a = 500.0 * (f[..., 0] - f[..., 1])
    b = 200.0 * (f[..., 1] - f[..., 2])
    return np.stack([L, a, b], axis=-1)


def xyy_to_lab(x, y, Y, white=WHITE_C) -> np.ndarray:
    """CIE xyY to CIELAB, illuminant C by default (as in the Munsell renotation tables).

    Parameters
    ----------
    x, y : array_like
        Chromaticity coordinates.
    Y : array_like
        Luminance in percent.
    white : array_like, shape ``(3,)``
        The reference white XYZ (illuminant C by default).

    Returns
    -------
    ndarray, shape ``(..., 3)``
        ``L*, a*, b*``.

    Examples
    --------
    >>> xyy_to_lab(0.31006, 0.31616, 100.0).round(1).tolist()  # the white of illuminant C
    [100.0, -0.0, 0.0]
    """
    x, y, Y = (np.asarray(v, dtype=np.float64) for v in (x, y, Y))
    Yr = Y / 100.0
    X = x * Yr / y
    Z = (1.0 - x - y) * Yr / y
    return xyz_to_lab(np.stack([X, Yr, Z], axis=-1), white)


def lab_space(name: str = "cielab") -> ConceptualSpace:
    """The colour domain as a conceptual space: one Euclidean domain L*, a*, b* (ΔE*ab is its metric).

    Parameters
    ----------
    name : str
        Name of the space.

    Returns
    -------
    ConceptualSpace
        Domain ``"color"`` over dimensions 0–2, ranges L* 0–100 and a*, b* ±128.

    Examples
    --------
    >>> space = lab_space()
    >>> space.dimension_names, float(space.distance([50, 0, 0], [50, 3, 4])) * 3 ** 0.5
    (['L*', 'a*', 'b*'], 5.0)
    """
    return ConceptualSpace(
        {"color": [0, 1, 2]},
        dimension_names=["L*", "a*", "b*"],
        ranges=[(0.0, 100.0), (-128.0, 128.0), (-128.0, 128.0)],
        name=name,
    )


def read_munsell(path) -> dict[str, np.ndarray]:
    """Read a Munsell renotation file.

    ``munsell_real.dat`` / ``munsell_all.dat`` / ``munsell_1929.dat`` (columns ``h V C x y Y``)
    or the RIT ``munsell_real_CIELAB.csv`` (with ``L*, a*, b*``).

    Returns
    -------
    dict with ``"hue"`` (str, e.g. ``"5R"``), ``"hue_number"`` (float in [0, 100), Munsell hue
    circle starting at 0 = 10RP), ``"value"``, ``"chroma"``, ``"x"``, ``"y"``, ``"Y"`` and
    ``"lab"`` ``(n, 3)`` (from the file where present, else computed with :func:`xyy_to_lab`).

    Raises
    ------
    InputFormatError
        If the file is missing or a row is malformed (the message names the line).
    """
    path = Path(path)
    if not path.exists():
        raise InputFormatError(f"Munsell file {path} does not exist", path=str(path))
    rows = []
    lab = []
    if path.suffix == ".csv":
        with path.open(newline="") as fh:
            for lineno, r in enumerate(csv.DictReader(fh), start=2):
                try:
                    rows.append((r["h"], float(r["V"]), float(r["C"]), float(r["x"]), float(r["y"]), float(r["Y"])))
                    lab.append((float(r["L*"]), float(r["a*"]), float(r["b*"])))
                except (KeyError, ValueError) as exc:
                    raise InputFormatError(f"{path}:{lineno}: malformed row ({exc})", path=str(path), line=lineno) from None
    else:
        for lineno, line in enumerate(path.read_text().splitlines(), start=1):
            parts = line.split()
            if not parts or parts[0] == "h":
                continue
            try:
                h, V, C, x, y, Y = parts
                rows.append((h, float(V), float(C), float(x), float(y), float(Y)))
            except ValueError:
                raise InputFormatError(f"{path}:{lineno}: expected 'h V C x y Y', got {line!r}", path=str(path), line=lineno) from None
    hue = np.array([r[0] for r in rows], dtype=object)
    cols = np.array([r[1:] for r in rows], dtype=np.float64)
    out = {
        "hue": hue,
        "hue_number": np.array([_hue_number(h) for h in hue]),
        "value": cols[:, 0],
        "chroma": cols[:, 1],
        "x": cols[:, 2],
        "y": cols[:, 3],
        "Y": cols[:, 4],
    }
    out["lab"] = np.array(lab) if lab else xyy_to_lab(out["x"], out["y"], out["Y"])
    return out


def read_color_names(path) -> tuple[list[str], np.ndarray]:
    """Read a ``name,hex`` colour-name list (the CSV of meodai/color-names).

    Parameters
    ----------
    path : str or Path
        The CSV file, with the columns ``name`` and ``hex``.

    Returns
    -------
    names : list of str
        The colour names, in file order.
    lab : ndarray, shape ``(n, 3)``
        Their CIELAB coordinates (:func:`hex_to_lab`).

    Raises
    ------
    InputFormatError
        If the file is missing, lacks a column, or holds a malformed hex colour.

    Examples
    --------
    >>> names, lab = read_color_names("color-names.csv")  # doctest: +SKIP
    """
    path = Path(path)
    if not path.exists():
        raise InputFormatError(f"colour-name file {path} does not exist", path=str(path))
    names, hexes = [], []
    with path.open(newline="", encoding="utf-8") as fh:
        for lineno, r in enumerate(csv.DictReader(fh), start=2):
            if "name" not in r or "hex" not in r:
                raise InputFormatError(f"{path}: needs the columns name,hex", path=str(path), line=lineno)
            names.append(r["name"])
            hexes.append(r["hex"])
    try:
        return names, hex_to_lab(hexes)
    except ConceptError as exc:
        raise InputFormatError(f"{path}: {exc}", path=str(path)) from None


def basic_color_term(name: str, terms=BASIC_COLOR_TERMS) -> str | None:
    """The single basic colour term that a colour name contains as a word.

    Parameters
    ----------
    name : str
        A colour name (``"gray"`` is read as ``"grey"``).
    terms : sequence of str
        The basic colour terms (Berlin & Kay's eleven by default).

    Returns
    -------
    str or None
        The term, or None when the name contains none or several.

    Examples
    --------
    >>> basic_color_term("Dark Gray"), basic_color_term("Red Blue")
    ('grey', None)
    """
    words = set(re.findall(r"[a-z]+", name.lower().replace("gray", "grey")))
    found = [t for t in terms if t in words]
    return found[0] if len(found) == 1 else None


# ---------------------------------------------------------------------- helpers
_HUE_ORDER = ["R", "YR", "Y", "GY", "G", "BG", "B", "PB", "P", "RP"]


def _hue_number(h: str) -> float:
    m = re.fullmatch(r"([0-9.]+)([A-Z]+)", str(h))
    if not m or m.group(2) not in _HUE_ORDER:
        return float("nan")
    return (_HUE_ORDER.index(m.group(2)) * 10.0 + float(m.group(1))) % 100.0
