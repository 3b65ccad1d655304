"""alchemist.concepts."""
