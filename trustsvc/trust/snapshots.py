"""From the store to a registry: the trust in force for validations, loaded from one snapshot.

A snapshot's lists were authenticated when they were recorded; their stored bytes are exactly what was verified
(the signature covers the root), so they are only parsed here. When the store holds nothing yet, the default
trust source is ingested first, so that a fresh installation validates against the demo lists offline.
"""

from __future__ import annotations

import logging
from datetime import datetime
from importlib import resources

from asn1crypto import pem

from ..settings import get_settings
from .refresh import RefreshReport, fetcher_for, refresh
from .registry import TrustRegistry
from .sources import TrustSource
from .store import SnapshotInfo, TrustStore
from .tsl_parse import parse_trusted_list

__all__ = ["load_registry", "ensure_snapshot", "refresh_source", "official_journal_signers"]

logger = logging.getLogger(__name__)


def load_registry(store: TrustStore, snapshot: SnapshotInfo) -> TrustRegistry:
    lists = []
    for version in store.snapshot_versions(snapshot.id):
        tl = parse_trusted_list(store.load(version.id))
        lists.append((tl, version.label))
    return TrustRegistry(lists, snapshot_id=snapshot.id)


def refresh_source(store: TrustStore | None, source: TrustSource, now: datetime, **kwargs) -> RefreshReport:
    # every list download is bounded by the deployment's fetch timeout (TRUSTSVC_FETCH_TIMEOUT), as OCSP and CRLs are
    fetch, location = fetcher_for(source.lotl, source.base_dir, timeout=get_settings().fetch_timeout)
    return refresh(location, source.lotl_signers, fetch, now=now, store=store, **kwargs)


def ensure_snapshot(store: TrustStore, source: TrustSource, now: datetime) -> SnapshotInfo | None:
    """The latest snapshot, after a first refresh from `source` if the store has none."""
    snapshot = store.latest_snapshot()
    if snapshot is not None:
        return snapshot
    logger.info("no trusted lists stored yet: ingesting the %s source", source.name)
    report = refresh_source(store, source, now)
    if report.snapshot_id is None:
        return None
    return store.snapshot(report.snapshot_id)


def official_journal_signers() -> tuple[bytes, ...]:
    """Every LOTL signer certificate the Official Journal has published, as bundled with pyHanko (the 2019 sets and
    the latest); pivot LOTLs lead from these to any later signer. Read from pyHanko's package data directly:
    importing its trusted-list module would load xsdata and cost half a second per process."""
    folder = resources.files("pyhanko.sign.validation.qualified").joinpath("lotl-certs")
    certs: dict[bytes, None] = {}
    for name in ("bootstrap-0.cert.pem", "bootstrap-1.cert.pem", "latest.cert.pem"):
        data = folder.joinpath(name).read_bytes()
        for kind, _headers, der in pem.unarmor(data, multiple=True):
            if kind == "CERTIFICATE":
                certs[der] = None
    return tuple(certs)
