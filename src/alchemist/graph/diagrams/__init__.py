"""Diagram formats."""
