"""Choosing the trust a validation runs on, from the command line or the service settings.

* ``--trusted-lists DIR|URL``: the lists there, authenticated now (LOTL pinned to the Official Journal
  certificates, or to ``--lotl-signer``), used as they are and not stored;
* otherwise the latest snapshot in the store (after a first ingest of the configured default source, the demo
  lists when nothing else is configured);
* ``--trust-anchor`` roots are added either way (ad-hoc trust never qualifies anything).

The summary that goes into every report says which source and snapshot were used, which lists are stale, and
warns loudly when the trust is the demo (its private keys are public test keys).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..errors import ConfigurationError
from ..settings import get_settings
from ..verdict import TrustSummary
from .anchors import AnchorSet, load_certificates
from .provider import CombinedTrust, TrustedListTrust
from .refresh import fetcher_for, refresh
from .registry import TrustRegistry
from .snapshots import ensure_snapshot, load_registry, official_journal_signers
from .sources import TrustSource
from .store import TrustStore

__all__ = ["ResolvedTrust", "trust_from_location", "trust_from_store", "with_anchors", "DEMO_WARNING"]

DEMO_WARNING = (
    "Trust comes from the DEMO trusted lists, signed by the test PKI whose keys are public: "
    "verdicts are for trying trustsvc out, not evidence. Configure TRUSTSVC_TRUST_SOURCE=eu for real lists."
)


@dataclass(frozen=True)
class ResolvedTrust:
    provider: TrustedListTrust | AnchorSet
    summary: TrustSummary


def trust_from_location(location: str, now: datetime, lotl_signer_files: Sequence[Path] = ()) -> ResolvedTrust:
    """Trust built from a LOTL location (folder, file or URL), authenticated now and kept in memory."""
    signers = tuple(c.dump() for f in lotl_signer_files for c in load_certificates(f)) or official_journal_signers()
    fetch, lotl_location = fetcher_for(location, timeout=get_settings().fetch_timeout)
    report = refresh(lotl_location, signers, fetch, now=now)
    if not report.lotl.verified:
        verification = report.lotl.verification
        raise ConfigurationError(
            f"the list of trusted lists at {location} cannot be trusted ({verification.code}: {verification.reason})",
            code="untrusted-lotl",
        )
    lists = report.verified_lists
    registry = TrustRegistry(lists)
    stale = tuple(label for tl, label in lists if tl.next_update is not None and tl.next_update < now)
    summary = TrustSummary(
        source=location,
        lists=tuple(label for _, label in lists),
        stale=stale,
        anchors=registry.anchor_count(now),
    )
    return ResolvedTrust(TrustedListTrust(registry), summary)


def trust_from_store(store: TrustStore, source: TrustSource, now: datetime) -> ResolvedTrust:
    """Trust from the latest snapshot of the store (ingesting `source` first if the store is empty)."""
    snapshot = ensure_snapshot(store, source, now)
    if snapshot is None:
        raise ConfigurationError(
            f"no trusted list could be authenticated from the {source.name} source ({source.lotl})",
            code="no-trust",
        )
    registry = load_registry(store, snapshot)
    versions = store.snapshot_versions(snapshot.id)
    summary = TrustSummary(
        source=source.name,
        snapshot_id=snapshot.id,
        lists=tuple(v.label for v in versions),
        stale=tuple(v.label for v in versions if v.is_stale(now)),
        anchors=registry.anchor_count(now),
        warning=DEMO_WARNING if source.name == "demo" else None,
    )
    return ResolvedTrust(TrustedListTrust(registry), summary)


def with_anchors(resolved: ResolvedTrust | None, anchor_files: Sequence[Path]) -> ResolvedTrust:
    """Add ad-hoc roots to list-based trust (or use them alone)."""
    extra = AnchorSet.from_files(anchor_files)
    if resolved is None:
        return ResolvedTrust(extra, TrustSummary(source="ad-hoc", anchors=len(extra)))
    if not len(extra):
        return resolved
    assert isinstance(resolved.provider, TrustedListTrust)
    provider = CombinedTrust(resolved.provider.registry, extra)
    summary = TrustSummary(
        source=f"{resolved.summary.source} + ad-hoc",
        snapshot_id=resolved.summary.snapshot_id,
        lists=resolved.summary.lists,
        stale=resolved.summary.stale,
        anchors=resolved.summary.anchors + len(extra),
        warning=resolved.summary.warning,
    )
    return ResolvedTrust(provider, summary)
