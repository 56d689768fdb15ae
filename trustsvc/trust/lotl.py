"""Authenticate the EU list of trusted lists (LOTL) from Official Journal anchors, through the pivot LOTLs.

CID (EU) 2015/1505 Art. 4 (as amended): the certificates that may sign the LOTL are published in the Official
Journal (OJ). When the Commission changes signers it publishes a *pivot* LOTL, signed with the old key and
announcing the new ones in its own EU pointer; every later LOTL lists the pivot URLs in SchemeInformationURI,
newest first. So, as DSS does (``LOTLWithPivotsAnalysis``) and pyHanko (``bootstrap_lotl_signers``):

1. read the pivot URLs from the current LOTL (before it is verified: they only guide, they grant nothing);
2. walk the pivots oldest -> newest, verifying each with the current signer set; a pivot that verifies makes
   the signers it announces for its own territory EU the current set; one that is missing or does not verify
   is recorded and skipped (skipping never widens trust: it keeps the set that was already trusted);
3. verify the current LOTL with the final set, parse only the signed element, and hand out what the LOTL
   announces for each national list (signers and location).

Decisions worth knowing:

* ``oj_url`` pins the OJ publication the caller's ``oj_signers`` come from. Pivot URLs listed *after* it in
  SchemeInformationURI are older than that publication and are not walked (DSS and pyHanko do the same): this is
  the "reset" of 2026 (``https://eur-lex.europa.eu/eli/C/2026/1944/oj``), after which the LOTL is verified
  directly with the new OJ certificates. Without ``oj_url`` every pivot is walked.
* Pivot sequence numbers are reported (``path``) but not required to increase: the chain is authenticated by
  signatures alone (DSS's synthetic pivots reuse sequence numbers).
* A LOTL whose own EU pointer names another location than the one it was fetched from is still accepted;
  ``location_changed`` tells the caller to update its configuration (DSS raises an alert in that case).
* Bad input never raises: every failure is a :class:`LotlResult` with ``verified`` False and a reason code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from lxml import etree

from .tsl_model import ListVerification, TrustedList
from .tsl_parse import TSL_NS, TslParseError, parse_trusted_list_element
from .tsl_signature import verify_list_element, verify_list_signature
from .xml_safety import XmlInputError, parse_xml

__all__ = [
    "PivotStep",
    "LotlResult",
    "VerifiedList",
    "authenticate_lotl",
    "verify_national_lists",
    "verify_national_lists_as_completed",
    "parse_and_verify",
    "parse_and_verify_many",
    "pivot_urls",
    "announced_lotl_signers",
    "Fetch",
]

#: Synchronous download of one URL; None (or an exception) when it cannot be had.
Fetch = Callable[[str], "bytes | None"]

#: More pivots than this in one LOTL is not a pivot chain but an attempt to make us download the world.
MAX_PIVOTS = 32
_OJ_HOST = "eur-lex.europa.eu"
_XML_MIME = "xml"


@dataclass(frozen=True)
class PivotStep:
    """One pivot LOTL met on the walk.

    :param sequence: its TSLSequenceNumber, when it could be read.
    :param adopted: it verified and its announced EU signers became the current set.
    """

    url: str
    sequence: int | None
    verification: ListVerification
    adopted: bool = False


@dataclass(frozen=True)
class LotlResult:
    """The authenticated LOTL and what it announces.

    :param lotl: parsed from the signed element; None unless verified.
    :param path: sequence numbers of the pivots whose signers were adopted, oldest first.
    :param signers_by_territory: per territory, the certificates that may sign its national list (XML pointers).
    :param locations_by_territory: per territory, where its national list (XML) is published.
    :param lotl_signers: the certificates the LOTL announces for itself (its EU pointer): the next LOTL's signers.
    :param announced_location: the LOTL's own location according to its EU pointer.
    :param announced_oj_url: the first Official Journal URL among its SchemeInformationURI values.
    :param location_changed: the announced location differs from the ``lotl_url`` given by the caller.
    """

    verification: ListVerification
    lotl: TrustedList | None = None
    path: tuple[int, ...] = ()
    pivots: tuple[PivotStep, ...] = ()
    signers_by_territory: dict[str, tuple[bytes, ...]] = field(default_factory=dict)
    locations_by_territory: dict[str, str] = field(default_factory=dict)
    lotl_signers: tuple[bytes, ...] = ()
    announced_location: str | None = None
    announced_oj_url: str | None = None
    location_changed: bool = False

    @property
    def verified(self) -> bool:
        return self.verification.verified


def authenticate_lotl(
    lotl_bytes: bytes,
    oj_signers: Sequence[bytes],
    fetch: Fetch,
    *,
    oj_url: str | None = None,
    lotl_url: str | None = None,
    at: datetime | None = None,
) -> LotlResult:
    """Authenticate `lotl_bytes` starting from the Official Journal certificates `oj_signers` (DER).

    :param fetch: downloads a pivot LOTL by URL (tests map URLs to files).
    :param oj_url: the OJ publication `oj_signers` come from; pivots older than it are not walked.
    :param lotl_url: where `lotl_bytes` came from, to detect a location change.
    :param at: when the LOTL signer must be valid (default: its signing time).
    """
    try:
        root = parse_xml(lotl_bytes)
    except XmlInputError as e:
        return LotlResult(ListVerification(False, code="unparseable", reason=f"{e.code}: {e.message}"))
    urls = pivot_urls(_unverified_scheme_uris(root), oj_url)
    if len(urls) > MAX_PIVOTS:
        reason = f"the LOTL lists {len(urls)} pivot LOTLs (at most {MAX_PIVOTS} are followed)"
        return LotlResult(ListVerification(False, code="too-many-pivots", reason=reason))
    signers, steps = _walk_pivots(urls, tuple(oj_signers), fetch)
    path = tuple(step.sequence for step in steps if step.adopted and step.sequence is not None)
    verification, signed = verify_list_element(root, signers, at=at)
    if signed is None:
        return LotlResult(_with_pivot_notes(verification, steps), path=path, pivots=steps)
    try:
        lotl = parse_trusted_list_element(signed)
    except TslParseError as e:
        refused = ListVerification(False, verification.signer_certificate, "malformed-list", e.message)
        return LotlResult(refused, path=path, pivots=steps)
    if not lotl.is_lotl:
        reason = f"the list is of type {lotl.tsl_type}, not a list of the lists"
        refused = ListVerification(False, verification.signer_certificate, "not-a-lotl", reason)
        return LotlResult(refused, path=path, pivots=steps)
    return _announcements(verification, lotl, path, steps, lotl_url)


@dataclass(frozen=True)
class VerifiedList:
    """One national list after :func:`parse_and_verify`: the verification, and the list parsed from the signed
    element (None unless verified)."""

    verification: ListVerification
    trusted_list: TrustedList | None = None


def verify_national_lists(
    lotl: LotlResult, lists: Mapping[str, bytes], *, workers: int = 2, at: datetime | None = None
) -> dict[str, VerifiedList]:
    """Verify and parse national lists (territory -> bytes) with the signers `lotl` announces for each territory.

    A territory the LOTL does not announce (or a LOTL that did not verify) gets ``signer-not-announced``; a list
    whose SchemeTerritory is not the territory it was given for gets ``territory-mismatch``.
    """
    return dict(verify_national_lists_as_completed(lotl, lists, workers=workers, at=at))


def verify_national_lists_as_completed(
    lotl: LotlResult, lists: Mapping[str, bytes], *, workers: int = 2, at: datetime | None = None
) -> Iterator[tuple[str, VerifiedList]]:
    """:func:`verify_national_lists`, yielding each (territory, outcome) as soon as it is known, largest list
    first: the caller can store one list while the next ones are still being verified."""
    territories = sorted(lists, key=lambda t: len(lists[t]), reverse=True)

    def one(territory: str) -> VerifiedList:
        signers = lotl.signers_by_territory.get(territory, ())
        return _same_territory(territory, parse_and_verify(lists[territory], signers, at=at))

    if workers <= 1 or len(territories) <= 1:
        for territory in territories:
            yield territory, one(territory)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tl-verify") as pool:
        futures = {pool.submit(one, territory): territory for territory in territories}
        for future in as_completed(futures):
            yield futures[future], future.result()


def _same_territory(territory: str, outcome: VerifiedList) -> VerifiedList:
    """A signer announced for one territory vouches for that territory's list only."""
    tl = outcome.trusted_list
    if tl is None or tl.territory == territory:
        return outcome
    reason = f"the list is for territory {tl.territory!r}, not {territory!r}"
    verification = outcome.verification
    return VerifiedList(
        ListVerification(
            False, verification.signer_certificate, "territory-mismatch", reason, verification.signing_time
        )
    )


