"""The JSON verdict document of the contract (../shared/DESIGN.md): the CLI and the HTTP API return the same."""

from __future__ import annotations

import json

from ..verdict import Report

__all__ = ["render_json"]


def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2)
