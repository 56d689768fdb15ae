"""Refreshing trust: fetch the LOTL and the national lists, authenticate each, record them, take a snapshot.

The LOTL is authenticated from the Official Journal signers (through pivots); each national list must be signed
by a signer the authenticated LOTL announces for its territory. Every list received is recorded with its outcome;
a refused list never replaces the last good one, so the new snapshot holds, per territory, the freshest accepted
version. Sources are a folder of lists (offline: the demo, ../shared test sets) or HTTPS locations.
"""

from __future__ import annotations

import ctypes
import logging
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from .lotl import LotlResult, authenticate_lotl, verify_national_lists_as_completed
from .store import RecordOutcome, TrustStore, VersionInfo
from .tsl_model import ListVerification, TrustedList

__all__ = ["Fetcher", "FolderFetcher", "HttpFetcher", "ListOutcome", "RefreshReport", "refresh", "fetcher_for"]

logger = logging.getLogger(__name__)

#: National lists downloaded at once.
_PARALLEL_DOWNLOADS = 8
#: Largest list accepted from anywhere (the German list is about 15 MB).
MAX_LIST_BYTES = 64 * 1024 * 1024
_TERRITORY = re.compile(rb"<(?:\w+:)?SchemeTerritory>\s*([A-Z]{2})\s*</(?:\w+:)?SchemeTerritory>")

#: Called with (what is being fetched, how many lists are done, how many there are in all; 0 while unknown).
Progress = Callable[[str, int, int], None]


class Fetcher:
    """Gets the bytes behind a list location; None when they cannot be had, and then :meth:`failure` says why."""

    def __init__(self) -> None:
        self._failures: dict[str, str] = {}

    def __call__(self, location: str) -> bytes | None:  # pragma: no cover - interface
        raise NotImplementedError

    def failure(self, location: str) -> str:
        """Why the last fetch of ``location`` gave nothing."""
        return self._failures.get(location, f"cannot read {location}")

    def _failed(self, location: str, reason: str) -> None:
        self._failures[location] = reason


class FolderFetcher(Fetcher):
    """Lists from a folder: a location is resolved to the file of the same name, or, for a national list
    published under another name, to the file whose SchemeTerritory is the pointer's territory."""

    def __init__(self, folder: Path):
        super().__init__()
        self.folder = folder
        self._by_territory: dict[str, Path] | None = None

    def __call__(self, location: str) -> bytes | None:
        path = Path(location)
        if not urlsplit(location).scheme and (path.is_absolute() or (self.folder / path).exists()):
            candidate = path if path.is_absolute() else self.folder / path
            return self._read(candidate, location)
        name = Path(urlsplit(location).path).name
        if name and (self.folder / name).is_file():
            return self._read(self.folder / name, location)
        self._failed(location, f"cannot read {location}: no such file in {self.folder}")
        return None

    def _read(self, path: Path, location: str) -> bytes | None:
        try:
            if path.stat().st_size > MAX_LIST_BYTES:
                self._failed(location, f"cannot read {path}: larger than {MAX_LIST_BYTES // 2**20} MiB")
                return None
            return path.read_bytes()
        except OSError as e:
            self._failed(location, f"cannot read {path}: {e.strerror or e}")
            return None

    def by_territory(self, territory: str) -> bytes | None:
        if self._by_territory is None:
            self._by_territory = {}
            for file in sorted(self.folder.glob("*.xml")):
                head = file.open("rb").read(8192)
                match = _TERRITORY.search(head)
                if match and b"listofthelists" not in head:
                    self._by_territory.setdefault(match.group(1).decode(), file)
        path = self._by_territory.get(territory)
        return self._read(path, territory) if path else None


