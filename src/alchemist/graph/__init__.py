"""alchemist.graph."""
