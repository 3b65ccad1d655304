"""alchemist.layout."""
