"""LOTL authentication from Official Journal anchors through pivots, then the national lists it announces.

`fetch` maps pivot URLs to the files under ../shared/trusted-lists, as a download would in production.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12

from conftest import shared_path
from trustsvc.trust.lotl import (
    LotlResult,
    authenticate_lotl,
    parse_and_verify,
    parse_and_verify_many,
    pivot_urls,
    verify_national_lists,
)
from trustsvc.trust.tsl_signature import verify_list_signature

OJ_2019_URL = "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=uriserv:OJ.C_.2019.276.01.0001.01.ENG"
OJ_2026_URL = "https://eur-lex.europa.eu/eli/C/2026/1944/oj"
OJ_SYNTHETIC_2_URL = "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=uriserv:OJ.C_.2023.999.01.0001.01.ENG"
SYNTHETIC_BASE = "http://18.202.217.18/res/pivot/"


def _folder(name: str) -> Path:
    return shared_path("trusted-lists", name)


def _oj(name: str) -> list[bytes]:
    pem = shared_path("trusted-lists", "oj-signers", name).read_bytes()
    return [c.public_bytes(Encoding.DER) for c in x509.load_pem_x509_certificates(pem)]


def _keystore(name: str) -> list[bytes]:
    """The certificates of one of DSS's synthetic Official Journal keystores (PKCS#12, password 'password')."""
    store = pkcs12.load_pkcs12(_folder("pivots-synthetic").joinpath(name).read_bytes(), b"password")
    return [c.certificate.public_bytes(Encoding.DER) for c in store.additional_certs]


def _fetcher(*folders: str, log: list[str] | None = None) -> Callable[[str], bytes | None]:
    """A downloader over the shared folders: the file named like the URL's last segment (DSS stores the 2017-2019
    pivots ``tl-pivot-172-mp.xml`` as ``tl_pivot_172_mp.xml``)."""

    def fetch(url: str) -> bytes | None:
        if log is not None:
            log.append(url)
        name = url.rsplit("/", 1)[-1]
        name = re.sub(r"^tl-pivot-(\d+)-mp\.xml$", r"tl_pivot_\1_mp.xml", name)
        for folder in folders:
            path = _folder(folder) / name
            if path.exists():
                return path.read_bytes()
        return None

    return fetch


def _adopted(result: LotlResult) -> list[str]:
    return [step.url.rsplit("/", 1)[-1] for step in result.pivots if step.adopted]


# -- 2026: the current LOTL (v6), re-anchored on OJ C/2026/1944 --------------------------------------------------------


@pytest.fixture(scope="module")
def lotl_2026() -> LotlResult:
    data = _folder("eu-2026-08").joinpath("eu-lotl.xml").read_bytes()
    return authenticate_lotl(data, _oj("latest.cert.pem"), _fetcher("eu-2026-08"), oj_url=OJ_2026_URL)


def test_lotl_2026_verifies_with_the_latest_oj_certificates(lotl_2026: LotlResult) -> None:
    assert lotl_2026.verified, lotl_2026.verification.reason
    assert (lotl_2026.path, lotl_2026.pivots) == ((), ())  # the 2026 OJ publication is the anchor: no pivot walk
    assert lotl_2026.lotl.sequence == 390 and lotl_2026.lotl.is_lotl
    assert lotl_2026.verification.signing_time.year == 2026
    assert lotl_2026.announced_oj_url == OJ_2026_URL
    assert lotl_2026.announced_location == "https://ec.europa.eu/tools/lotl/eu-lotl.xml"
    assert lotl_2026.verification.signer_certificate in lotl_2026.lotl_signers
    assert len(lotl_2026.signers_by_territory) == 31 and "EU" not in lotl_2026.signers_by_territory
    assert lotl_2026.locations_by_territory["FR"].endswith(".xml")


def test_the_2019_oj_certificates_alone_do_not_verify_the_2026_lotl() -> None:
    data = _folder("eu-2026-08").joinpath("eu-lotl.xml").read_bytes()
    result = authenticate_lotl(data, _oj("bootstrap-0.cert.pem"), _fetcher(), oj_url=OJ_2026_URL)
    assert (result.verified, result.verification.code, result.lotl) == (False, "signer-not-announced", None)


