"""The trust the service validates with: one snapshot at a time, swapped whole, refreshed in the background.

A validation takes the current :class:`TrustView` once and uses it to the end, so a refresh that lands meanwhile
never mixes two snapshots in one report. Refreshing (download, verify, store: seconds for the EU lists) runs in a
worker thread under a database lease, so that one worker of one replica does it; every process then notices the
new snapshot in the store and loads it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from ..trust.setup import ResolvedTrust, trust_from_store
from ..trust.snapshots import refresh_source
from ..trust.sources import TrustSource
from ..trust.store import TrustStore
from ..verdict import TrustSummary
from .lease import acquire_lease, release_lease

__all__ = ["TrustView", "TrustState", "RefreshResult", "Health"]

logger = logging.getLogger(__name__)

REFRESH_LEASE = "trust-refresh"
_UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class TrustView:
    resolved: ResolvedTrust
    loaded_at: datetime

    @property
    def summary(self) -> TrustSummary:
        return self.resolved.summary


@dataclass(frozen=True)
class RefreshResult:
    ran: bool
    snapshot_id: int | None = None
    changed: bool = False
    refused: tuple[str, ...] = ()
    message: str = ""
    unavailable: tuple[str, ...] = ()
    """The territories (``EU``: the LOTL) whose list could not be fetched: nothing was received, nothing stored."""


@dataclass(frozen=True)
class Health:
    status: str
    """``ok``, ``degraded`` (stale, refused or unreachable lists, serving the last good snapshot) or ``down`` (no
    anchors, or the database is unreachable)."""
    details: dict = field(default_factory=dict)


class TrustState:
    def __init__(self, store: TrustStore, source: TrustSource, holder: str):
        self.store = store
        self.source = source
        self.holder = holder
        self._view: TrustView | None = None
        self._lock = threading.Lock()
        self.last_refresh: tuple[datetime, RefreshResult] | None = None

    @property
    def current(self) -> TrustView:
        view = self._view
        if view is None:
            raise RuntimeError("trust is not loaded yet")
        return view

    @property
    def loaded(self) -> bool:
        return self._view is not None

    def load(self, now: datetime, *, wait: float = 120.0) -> TrustView:
        """Load the latest snapshot and make it current. Into an empty store, one process (the lease holder)
        ingests the source first while the others wait for its snapshot."""
        deadline = time.monotonic() + wait
        while self.store.latest_snapshot() is None:
            if acquire_lease(self.store.engine, REFRESH_LEASE, self.holder, now, timedelta(minutes=10)):
                try:
                    view = TrustView(trust_from_store(self.store, self.source, now), now)
                finally:
                    release_lease(self.store.engine, REFRESH_LEASE, self.holder)
                return self._swap(view)
            if time.monotonic() > deadline:
                break  # the holder may have died: ingest ourselves (the store refuses duplicates)
            time.sleep(0.2)
        return self._swap(TrustView(trust_from_store(self.store, self.source, now), now))

    def _swap(self, view: TrustView) -> TrustView:
        with self._lock:
            self._view = view
        logger.info("trust snapshot %s in force (%d anchors)", view.summary.snapshot_id, view.summary.anchors)
        return view

    def reload_if_newer(self, now: datetime) -> bool:
        """Pick up a snapshot another process stored; True if the current trust changed."""
        latest = self.store.latest_snapshot()
        current = self._view.summary.snapshot_id if self._view else None
        if latest is None or latest.id == current:
            return False
        self.load(now)
        return True

    def refresh(self, now: datetime, lease_for: timedelta = timedelta(minutes=10)) -> RefreshResult:
        """Fetch and verify the source's lists into the store (if this process gets the lease), then load the
        newest snapshot. Blocking: run it in a thread."""
        if not acquire_lease(self.store.engine, REFRESH_LEASE, self.holder, now, lease_for):
            result = RefreshResult(False, message="another process is refreshing")
            self.reload_if_newer(now)
            return result
        try:
            report = refresh_source(self.store, self.source, now)
        finally:
            release_lease(self.store.engine, REFRESH_LEASE, self.holder)
        refused = tuple(o.territory for o in report.lists if not o.accepted)
        unavailable = tuple(o.territory for o in report.lists if o.verification.code == _UNAVAILABLE)
        if not report.lotl.verified:
            verification = report.lotl.verification
            missing = ("EU",) if verification.code == _UNAVAILABLE else ()
            result = RefreshResult(True, None, False, ("EU",), f"LOTL refused: {verification.code}", missing)
        else:
            changed = self.reload_if_newer(now)
            result = RefreshResult(True, report.snapshot_id, changed, refused, "refreshed", unavailable)
        self.last_refresh = (now, result)
        return result

    def health(self, now: datetime) -> Health:
        view = self._view
        if view is None:
            return Health("down", {"reason": "trust is not loaded"})
        summary = view.summary
        registry = getattr(view.resolved.provider, "registry", None)
        anchors = registry.anchor_count(now) if registry is not None else summary.anchors
        try:
            stale = [v.label for v in self._snapshot_versions(summary.snapshot_id) if v.is_stale(now)]
            refused = []
            if summary.snapshot_id is not None:
                snapshot = self.store.snapshot(summary.snapshot_id)
                refused = [v.label for v in self.store.recent_refusals(snapshot.created_at)]
        except (OperationalError, InterfaceError, PoolTimeoutError):
            reason = "the database is unreachable"
            return Health("down", {"source": summary.source, "snapshot_id": summary.snapshot_id, "reason": reason})
        unavailable = []
        if self.last_refresh is not None:
            unavailable = [_list_name(territory) for territory in self.last_refresh[1].unavailable]
        details = {
            "source": summary.source,
            "snapshot_id": summary.snapshot_id,
            "loaded_at": view.loaded_at.isoformat().replace("+00:00", "Z"),
            "lists": len(summary.lists),
            "anchors": anchors,
            "stale": stale,
            "refused": refused,
            "unavailable": unavailable,
        }
        if self.last_refresh is not None:
            at, result = self.last_refresh
            details["last_refresh"] = {"at": at.isoformat().replace("+00:00", "Z"), "result": result.message}
        if summary.warning:
            details["warning"] = summary.warning
        if anchors == 0:
            return Health("down", {**details, "reason": "no trust anchor is in force"})
        if stale or refused or unavailable:
            return Health("degraded", details)
        return Health("ok", details)

    def _snapshot_versions(self, snapshot_id: int | None):
        return self.store.snapshot_versions(snapshot_id) if snapshot_id is not None else ()


def _list_name(territory: str) -> str:
    return "LOTL EU" if territory == "EU" else f"TL {territory}"
