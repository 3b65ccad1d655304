"""alchemist.render."""