def test_lotl_2026_through_every_pivot_since_2019() -> None:
    data = _folder("eu-2026-08").joinpath("eu-lotl.xml").read_bytes()
    log: list[str] = []
    result = authenticate_lotl(data, _oj("bootstrap-0.cert.pem"), _fetcher("eu-2019-09", log=log), oj_url=OJ_2019_URL)
    assert result.verified, result.verification.reason
    assert result.path == (282, 300, 335, 341)
    missing = [step for step in result.pivots if not step.adopted]
    assert [(s.url.rsplit("/", 1)[-1], s.verification.code) for s in missing] == [
        ("eu-lotl-pivot-378.xml", "pivot-unavailable")
    ]
    assert log[0].endswith("pivot-282.xml") and log[-1].endswith("pivot-378.xml")  # oldest first


def test_national_lists_2026(lotl_2026: LotlResult) -> None:
    lists = {p.stem[4:]: p.read_bytes() for p in sorted(_folder("eu-2026-08").glob("TSL_*.xml"))}
    assert len(lists) == 29 and "DE" not in lists  # the German list is not in the data set (too large)
    outcomes = verify_national_lists(lotl_2026, lists)
    refused = {t: o.verification.code for t, o in outcomes.items() if not o.verification.verified}
    assert refused == {"HR": "signer-not-announced"}  # its 2024 signer is no longer announced (xades.md § 3.3)
    for territory, outcome in outcomes.items():
        if territory != "HR":
            assert outcome.trusted_list.territory == territory
            assert outcome.verification.signer_certificate in lotl_2026.signers_by_territory[territory]
    assert outcomes["HR"].trusted_list is None


def test_a_list_is_only_good_for_its_own_territory(lotl_2026: LotlResult) -> None:
    se = _folder("eu-2026-08").joinpath("TSL_SE.xml").read_bytes()
    borrowed = LotlResult(lotl_2026.verification, signers_by_territory={"FI": lotl_2026.signers_by_territory["SE"]})
    outcome = verify_national_lists(borrowed, {"FI": se})["FI"]
    assert (outcome.verification.code, outcome.trusted_list) == ("territory-mismatch", None)


def test_threads_give_the_same_outcomes(lotl_2026: LotlResult) -> None:
    names = ["TSL_IT.xml", "TSL_HR.xml", "TSL_SE.xml", "TSL_CZ.xml"]
    items = [(_folder("eu-2026-08").joinpath(n).read_bytes(), lotl_2026.signers_by_territory[n[4:6]]) for n in names]
    assert parse_and_verify_many(items, workers=3) == [parse_and_verify(data, signers) for data, signers in items]


# -- 2023: LOTL 332 is signed by a key that only pivots 282 -> 300 announce --------------------------------------------


def test_lotl_332_does_not_verify_directly_with_any_oj_certificates() -> None:
    data = _folder("eu-2023-10").joinpath("eu-lotl.xml").read_bytes()
    every_oj = {c for name in ("bootstrap-0.cert.pem", "bootstrap-1.cert.pem", "latest.cert.pem") for c in _oj(name)}
    verification, _ = verify_list_signature(data, sorted(every_oj))
    assert verification.code == "signer-not-announced"
    without_pivots = authenticate_lotl(data, _oj("bootstrap-0.cert.pem"), lambda url: None)
    assert without_pivots.verification.code == "signer-not-announced"
    assert "pivot-unavailable" in without_pivots.verification.reason


@pytest.fixture(scope="module")
def lotl_2023() -> LotlResult:
    data = _folder("eu-2023-10").joinpath("eu-lotl.xml").read_bytes()
    return authenticate_lotl(data, _oj("bootstrap-0.cert.pem"), _fetcher("eu-2023-10"), oj_url=OJ_2019_URL)


def test_lotl_332_verifies_through_pivots_282_then_300(lotl_2023: LotlResult) -> None:
    assert lotl_2023.verified, lotl_2023.verification.reason
    assert lotl_2023.path == (282, 300)
    assert _adopted(lotl_2023) == ["eu-lotl-pivot-282.xml", "eu-lotl-pivot-300.xml"]
    assert lotl_2023.lotl.sequence == 332


def test_national_lists_2023(lotl_2023: LotlResult) -> None:
    lists = {p.stem: p.read_bytes() for p in sorted(_folder("eu-2023-10").glob("[A-Z][A-Z].xml"))}
    assert sorted(lists) == ["CZ", "ES", "FR", "IT", "SE"]
    outcomes = verify_national_lists(lotl_2023, lists)
    assert {t: o.verification.code for t, o in outcomes.items()} == dict.fromkeys(lists)
    assert outcomes["FR"].trusted_list.sequence == 112


# -- 2019: LOTL 248 and the 2017-2019 pivots ---------------------------------------------------------------------------