class HttpFetcher(Fetcher):
    """Lists over HTTP(S), with a timeout and a size bound; proxies from the environment are honoured."""

    def __init__(self, timeout: float = 30.0):
        super().__init__()
        self.timeout = timeout

    def __call__(self, location: str) -> bytes | None:
        if urlsplit(location).scheme not in ("http", "https"):
            self._failed(location, f"cannot read {location}: not an http(s) location")
            return None
        request = urllib.request.Request(location, headers={"User-Agent": "trustsvc"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (http(s) only)
                data = response.read(MAX_LIST_BYTES + 1)
        except urllib.error.HTTPError as e:
            self._failed(location, f"cannot read {location}: HTTP {e.code}")
            return None
        except (urllib.error.URLError, OSError, ValueError) as e:
            cause = e.reason if isinstance(e, urllib.error.URLError) else e
            self._failed(location, f"cannot read {location}: {cause}")
            return None
        if len(data) > MAX_LIST_BYTES:
            self._failed(location, f"cannot read {location}: larger than {MAX_LIST_BYTES // 2**20} MiB")
            return None
        return data


def fetcher_for(location: str, base_dir: Path | None = None, timeout: float = 30.0) -> tuple[Fetcher, str]:
    """The fetcher for a LOTL location, and the location as that fetcher understands it."""
    if urlsplit(location).scheme in ("http", "https"):
        return HttpFetcher(timeout), location
    path = Path(location)
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    if path.is_dir():
        lotl = _find_lotl(path)
        return FolderFetcher(path), str(lotl) if lotl else str(path / "eu-lotl.xml")
    return FolderFetcher(path.parent), str(path)


def _find_lotl(folder: Path) -> Path | None:
    """The list of trusted lists of a folder: ``eu-lotl.xml`` if there is one (the folder may also hold pivot
    LOTLs, even later ones), else the LOTL with the highest sequence number."""
    if (folder / "eu-lotl.xml").is_file():
        return folder / "eu-lotl.xml"
    best: tuple[int, Path] | None = None
    for file in folder.glob("*.xml"):
        head = file.open("rb").read(4096)
        if b"listofthelists" not in head:
            continue
        match = re.search(rb"<(?:\w+:)?TSLSequenceNumber>\s*(\d+)", head)
        sequence = int(match.group(1)) if match else -1
        if best is None or sequence > best[0]:
            best = (sequence, file)
    return best[1] if best else None


@dataclass(frozen=True)
class ListOutcome:
    """What happened to one list in a refresh."""

    territory: str
    location: str | None
    verification: ListVerification
    trusted_list: TrustedList | None = None
    record: RecordOutcome | None = None

    @property
    def accepted(self) -> bool:
        return self.verification.verified and (self.record is None or self.record.status.value != "refused")


@dataclass
class RefreshReport:
    """The outcome of one refresh: the LOTL, every list, and the snapshot now in force (None if unchanged)."""

    source: str
    lotl: LotlResult
    lotl_record: RecordOutcome | None = None
    lists: list[ListOutcome] = field(default_factory=list)
    snapshot_id: int | None = None

    @property
    def verified_lists(self) -> list[tuple[TrustedList, str]]:
        """(list, label) of every list verified in this refresh, the LOTL first: enough to build a registry."""
        out = []
        if self.lotl.lotl is not None:
            out.append((self.lotl.lotl, self.lotl.lotl.label))
        out += [(o.trusted_list, o.trusted_list.label) for o in self.lists if o.trusted_list is not None]
        return out


def refresh(
    lotl_location: str,
    lotl_signers: tuple[bytes, ...],
    fetch: Fetcher,
    *,
    now: datetime,
    store: TrustStore | None = None,
    territories: set[str] | None = None,
    progress: Progress | None = None,
    oj_url: str | None = None,
) -> RefreshReport:
    """Authenticate the LOTL and every national list it points to; record them and snapshot what is in force.

    Without a store (``validate --trusted-lists``), nothing is persisted: the report's verified lists are used
    as they are.
    """
    say = progress or (lambda _what, _done, _total: None)
    say("LOTL", 0, 0)
    data = fetch(lotl_location)
    if data is None:
        failed = LotlResult(ListVerification(False, code="unavailable", reason=fetch.failure(lotl_location)))
        return RefreshReport(lotl_location, failed)
    result = authenticate_lotl(data, lotl_signers, fetch, lotl_url=lotl_location, oj_url=oj_url, at=None)
    report = RefreshReport(lotl_location, result)
    if store is not None:
        report.lotl_record = store.record(data, result.lotl, result.verification, lotl_location, now, territory="EU")
    if not result.verified:
        return report

    wanted = sorted(t for t in result.locations_by_territory if territories is None or t in territories)
    fetched: dict[str, bytes] = {}
    for index, (territory, location, body) in enumerate(_fetch_all(fetch, result.locations_by_territory, wanted)):
        say(territory, index, len(wanted))
        if body is None:
            failure = ListVerification(False, code="unavailable", reason=fetch.failure(location))
            report.lists.append(ListOutcome(territory, location, failure))
            continue
        fetched[territory] = body
    lotl_version = report.lotl_record.version_id if report.lotl_record else None
    done = 0
    for territory, outcome in verify_national_lists_as_completed(result, fetched):
        record = None
        if store is not None:  # stored while the other lists are still being verified
            record = store.record(
                fetched[territory],
                outcome.trusted_list,
                outcome.verification,
                result.locations_by_territory[territory],
                now,
                lotl_version,
                territory=territory,
            )
        report.lists.append(
            ListOutcome(
                territory, result.locations_by_territory[territory], outcome.verification, outcome.trusted_list, record
            )
        )
        done += 1
        say(f"verified {territory}", done, len(fetched))
    report.lists.sort(key=lambda o: o.territory)
    _release_memory()
    if store is not None:
        report.snapshot_id = _snapshot(store, now, set(result.locations_by_territory))
    return report


def _fetch_all(
    fetch: Fetcher, locations: dict[str, str], territories: list[str]
) -> Iterator[tuple[str, str, bytes | None]]:
    """Every wanted national list, downloaded a few at a time (the EU's thirty lists sit on thirty servers; one
    slow server should not make the others wait), in territory order."""

    def one(territory: str) -> tuple[str, str, bytes | None]:
        location = locations[territory]
        body = fetch(location)
        if body is None and isinstance(fetch, FolderFetcher):
            body = fetch.by_territory(territory)
        return territory, location, body

    if not isinstance(fetch, HttpFetcher):
        yield from map(one, territories)
        return
    with ThreadPoolExecutor(max_workers=_PARALLEL_DOWNLOADS, thread_name_prefix="tl-fetch") as pool:
        yield from pool.map(one, territories)


def _release_memory() -> None:
    """Give the verification's transient XML buffers back to the system (glibc keeps freed arenas otherwise: about
    70 MB after verifying the EU lists)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _snapshot(store: TrustStore, now: datetime, territories: set[str]) -> int | None:
    """A snapshot of the current LOTL and, for each territory it announces, the last good list."""
    versions: list[VersionInfo] = [
        current.version
        for current in store.current_versions(now)
        if current.version.is_lotl or current.version.territory in territories
    ]
    if not any(v.is_lotl for v in versions):
        return None
    ids = sorted(v.id for v in versions)
    latest = store.latest_snapshot()
    if latest is not None and sorted(latest.version_ids) == ids:
        return latest.id
    return store.create_snapshot(ids, created_at=now)
