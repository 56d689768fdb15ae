"""Renderings of a Report: JSON (the contract) and plain text for people."""