def test_lotl_248_and_its_national_lists() -> None:
    data = _folder("eu-2019-09").joinpath("eu-lotl.xml").read_bytes()
    result = authenticate_lotl(data, _oj("bootstrap-0.cert.pem"), _fetcher("eu-2019-09"))
    assert result.verified and result.path == () and result.pivots == ()  # LOTL 248 lists no pivot at all
    lists = {p.stem: p.read_bytes() for p in sorted(_folder("eu-2019-09").glob("[A-Z][A-Z].xml"))}
    assert len(lists) == 28
    outcomes = verify_national_lists(result, lists)
    assert {t: o.verification.code for t, o in outcomes.items()} == dict.fromkeys(lists)


def test_pivots_of_2017_to_2019() -> None:
    data = _folder("eu-2019-09").joinpath("tl_pivot_247_mp.xml").read_bytes()
    result = authenticate_lotl(data, _oj("bootstrap-0.cert.pem"), _fetcher("eu-2019-09"))
    assert result.verified and result.path == (191, 226, 247)
    first = result.pivots[0]
    assert (first.sequence, first.verification.code) == (172, "weak-algorithm")  # RSA-1024, and not an OJ 2019 key
    latest = authenticate_lotl(data, _oj("latest.cert.pem"), _fetcher("eu-2019-09"))
    assert latest.verification.code == "signer-not-announced"  # the 2026 set no longer holds the 2017-2019 keys


# -- DSS's synthetic pivot chain ---------------------------------------------------------------------------------------

KEYSTORE = {"OJ1": "keystore_OJ1.p12", "OJ2": "keystore_OJ2.p12"}
SYNTHETIC = [
    # (current LOTL, keystore, OJ URL pinned, expected path or the refusal code)
    ("lotl_test_OJ_1_pivot_01.xml", "OJ1", None, (300,)),
    ("lotl_test_OJ_1_pivot_02.xml", "OJ1", OJ_2019_URL, (300, 320)),
    ("lotl_test_OJ_1_pivot_03.xml", "OJ1", None, (300, 320, 300)),
    ("lotl_test_OJ_2_pivot_01.xml", "OJ1", OJ_2019_URL, (300, 320, 300, 340)),
    ("lotl_test_OJ_2_pivot_02.xml", "OJ1", None, (300, 320, 300, 340, 350)),
    ("lotl_test_OJ_2_pivot_01.xml", "OJ2", OJ_SYNTHETIC_2_URL, (340,)),
    ("lotl_test_OJ_2_pivot_02.xml", "OJ2", OJ_SYNTHETIC_2_URL, (340, 350)),
    ("lotl_test_OJ-2_reset_pivot.xml", "OJ2", OJ_SYNTHETIC_2_URL, (340, 350)),
    ("lotl_test_OJ-2_reset_pivot.xml", "OJ2", None, (340, 350)),
    ("lotl_test_loc_01.xml", "OJ1", OJ_2019_URL, ()),
    # the wrong keystore
    ("lotl_test_OJ_1_pivot_01.xml", "OJ2", None, "signer-not-announced"),
    ("lotl_test_OJ_1_pivot_02.xml", "OJ2", OJ_SYNTHETIC_2_URL, "signer-not-announced"),
    ("lotl_test_OJ-2_reset_pivot.xml", "OJ1", None, "signer-not-announced"),
    ("lotl_test_OJ-2_reset_pivot.xml", "OJ1", OJ_2019_URL, "signer-not-announced"),
    ("lotl_test_loc_01.xml", "OJ2", None, "signer-not-announced"),
]


@pytest.mark.parametrize(
    ("current", "keystore", "oj_url", "expected"),
    SYNTHETIC,
    ids=[f"{c[9:-4]}-{k}{'-pinned' if u else ''}" for c, k, u, _ in SYNTHETIC],
)
def test_synthetic_pivot_chain(current: str, keystore: str, oj_url: str | None, expected) -> None:
    data = _folder("pivots-synthetic").joinpath(current).read_bytes()
    result = authenticate_lotl(data, _keystore(KEYSTORE[keystore]), _fetcher("pivots-synthetic"), oj_url=oj_url)
    if isinstance(expected, tuple):
        assert result.verified, result.verification.reason
        assert result.path == expected
    else:
        assert (result.verified, result.verification.code, result.lotl) == (False, expected, None)


