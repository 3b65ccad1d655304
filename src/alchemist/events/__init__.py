"""alchemist.events."""
