"""trustsvc: signature and trust validation for cross-border public e-procurement."""

__version__ = "0.1.0"
