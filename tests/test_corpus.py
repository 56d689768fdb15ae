"""Real-world signed files (../shared/corpus, listed in its MANIFEST.md): robustness and integrity oracles.

Every PDF, CMS and time-stamp the manifest lists must give a verdict or a clean one-line error, within a time
bound, validated offline at a fixed time (the signing time the manifest states, else DEFAULT_AT). The oracles
are about integrity, not trust, so first nothing is trusted:

- a manipulated file (tampered, corrupted, shadow attack, coverage anomaly, sneaky form update) never has a
  signature TOTAL_PASSED (but one made afterwards over the manipulated document, which is genuine), and the
  signature the attack targets is TOTAL_FAILED, or the file is refused;
- an intact file never has a signature with HASH_FAILURE or SIG_CRYPTO_FAILURE;
- a negative file (malformed, placeholder, no signature) never has a signature TOTAL_PASSED.

The same oracles are checked a second time trusting every certificate the file itself carries, so that
"never TOTAL_PASSED" is not true merely because nothing is trusted. The ASiC and XML files are out of scope for
now: they must be refused as unsupported.

The list of files comes from the manifest itself; a file the manifest gains must be classified below.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from asn1crypto import cms, core, x509
from lxml import etree
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

from conftest import SHARED, shared_path, validate
from trustsvc.errors import TrustSvcError
from trustsvc.formats.asic_container import read_container
from trustsvc.formats.detect import Kind, detect
from trustsvc.formats.pades import open_pdf
from trustsvc.trust.anchors import AnchorSet
from trustsvc.trust.xml_safety import parse_xml
from trustsvc.verdict import Indication, Report, SubIndication

#: Seconds one file may take (the slowest takes about 5 s on the development machine).
TIME_LIMIT = 10.0
#: Validation time when the manifest states no signing time.
DEFAULT_AT = datetime(2020, 1, 1, tzinfo=timezone.utc)

IN_SCOPE = (".pdf", ".p7m", ".p7s", ".tsr", ".xml", ".xsd", ".asice", ".asics")

INTACT, MANIPULATED, NEGATIVE = "intact", "manipulated", "negative"
INTEGRITY_FAILURES = {SubIndication.HASH_FAILURE, SubIndication.SIG_CRYPTO_FAILURE}
STRUCTURAL_FAILURES = {SubIndication.HASH_FAILURE, SubIndication.SIG_CRYPTO_FAILURE, SubIndication.FORMAT_FAILURE}


@dataclass(frozen=True)
class Expect:
    """How one corpus file must come out.

    :param attacked: indexes of the signatures a manipulation targets; each must be TOTAL_FAILED (or the whole file
        refused with an InputError, as a corrupted PDF may be).
    :param later: indexes of signatures made after the manipulation, over the manipulated document: those are
        genuine and may pass.
    :param error: the code of a clean error accepted instead of a verdict (an intact file otherwise needs one).
    :param no_signature: the file carries no signature at all.
    :param first: the (indication, sub-indication) upstream states for the first signature, without trust.
    """

    category: str
    attacked: tuple[int, ...] = ()
    later: tuple[int, ...] = ()
    error: str | None = None
    no_signature: bool = False
    first: tuple[str, str | None] | None = None


CLASSIFICATION: dict[str, Expect] = {
    # intact: upstream asserts the signatures intact (whatever their trust)
    "dss/pades/PAdES-LT.pdf": Expect(INTACT),
    "dss/pades/doc-firmado-T.pdf": Expect(INTACT),
    "dss/pades/doc-firmado-LT.pdf": Expect(INTACT),
    "dss/pades/pdf-signed-original.pdf": Expect(INTACT),
    "dss/pades/hello_signed_INCSAVE_signed.pdf": Expect(INTACT),
    "dss/pades/25sigs.pdf": Expect(INTACT),
    "dss/cades/Signature-CBp-LT-2.p7m": Expect(INTACT),
    # eContentType signed-data around plain bytes: asn1crypto cannot read it, refused as unsupported for now
    "dss/cades/cades-bes-signeddata-enveloping.p7m": Expect(INTACT, error="unsupported-format"),
    "dss/cades/cades-lta-duplicated-atst.p7m": Expect(INTACT),
    "dss/cades/cms-no-sign-cert.p7m": Expect(INTACT),
    "dss/timestamps/d-trust.tsr": Expect(INTACT),
    "pyhanko/pdf/form-update-override-appearance-stream.pdf": Expect(INTACT),
    "siva/generic/hellopades-pades-lt-sha256-sign.pdf": Expect(INTACT),
    "siva/generic/hellopades-lt1-lt2-parallel3.pdf": Expect(INTACT),
    "siva-perf/small-2sig/PDF.pdf": Expect(INTACT),
    "pdf-attacker/hide-v1/3_original-document-shadowed-signed.pdf": Expect(INTACT),
    # manipulated after signing: never TOTAL_PASSED, the attacked signature TOTAL_FAILED
    "dss/pades/pdf-signed-corrupted.pdf": Expect(MANIPULATED, attacked=(0,), error="unreadable-pdf"),
    "dss/pades/pdf-signed-out-of-byteRange.pdf": Expect(MANIPULATED, attacked=(0,)),
    "dss/pades/pdf-signed-added-page.pdf": Expect(MANIPULATED, attacked=(0,)),
    "pyhanko/pdf/coverage-anomalies/one-byterange.pdf": Expect(MANIPULATED, attacked=(0,)),
    "pyhanko/pdf/coverage-anomalies/tail-uncovered.pdf": Expect(MANIPULATED, attacked=(0,)),
    # the sneaky update came with the second signature, which signs the document as it now is: only the first
    # signature is attacked; the second is genuine (pyHanko's own test looks at the first one only)
    "pyhanko/pdf/form-update-override-appearance-stream-sneaky.pdf": Expect(MANIPULATED, attacked=(0,), later=(1,)),
    "pdf-attacker/hide-v1/4_original-document-shadowed-signed-manipulated_v1.pdf": Expect(MANIPULATED, attacked=(0,)),
    # negative: malformed, a placeholder, or nothing signed
    "dss/pades/pdf-with-empty-sig.pdf": Expect(NEGATIVE),
    "dss/pades/pades_infinite_loop.pdf": Expect(NEGATIVE, error="unreadable-pdf"),
    "dss/cades/malformed-cades.p7m": Expect(NEGATIVE, error="not-a-signed-document"),
    "pyhanko/pdf/coverage-anomalies/base.pdf": Expect(NEGATIVE),  # its signature /Contents is all zeros
    "siva/generic/no-signatures.pdf": Expect(NEGATIVE, no_signature=True),
    # XAdES and XML-DSig
    "dss/xades/xades-lta-valid.xml": Expect(INTACT),
    "dss/xades/dss-signed.xml": Expect(INTACT, first=("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")),
    "dss/xades/xades-t-duplicated-sigtst.xml": Expect(INTACT),
    "dss/xades/xades-900-references.xml": Expect(INTACT),  # detached: its 900 files are not in the corpus
    "siva-perf/xades/Valid_XAdES_LT_TS.xml": Expect(INTACT),  # detached hashcode form: test.txt is absent
    # DSS asserts its B-level not valid; xmlsec1 agrees: the SignedProperties digest does not match (1/2 refs)
    "dss/xades/valid-xades.xml": Expect(NEGATIVE, first=("TOTAL_FAILED", "HASH_FAILURE")),
    "dss/xades/xades-tampered-reference.xml": Expect(
        MANIPULATED, attacked=(0,), first=("TOTAL_FAILED", "HASH_FAILURE")
    ),
    "dss/xades/dss-signed-altered-refRemoved.xml": Expect(
        MANIPULATED, first=("INDETERMINATE", "SIGNED_DATA_NOT_FOUND")
    ),
    "dss/xades/xsw/XSW-enveloped-fake-signedProperties.xml": Expect(
        MANIPULATED, first=("INDETERMINATE", "SIGNED_DATA_NOT_FOUND")
    ),
    "dss/xades/xades-with-dtd-injection.xml": Expect(MANIPULATED, error="dtd-forbidden"),
    "pyhanko/xml-bad/xmlbomb.xml": Expect(NEGATIVE, error="dtd-forbidden"),
    "pyhanko/xml-bad/xmlbomb2.xml": Expect(NEGATIVE, error="dtd-forbidden"),
    "pyhanko/xml-bad/quadratic.xml": Expect(NEGATIVE, error="dtd-forbidden"),
    "pyhanko/xml-bad/external.xml": Expect(NEGATIVE, error="dtd-forbidden"),
    "pyhanko/xml-bad/external_file.xml": Expect(NEGATIVE, error="dtd-forbidden"),
    "pyhanko/xml-bad/dtd.xml": Expect(NEGATIVE, error="dtd-forbidden"),
    "pyhanko/xml-bad/cyclic.xml": Expect(NEGATIVE, error="dtd-forbidden"),
    "dss/policy/constraint.xml": Expect(NEGATIVE, no_signature=True),  # a DSS validation policy, not a signature
    "dss/policy/policy.xsd": Expect(NEGATIVE, no_signature=True),
    # ASiC containers
    "dss/asic-xades/onefile-ok.asice": Expect(INTACT),
    "dss/asic-xades/onefile-ok.asics": Expect(INTACT),
    "dss/asic-xades/multifiles-ok.asice": Expect(INTACT),
    "dss/asic-cades/onefile-ok.asice": Expect(INTACT),
    "dss/asic-cades/onefile-ok.asics": Expect(INTACT),
    "siva/tst-asics/1xTST-valid-bdoc-data-file.asics": Expect(INTACT),
    "siva-perf/small-2sig/ASICE.asice": Expect(INTACT),
    "siva-perf/small-2sig/ASICS.asics": Expect(INTACT),
    "dss/asic-xades/no-signed-file.asice": Expect(NEGATIVE, first=("TOTAL_FAILED", "FORMAT_FAILURE")),
    "dss/asic-xades/malformed-container.asice": Expect(NEGATIVE, error="zip-malformed"),
    "dss/asic-cades/brokenReference.asice": Expect(MANIPULATED, attacked=(0,), first=("TOTAL_FAILED", "HASH_FAILURE")),
    "siva/tst-asics/1xTST-valid-bdoc-data-file-hash-failure-in-tst.asics": Expect(
        MANIPULATED, attacked=(0,), first=("TOTAL_FAILED", "HASH_FAILURE")
    ),
}


@dataclass(frozen=True)
class ManifestRow:
    path: str
    size: int
    sha256_prefix: str
    description: str


def _manifest_rows() -> list[ManifestRow]:
    manifest = SHARED / "corpus" / "MANIFEST.md"
    if not manifest.exists():
        return []
    rows = []
    for line in manifest.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| `([^`]+)` \| `[^`]*` \| (\d+) \| ([0-9a-f]{16}) \| (.*) \|$", line)
        if match:
            rows.append(ManifestRow(match[1], int(match[2]), match[3], match[4]))
    return rows


ROWS = _manifest_rows()
SIGNED_ROWS = [r for r in ROWS if r.path.endswith(IN_SCOPE)]


def _validation_time(row: ManifestRow) -> datetime:
    """The signing time the manifest states, if any (e.g. SiVa's bestSignatureTime), else DEFAULT_AT."""
    match = re.search(
        r"(?:bestSignatureTime|signed at|signing time) (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)", row.description
    )
    if match:
        return datetime.fromisoformat(match[1].replace("Z", "+00:00"))
    return DEFAULT_AT


def _corpus_file(row: ManifestRow) -> Path:
    path = shared_path("corpus", *row.path.split("/"))
    data = path.read_bytes()
    assert len(data) == row.size, f"{row.path} is not the file the manifest describes"
    assert hashlib.sha256(data).hexdigest().startswith(row.sha256_prefix), f"{row.path} differs from the manifest"
    return path


@dataclass
class Outcome:
    report: Report | None
    error: TrustSvcError | None
    seconds: float


def _validate_bounded(path: Path, at: datetime, anchors: AnchorSet) -> Outcome:
    """Validate in a thread of its own, so that a parser stuck in a loop fails the test instead of hanging it."""
    box: dict[str, object] = {}

    def run() -> None:
        start = time.monotonic()
        try:
            loop = asyncio.new_event_loop()
            try:
                box["report"] = loop.run_until_complete(validate(path, anchors=anchors, online=False, at=at))
            finally:
                loop.close()
        except BaseException as e:  # judged below: only a TrustSvcError is acceptable
            box["exception"] = e
        box["seconds"] = time.monotonic() - start

    worker = threading.Thread(target=run, name=f"validate {path.name}", daemon=True)
    worker.start()
    worker.join(TIME_LIMIT * 3)
    if worker.is_alive():
        pytest.fail(f"{path.name}: validation still running after {TIME_LIMIT * 3:.0f} s (a parser loop?)")
    exception = box.get("exception")
    if exception is not None and not isinstance(exception, TrustSvcError):
        raise AssertionError(f"{path.name}: {type(exception).__name__} escaped instead of a verdict") from exception
    seconds = box["seconds"]
    assert isinstance(seconds, float)
    assert seconds < TIME_LIMIT, f"{path.name} took {seconds:.1f} s (limit {TIME_LIMIT:.0f} s)"
    return Outcome(box.get("report"), exception, seconds)  # type: ignore[arg-type]


def _summary(outcome: Outcome) -> list[tuple[str, str | None]] | str:
    if outcome.error is not None:
        return f"{type(outcome.error).__name__}[{outcome.error.code}]: {outcome.error.message}"
    assert outcome.report is not None
    return [(s.indication.value, s.subindication.value if s.subindication else None) for s in outcome.report.signatures]


def _check(row: ManifestRow, expect: Expect, outcome: Outcome, *, check_first: bool = True) -> None:
    summary = _summary(outcome)
    if outcome.error is not None:
        message = outcome.error.message
        assert message and "\n" not in message and "Traceback" not in message, f"{row.path}: {message!r}"
        assert expect.error is not None, f"{row.path}: a verdict was expected, got {summary}"
        assert outcome.error.code == expect.error, f"{row.path}: {summary}"
        return
    report = outcome.report
    assert report is not None
    signatures = report.signatures
    if expect.no_signature:
        assert signatures == (), f"{row.path}: {summary}"
        assert [e.code for e in report.document.errors] == ["NO_SIGNATURE_FOUND"]
        return
    assert signatures, f"{row.path}: no signature found in a signed file"
    if expect.first is not None and check_first:
        first = signatures[0]
        got = (first.indication.value, first.subindication.value if first.subindication else None)
        assert got == expect.first, f"{row.path}: {summary}"
    for sig in signatures:
        if sig.indication != Indication.TOTAL_PASSED:
            assert sig.errors, f"{row.path} {sig.id}: {sig.indication} without a reason"
    if expect.category == INTACT:
        broken = [s.id for s in signatures if s.subindication in INTEGRITY_FAILURES]
        assert not broken, f"{row.path}: intact, yet {broken} fail integrity: {summary}"
        return
    passed = [
        s.id for i, s in enumerate(signatures) if s.indication == Indication.TOTAL_PASSED and i not in expect.later
    ]
    assert not passed, f"{row.path}: {expect.category}, yet {passed} TOTAL_PASSED: {summary}"
    for index in expect.attacked:
        sig = signatures[index]
        assert sig.indication == Indication.TOTAL_FAILED, f"{row.path}: attacked {sig.id} not TOTAL_FAILED: {summary}"
        assert sig.subindication in STRUCTURAL_FAILURES, f"{row.path}: {summary}"


def _embedded_certificates(path: Path) -> list[x509.Certificate]:
    """Every certificate the file carries: in its signatures, their time-stamps, and a PDF's DSS."""
    try:
        detected = detect(path.read_bytes())
        roots: list[core.Asn1Value] = []
        if detected.kind is Kind.PDF:
            reader = open_pdf(detected.data)
            for name, _, field_ref in enumerate_sig_fields(reader, filled_status=True):
                with contextlib.suppress(Exception):
                    roots.append(EmbeddedPdfSignature(reader, field_ref, name).signed_data)
            dss = reader.root.get("/DSS")
            for ref in dss.get_object().get("/Certs", ()) if dss is not None else ():
                roots.append(x509.Certificate.load(ref.get_object().data))
        elif detected.content_info is not None:
            roots.append(detected.content_info)
        elif detected.kind is Kind.XML:
            return _xml_certificates(detected.data)
        elif detected.kind is Kind.ZIP:
            container = read_container(detected.data)
            found = {}
            for name in container.xades_signatures:
                found.update({c.dump(): c for c in _xml_certificates(container.zip.read(name))})
            for name in (*container.cades_signatures, *container.timestamps):
                roots.append(cms.ContentInfo.load(container.zip.read(name)))
            roots.extend(found.values())
    except TrustSvcError:
        return []
    found: dict[bytes, x509.Certificate] = {}
    stack = list(roots)
    while stack:
        item = stack.pop()
        if isinstance(item, x509.Certificate):
            found[item.dump()] = item
        elif isinstance(item, core.Choice):
            stack.append(item.chosen)
        elif isinstance(item, core.Sequence | core.Set):
            stack.extend(item[name] for name in item)
        elif isinstance(item, core.SequenceOf | core.SetOf):
            stack.extend(item)
        elif isinstance(item, core.Any | core.ParsableOctetString) and item._parsed is not None:
            stack.append(item._parsed[0] if isinstance(item._parsed, tuple) else item._parsed)
    return list(found.values())


def _xml_certificates(data: bytes) -> list[x509.Certificate]:
    """KeyInfo certificates and XAdES certificate values (including those of time-stamp validation data)."""
    root = parse_xml(data)
    found: dict[bytes, x509.Certificate] = {}
    for element in root.iter(etree.Element):
        if etree.QName(element).localname in ("X509Certificate", "EncapsulatedX509Certificate") and element.text:
            der = base64.b64decode("".join(element.text.split()))
            found[der] = x509.Certificate.load(der)
    for element in root.iter(etree.Element):
        if etree.QName(element).localname == "EncapsulatedTimeStamp" and element.text:
            token = cms.ContentInfo.load(base64.b64decode("".join(element.text.split())))
            for choice in token["content"]["certificates"] or ():
                found[choice.chosen.dump()] = choice.chosen
    return list(found.values())


def _params(rows: list[ManifestRow]) -> list:
    """One test per row; or a single one that skips, saying why, when the shared corpus is absent."""
    return [pytest.param(r, id=r.path) for r in rows] or [pytest.param(None, id="corpus-absent")]


def _row(row: ManifestRow | None) -> ManifestRow:
    if row is None:
        shared_path("corpus", "MANIFEST.md")
        pytest.skip("the corpus manifest lists no such file")
    return row


def test_the_manifest_is_read_and_every_signed_file_classified():
    shared_path("corpus", "MANIFEST.md")
    assert len(ROWS) >= 50, "the manifest table was not parsed"
    unclassified = [r.path for r in SIGNED_ROWS if r.path not in CLASSIFICATION]
    assert not unclassified, f"new in the manifest, classify them in CLASSIFICATION: {unclassified}"
    stale = set(CLASSIFICATION) - {r.path for r in SIGNED_ROWS}
    assert not stale, f"classified but no longer in the manifest: {sorted(stale)}"
    assert {e.category for e in CLASSIFICATION.values()} == {INTACT, MANIPULATED, NEGATIVE}


@pytest.mark.parametrize("row", _params(SIGNED_ROWS))
def test_corpus_file_without_trust(row):
    row = _row(row)
    expect = CLASSIFICATION.get(row.path)
    if expect is None:
        pytest.fail(f"{row.path} is not classified")
    outcome = _validate_bounded(_corpus_file(row), _validation_time(row), AnchorSet())
    _check(row, expect, outcome)


@pytest.mark.parametrize("row", _params(SIGNED_ROWS))
def test_corpus_file_trusting_its_own_certificates(row):
    """The same oracles when every certificate in the file is a trust anchor: no trust failure hides a pass."""
    row = _row(row)
    expect = CLASSIFICATION.get(row.path)
    if expect is None:
        pytest.fail(f"{row.path} is not classified")
    path = _corpus_file(row)
    anchors = AnchorSet((cert, "embedded") for cert in _embedded_certificates(path))
    outcome = _validate_bounded(path, _validation_time(row), anchors)
    _check(row, expect, outcome, check_first=False)


def test_the_validation_time_is_the_signing_time_the_manifest_states():
    shared_path("corpus", "MANIFEST.md")
    by_path = {r.path: r for r in ROWS}
    siva = by_path["siva/generic/hellopades-pades-lt-sha256-sign.pdf"]
    assert _validation_time(siva) == datetime(2015, 7, 9, 7, 0, 55, tzinfo=timezone.utc)
    assert _validation_time(by_path["dss/pades/PAdES-LT.pdf"]) == DEFAULT_AT