def parse_and_verify(
    data: bytes, allowed_signers: Sequence[bytes] | None, *, at: datetime | None = None
) -> VerifiedList:
    """Verify one list's signature, then parse what it signed (never the raw bytes)."""
    verification, signed = verify_list_signature(data, allowed_signers, at=at)
    if signed is None:
        return VerifiedList(verification)
    try:
        return VerifiedList(verification, parse_trusted_list_element(signed))
    except TslParseError as e:
        signer, when = verification.signer_certificate, verification.signing_time
        return VerifiedList(ListVerification(False, signer, "malformed-list", e.message, when))


def parse_and_verify_many(
    items: Iterable[tuple[bytes, Sequence[bytes] | None]], *, workers: int = 2, at: datetime | None = None
) -> list[VerifiedList]:
    """:func:`parse_and_verify` over many lists, in threads (lxml releases the GIL while it parses, serialises and
    canonicalises, which is most of the work), largest first so that the big lists do not finish last."""
    work = list(items)
    if workers <= 1 or len(work) <= 1:
        return [parse_and_verify(data, signers, at=at) for data, signers in work]
    order = sorted(range(len(work)), key=lambda i: len(work[i][0]), reverse=True)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tl-verify") as pool:
        done = dict(zip(order, pool.map(lambda i: parse_and_verify(*work[i], at=at), order), strict=True))
    return [done[i] for i in range(len(work))]


