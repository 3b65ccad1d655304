"""alchemist.widgets."""
