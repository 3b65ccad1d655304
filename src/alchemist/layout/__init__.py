"""alchemist.layout: force-directed layout (ForceAtlas2 with Barnes–Hut) and its extra forces."""

from alchemist.layout import forces

__all__ = ["forces"]