def pivot_urls(scheme_information_uris: Iterable[str], oj_url: str | None = None) -> tuple[str, ...]:
    """The pivot LOTL URLs among SchemeInformationURI values (those naming an ``.xml`` document), newest first,
    stopping at `oj_url` when given (older pivots predate that Official Journal publication)."""
    urls: list[str] = []
    for uri in scheme_information_uris:
        if oj_url is not None and uri == oj_url:
            break
        if urlsplit(uri).path.lower().endswith(".xml") and uri not in urls:
            urls.append(uri)
    return tuple(urls)


def announced_lotl_signers(lotl: TrustedList) -> tuple[bytes, ...]:
    """The certificates a LOTL announces for its own successors: its territory-EU list-of-the-lists pointer."""
    return _unique(
        certificate
        for pointer in lotl.pointers
        if pointer.territory == "EU" and (pointer.tsl_type or "").endswith("listofthelists")
        for certificate in pointer.signer_certificates
    )


# -- the pivot walk ----------------------------------------------------------------------------------------------------


def _walk_pivots(
    urls: tuple[str, ...], oj_signers: tuple[bytes, ...], fetch: Fetch
) -> tuple[tuple[bytes, ...], tuple[PivotStep, ...]]:
    """Oldest pivot first; each verified pivot hands over to the signers it announces."""
    signers = oj_signers
    steps = []
    for url in reversed(urls):
        step, announced = _pivot(url, signers, fetch)
        if announced:
            signers = announced
        steps.append(step)
    return signers, tuple(steps)


