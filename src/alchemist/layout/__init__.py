"""alchemist.layout: force-directed layout (ForceAtlas2 with Barnes–Hut) and its extra forces.

- :func:`forceatlas2` — ForceAtlas2 on the CPU (Numba) or GPU (Numba CUDA);
- :func:`incremental_layout` — place and settle new nodes of a streaming graph;
- :mod:`alchemist.layout.forces` — pluggable extra forces;
- :mod:`alchemist.layout.metrics` — neighbourhood preservation, stress, edge crossings.
"""

from alchemist.layout import forces, metrics
from alchemist.layout.force_atlas import forceatlas2, incremental_layout

__all__ = ["forceatlas2", "incremental_layout", "forces", "metrics"]
