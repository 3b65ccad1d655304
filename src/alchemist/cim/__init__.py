"""alchemist.cim."""