def _pivot(url: str, signers: tuple[bytes, ...], fetch: Fetch) -> tuple[PivotStep, tuple[bytes, ...]]:
    data, problem = _fetch(fetch, url)
    if data is None:
        return PivotStep(url, None, ListVerification(False, code="pivot-unavailable", reason=problem)), ()
    try:
        root = parse_xml(data)
    except XmlInputError as e:
        return PivotStep(url, None, ListVerification(False, code="unparseable", reason=f"{e.code}: {e.message}")), ()
    verification, signed = verify_list_element(root, signers)
    if signed is None:
        return PivotStep(url, _unverified_sequence(root), verification), ()
    try:
        pivot = parse_trusted_list_element(signed)
    except TslParseError as e:
        refused = ListVerification(False, verification.signer_certificate, "malformed-list", e.message)
        return PivotStep(url, None, refused), ()
    announced = announced_lotl_signers(pivot)
    if not announced:
        refused = ListVerification(False, verification.signer_certificate, "no-announced-signers", "no EU pointer")
        return PivotStep(url, pivot.sequence, refused), ()
    return PivotStep(url, pivot.sequence, verification, adopted=True), announced


def _fetch(fetch: Fetch, url: str) -> tuple[bytes | None, str]:
    """Call the caller's downloader; any failure of it is a missing pivot, recorded with its reason."""
    try:
        data = fetch(url)
    except Exception as e:  # noqa: BLE001 - the downloader is the caller's; its failure must not sink the walk
        return None, f"{url} could not be fetched: {type(e).__name__}: {e}"
    if not data:
        return None, f"{url} could not be fetched"
    return data, ""


def _with_pivot_notes(verification: ListVerification, steps: tuple[PivotStep, ...]) -> ListVerification:
    """Add to the LOTL's refusal what happened on the pivot walk, which usually explains it."""
    notes = [f"pivot {step.sequence or step.url}: {step.verification.code}" for step in steps if not step.adopted]
    if not notes:
        return verification
    reason = f"{verification.reason} (walk: {'; '.join(notes)})"
    signer, code, when = verification.signer_certificate, verification.code, verification.signing_time
    return ListVerification(False, signer, code, reason, when)


# -- what the LOTL announces -------------------------------------------------------------------------------------------


def _announcements(
    verification: ListVerification,
    lotl: TrustedList,
    path: tuple[int, ...],
    steps: tuple[PivotStep, ...],
    lotl_url: str | None,
) -> LotlResult:
    signers: dict[str, list[bytes]] = {}
    locations: dict[str, str] = {}
    self_location = None
    for pointer in lotl.pointers:
        if (pointer.tsl_type or "").endswith("listofthelists"):
            if pointer.territory == "EU" and self_location is None:
                self_location = pointer.location
            continue
        if pointer.territory is None or _XML_MIME not in (pointer.mime_type or _XML_MIME):
            continue
        signers.setdefault(pointer.territory, []).extend(pointer.signer_certificates)
        locations.setdefault(pointer.territory, pointer.location)
    changed = bool(lotl_url and self_location and urljoin(lotl_url, self_location) != lotl_url)
    return LotlResult(
        verification=verification,
        lotl=lotl,
        path=path,
        pivots=steps,
        signers_by_territory={territory: _unique(certs) for territory, certs in signers.items()},
        locations_by_territory=locations,
        lotl_signers=announced_lotl_signers(lotl),
        announced_location=self_location,
        announced_oj_url=next((u for u in lotl.scheme_information_uris if urlsplit(u).hostname == _OJ_HOST), None),
        location_changed=changed,
    )


def _unique(certificates: Iterable[bytes]) -> tuple[bytes, ...]:
    return tuple(dict.fromkeys(certificates))


def _unverified_scheme_uris(root: etree._Element) -> list[str]:
    """SchemeInformationURI values of a LOTL not yet verified: they only say where pivots are."""
    path = f"{{{TSL_NS}}}SchemeInformation/{{{TSL_NS}}}SchemeInformationURI/{{{TSL_NS}}}URI"
    return [uri for uri in ((u.text or "").strip() for u in root.iterfind(path)) if uri]


def _unverified_sequence(root: etree._Element) -> int | None:
    """The sequence number of a pivot that did not verify, for the report only."""
    text = root.findtext(f"{{{TSL_NS}}}SchemeInformation/{{{TSL_NS}}}TSLSequenceNumber") or ""
    return int(text) if text.strip().isdigit() else None
