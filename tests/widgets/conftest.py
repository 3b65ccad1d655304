"""Helpers for the widget tests: small graphs with positions given by hand (no layout engine)."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from PIL import Image

# the browser suite's fixtures (headless Chromium, Voilà on localhost, notebook copies)
from tests.browser.conftest import browser, notebook_copy, page, voila  # noqa: F401


def _id_layout(graph, previous=None) -> np.ndarray:
    """Deterministic positions from each node id's CRC-32 (stand-in for a layout in live tests)."""
    return np.array([[zlib.crc32(n.encode()) % 1000, zlib.crc32(n.encode()[::-1]) % 1000]
                     for n in graph.node_ids], dtype=np.float32).reshape(-1, 2)


def _decode(image: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(image)).convert("RGB"))


@pytest.fixture
def small_graph():
    import alchemist

    g = alchemist.Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")])
    pos = np.array([[0, 0], [10, 0], [5, 10], [20, 20]], dtype=np.float32)
    return g, pos


@pytest.fixture
def id_layout():
    """``id_layout(graph, previous) -> (n, 2)`` positions from the node ids."""
    return _id_layout


@pytest.fixture
def decode():
    """``decode(png_or_jpeg_bytes) -> (h, w, 3)`` uint8 array."""
    return _decode
