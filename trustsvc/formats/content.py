"""Detached content: the files a detached signature signs, hashed as streams and never held in memory."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .digests import digest_file

__all__ = ["DetachedContent"]


@dataclass
class DetachedContent:
    """One file given as signed content (``--content``, or a bid's other files).

    Digests are computed on demand, all requested algorithms in one pass over the file, and cached.
    """

    name: str
    path: Path
    _digests: dict[str, bytes] = field(default_factory=dict, repr=False)

    async def ensure_digests(self, algorithms: Iterable[str]) -> None:
        missing = {a for a in algorithms if a not in self._digests}
        if missing:
            self._digests.update(await asyncio.to_thread(digest_file, self.path, missing))

    def digest(self, algorithm: str) -> bytes | None:
        """The cached digest; None if it was not computed (or the algorithm is unsupported)."""
        return self._digests.get(algorithm)
