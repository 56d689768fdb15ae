"""Server-rendered pages for bidders, tendering platforms and the pilots' legal teams (issue 7).

Jinja2 templates, autoescaped, in English, French, Italian, Czech, Swedish and Spanish; accessible (labels, a skip
link, visible focus, marks beside colours), printable (a print stylesheet), and no JavaScript anywhere. ``router``
holds the pages; :func:`static_files` serves their stylesheet under ``/static``.
"""

from __future__ import annotations

from starlette.staticfiles import StaticFiles

from .render import STATIC_DIR
from .routes import router

__all__ = ["router", "static_files", "STATIC_DIR"]


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)
