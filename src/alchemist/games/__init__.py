"""alchemist.games."""