def test_oj_url_cuts_the_pivots_older_than_its_publication() -> None:
    data = _folder("pivots-synthetic").joinpath("lotl_test_OJ_2_pivot_02.xml").read_bytes()
    log: list[str] = []
    authenticate_lotl(
        data, _keystore("keystore_OJ2.p12"), _fetcher("pivots-synthetic", log=log), oj_url=OJ_SYNTHETIC_2_URL
    )
    assert [u.rsplit("/", 1)[-1] for u in log] == ["lotl_test_OJ_2_pivot_01.xml", "lotl_test_OJ_2_pivot_02.xml"]


@pytest.mark.parametrize(
    ("current", "changed"),
    [("lotl_test_OJ_1_pivot_02.xml", False), ("lotl_test_OJ_1_pivot_03.xml", True), ("lotl_test_loc_01.xml", False)],
)
def test_location_change_is_reported_not_refused(current: str, changed: bool) -> None:
    data = _folder("pivots-synthetic").joinpath(current).read_bytes()
    url = SYNTHETIC_BASE + "lotl_test_loc_01.xml"
    result = authenticate_lotl(data, _keystore("keystore_OJ1.p12"), _fetcher("pivots-synthetic"), lotl_url=url)
    assert result.verified and result.location_changed is changed
    if changed:
        assert result.announced_location == SYNTHETIC_BASE + "lotl_test_loc_02.xml"


# -- bad input never raises --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("eu-lotl-broken-sig.xml", "broken-signature"),
        ("eu-lotl-no-sig.xml", "no-signature"),
        ("eu-lotl-not-parseable.xml", "unparseable"),
        ("CZ_empty.xml", "unparseable"),
    ],
)
def test_bad_lotls_give_a_reason(name: str, code: str) -> None:
    data = _folder("negative").joinpath(name).read_bytes()
    result = authenticate_lotl(data, _oj("bootstrap-0.cert.pem"), _fetcher("eu-2019-09"))
    assert (result.verified, result.verification.code, result.lotl) == (False, code, None)
    assert result.signers_by_territory == {} and result.verification.reason


def test_a_national_list_is_not_a_lotl() -> None:
    data = _folder("eu-2019-09").joinpath("CZ.xml").read_bytes()
    signer = verify_list_signature(data, None)[0].signer_certificate
    result = authenticate_lotl(data, [signer], _fetcher())
    assert (result.verified, result.verification.code) == (False, "not-a-lotl")


def test_a_failing_downloader_is_a_missing_pivot() -> None:
    def broken(url: str) -> bytes:
        raise ConnectionError(f"cannot reach {url}")

    data = _folder("eu-2023-10").joinpath("eu-lotl.xml").read_bytes()
    result = authenticate_lotl(data, _oj("bootstrap-0.cert.pem"), broken)
    assert result.verification.code == "signer-not-announced"
    assert [s.verification.code for s in result.pivots] == ["pivot-unavailable", "pivot-unavailable"]
    assert "ConnectionError" in result.pivots[0].verification.reason


def test_a_pivot_that_is_garbage_is_skipped() -> None:
    data = _folder("eu-2023-10").joinpath("eu-lotl.xml").read_bytes()
    result = authenticate_lotl(data, _oj("bootstrap-0.cert.pem"), lambda url: b"<html>maintenance</html>")
    assert [s.verification.code for s in result.pivots] == ["no-signature", "no-signature"]
    assert not result.verified


def test_too_many_pivots_are_not_followed() -> None:
    data = _folder("eu-2023-10").joinpath("eu-lotl.xml").read_bytes()
    many = b"".join(b"<URI xml:lang='en'>https://example.com/p-%d.xml</URI>" % i for i in range(40))
    flooded = data.replace(b"<SchemeInformationURI>", b"<SchemeInformationURI>" + many, 1)
    log: list[str] = []
    result = authenticate_lotl(flooded, _oj("bootstrap-0.cert.pem"), _fetcher(log=log))
    assert result.verification.code == "too-many-pivots" and log == []


def test_pivot_urls() -> None:
    uris = [
        OJ_2026_URL,
        "https://ec.europa.eu/tools/lotl/eu-lotl-pivot-341.xml",
        "https://ec.europa.eu/tools/lotl/eu-lotl-legalnotice.html#en",
        "https://ec.europa.eu/tools/lotl/eu-lotl-pivot-300.xml",
        OJ_2019_URL,
        "https://ec.europa.eu/tools/lotl/eu-lotl-pivot-300.xml",
    ]
    assert pivot_urls(uris) == (uris[1], uris[3])
    assert pivot_urls(uris, OJ_2026_URL) == ()
    assert pivot_urls(uris, OJ_2019_URL) == (uris[1], uris[3])
