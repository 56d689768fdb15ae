"""The ETSI TS 119 102-2 XML report, rendered from real validations of the test PKI's samples.

Every rendering is parsed back with xsdata into the schema's dataclasses (strictly: an unknown element or attribute
fails), checked for the elements the schema requires, serialized again to the same bytes, and read with XPath for
the values the verdict holds. No official XSD is installed (pyHanko ships only the generated classes), so the
schema check is the generated model's own required/min-occurs metadata.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import pytest
from lxml import etree
from pyhanko.generated.etsi import ts_11910202
from xsdata.formats.dataclass.parsers import XmlParser
from xsdata.formats.dataclass.parsers.config import ParserConfig
from xsdata.formats.dataclass.serializers import XmlSerializer
from xsdata.formats.dataclass.serializers.config import SerializerConfig

from conftest import SAMPLES, T_VAL, validate
from demo_lists import pilot_lists
from trustsvc.engine import Submission, validate_submission
from trustsvc.formats import ValidationSettings
from trustsvc.policy.apply import apply_policies, resolve_requests
from trustsvc.policy.catalogue import load_policy_set
from trustsvc.reports.etsi_xml import NAMESPACE, render_etsi_xml
from trustsvc.trust.provider import TrustedListTrust
from trustsvc.trust.registry import TrustRegistry
from trustsvc.trust.setup import DEMO_WARNING
from trustsvc.verdict import Report, SignatureVerdict, TrustSummary

NS = {"vr": "http://uri.etsi.org/19102/v1.2.1#", "ds": "http://www.w3.org/2000/09/xmldsig#"}
BID = SAMPLES / "content" / "bid.xml"
TIMESTAMP_VO = (
    "vr:SignatureValidationObjects/vr:ValidationObject[vr:ObjectType='urn:etsi:019102:validationObject:timestamp']"
)
DATA = "urn:trustsvc:reportdata:"


@pytest.fixture(scope="module")
def registry() -> TrustRegistry:
    return TrustRegistry(pilot_lists(), snapshot_id=1)


async def tl_validation(sample: str, registry: TrustRegistry) -> Report:
    """Validated against the demo trusted lists, with the trust summary the CLI would attach."""
    summary = TrustSummary(
        source="demo",
        snapshot_id=1,
        lists=tuple(label for _, label in registry.lists),
        anchors=registry.anchor_count(T_VAL),
        warning=DEMO_WARNING,
    )
    settings = ValidationSettings(validation_time=T_VAL, trust=TrustedListTrust(registry), historical=True)
    return await validate_submission(Submission(document=SAMPLES / sample), settings, trust_summary=summary)


def rendered(report: Report) -> etree._Element:
    """Render, prove it schema-shaped and deterministic, and return the parsed document for XPath."""
    xml = render_etsi_xml(report)
    assert xml == render_etsi_xml(report), "same report, same bytes"
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    assert root.tag == f"{{{NAMESPACE}}}ValidationReport"
    assert NAMESPACE == NS["vr"]

    strict = ParserConfig(fail_on_unknown_properties=True, fail_on_unknown_attributes=True)
    model = XmlParser(config=strict).from_bytes(xml, ts_11910202.ValidationReport)
    assert isinstance(model, ts_11910202.ValidationReport)
    _check_required(model, "ValidationReport")
    again = XmlSerializer(config=SerializerConfig(indent="  ")).render(model, ns_map=NS).encode()
    assert again == xml, "the round trip through the schema model loses nothing"

    ids = root.xpath("//@id")
    assert len(ids) == len(set(ids)), "xs:ID values are unique"
    for reference in root.xpath("//@VOReference"):
        assert set(reference.split()) <= set(ids), f"dangling VOReference {reference}"
    return root


def _check_required(node: Any, path: str) -> None:
    """Every element/attribute the generated model marks required is there, and every list its minimum holds."""
    if not dataclasses.is_dataclass(node):
        return
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        where = f"{path}/{f.metadata.get('name', f.name)}"
        if f.metadata.get("required"):
            assert value is not None, f"{where} is required"
        if f.metadata.get("min_occurs", 0) >= 1:
            assert value, f"{where} needs at least one item"
        for item in value if isinstance(value, tuple) else (value,):
            _check_required(item, where)
    if isinstance(node, ts_11910202.ValidationObjectRepresentationType):
        chosen = [v for v in (node.direct, node.base64, node.digest_alg_and_value, node.uri) if v is not None]
        assert len(chosen) == 1, f"{path} is a choice of exactly one representation"


def status(node: etree._Element) -> tuple[str | None, str | None]:
    """(MainIndication, SubIndication) of a signature report or of a validation object's report."""
    return (
        text(node, "vr:SignatureValidationStatus/vr:MainIndication"),
        text(node, "vr:SignatureValidationStatus/vr:SubIndication"),
    )


def reports_of(root: etree._Element) -> list[etree._Element]:
    return root.xpath("vr:SignatureValidationReport", namespaces=NS)


def text(node: etree._Element, xpath: str) -> str | None:
    found = node.xpath(xpath, namespaces=NS)
    assert len(found) <= 1, f"{xpath} is ambiguous"
    return (found[0] if isinstance(found[0], str) else found[0].text) if found else None


def report_data(node: etree._Element, type_uri: str) -> list[str]:
    xpath = f"vr:SignatureValidationStatus//vr:ReportData[vr:Type='{type_uri}']/vr:Value/text()"
    return [str(v) for v in node.xpath(xpath, namespaces=NS)]


def vo(node: etree._Element, vo_id: str) -> etree._Element:
    """The validation object with this id, from anywhere in the document."""
    root = node.getroottree().getroot()
    (found,) = root.xpath("vr:SignatureValidationObjects/vr:ValidationObject[@id=$id]", namespaces=NS, id=vo_id)
    return found


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def assert_matches_verdict(node: etree._Element, sig: SignatureVerdict, report: Report) -> None:
    """The values every signature report carries, against the verdict they come from."""
    assert text(node, "vr:SignatureIdentifier/@id") == sig.id
    assert text(node, "vr:SignatureIdentifier/vr:HashOnly") == "false"
    assert status(node) == (sig.indication.uri, sig.subindication.uri if sig.subindication else None)
    assert text(node, "vr:ValidationTimeInfo/vr:ValidationTime") == iso(report.validation_time)
    best = sig.best_signature_time or report.validation_time
    assert text(node, "vr:ValidationTimeInfo/vr:BestSignatureTime/vr:POETime") == iso(best)
    assert text(node, "vr:ValidationTimeInfo/vr:BestSignatureTime/vr:TypeOfProof") == (
        "urn:etsi:019102:poetype:validation"
    )
    claimed = sig.claimed_signing_time
    assert text(node, "vr:SignatureAttributes/vr:SigningTime/vr:Time") == (iso(claimed) if claimed else None)
    if sig.signer:
        assert text(node, "vr:SignerInformation/vr:Signer") == sig.signer.subject
        cert = vo(node, text(node, "vr:SignerInformation/vr:SignerCertificate/@VOReference"))
        assert text(cert, "vr:ObjectType") == "urn:etsi:019102:validationObject:certificate"
        digest = text(cert, "vr:ValidationObjectRepresentation/vr:DigestAlgAndValue/ds:DigestValue")
        assert base64.b64decode(digest).hex() == sig.signer.certificate_sha256
    errors = report_data(node, "urn:cef:dss:message:error")
    assert errors == [f"{f.code}: {f.message}" for f in sig.errors + report.document.errors]
    assert report_data(node, "urn:cef:dss:message:warning") == [f"{f.code}: {f.message}" for f in sig.warnings]
    assert report_data(node, "urn:cef:dss:message:information") == [f"{f.code}: {f.message}" for f in sig.infos]
    assert report_data(node, DATA + "document-sha256") == [report.document.sha256]


def timestamp_status(root: etree._Element, attribute_xpath: str) -> tuple[str | None, str | None, str | None]:
    """(main indication, sub-indication, POE time provided) of the time-stamp an attribute references."""
    ts = vo(root, text(root, attribute_xpath + "/vr:AttributeObject/@VOReference"))
    return (*status(ts.find("vr:ValidationReport", NS)), text(ts, "vr:POEProvisioning/vr:POETime"))


async def test_pades_lta(anchors):
    report = await validate(SAMPLES / "pades" / "b-lta.pdf", anchors=anchors)
    root = rendered(report)
    (node,) = reports_of(root)
    (sig,) = report.signatures
    assert_matches_verdict(node, sig, report)
    assert status(node) == ("urn:etsi:019102:mainindication:total-passed", None)
    assert text(node, "vr:ValidationTimeInfo/vr:BestSignatureTime/vr:POETime") == "2026-11-02T10:00:00Z"
    assert text(node, "vr:SignatureAttributes/vr:SigningTime/vr:Time") == "2026-11-02T10:00:00Z"
    assert text(node, "vr:SignatureValidationProcess/vr:SignatureValidationProcessID") == (
        "urn:etsi:019102:validationprocess:LTA"
    )
    # the document time-stamp of the signature is the document's own: one object, two time-stamps in all
    assert len(root.xpath(TIMESTAMP_VO, namespaces=NS)) == 2
    assert report.timestamps and [t.type for t in sig.timestamps] == ["signature", "document"]
    passed = ("urn:etsi:019102:mainindication:passed", None, "2026-11-02T10:00:00Z")
    assert timestamp_status(node, "vr:SignatureAttributes/vr:SignatureTimeStamp") == passed
    assert timestamp_status(node, "vr:SignatureAttributes/vr:DocTimeStamp") == passed
    assert text(node, "vr:SignatureAttributes/vr:DocTimeStamp/vr:TimeStampValue") == "2026-11-02T10:00:00Z"
    # ad-hoc trust: an anchor, no qualification
    anchor = vo(root, text(node, "vr:SignatureValidationStatus//vr:TrustAnchor/@VOReference"))
    assert (
        text(anchor, "vr:ValidationObjectRepresentation/vr:direct")
        == "CN=FR Test Root CA,O=Autorité de Test France,C=FR"
    )
    assert report_data(node, DATA + "trust-anchor-source") == ["ad-hoc"]
    assert node.xpath("vr:SignatureQuality", namespaces=NS) == []
    assert report_data(node, DATA + "level") == ["PAdES-BASELINE-LTA"]


@pytest.mark.parametrize(
    ("sample", "label", "quality"),
    [
        ("pades/b-lt.pdf", "QESig", "urn:oid:0.4.0.191724.1.2.1"),
        ("pades/b-lt-es.pdf", "AdESig-QC", "urn:oid:0.4.0.191724.1.2.2"),
        ("pades/b-lt-fr-signer-nq.pdf", "AdESig", "urn:oid:0.4.0.191724.1.2.3"),
        ("pades/b-lt-fr-seal.pdf", "QESeal", "urn:oid:0.4.0.191724.1.2.4"),
        ("pades/b-lt-cz.pdf", "INDETERMINATE", None),  # CA withdrawn before signing: no chain, no quality
    ],
)
async def test_signature_quality_from_trusted_lists(sample, label, quality, registry):
    report = await tl_validation(sample, registry)
    root = rendered(report)
    (node,) = reports_of(root)
    (sig,) = report.signatures
    assert sig.qualification.signature == label
    assert_matches_verdict(node, sig, report)
    assert text(node, "vr:SignatureQuality/vr:SignatureQualityInformation") == quality
    assert report_data(node, DATA + "qualification") == [label]
    assert report_data(node, DATA + "qualification-at-signing") == [sig.qualification.at_signing]
    assert report_data(node, DATA + "qualification-note") == list(sig.qualification.notes)
    # the trust summary survives, whole
    assert report_data(node, DATA + "trust-source") == ["demo"]
    assert report_data(node, DATA + "trust-snapshot") == ["1"]
    assert report_data(node, DATA + "trust-list") == list(report.trust.lists) and report.trust.lists
    assert report_data(node, DATA + "trust-anchors") == [str(report.trust.anchors)]
    assert report_data(node, DATA + "trust-warning") == [DEMO_WARNING]
    if sig.trust_anchor:
        assert report_data(node, DATA + "trust-anchor-source") == [sig.trust_anchor.source]


async def test_qualified_signature_and_qualified_time_stamp(registry):
    report = await tl_validation("pades/b-lt.pdf", registry)
    root = rendered(report)
    (node,) = reports_of(root)
    assert status(node) == ("urn:etsi:019102:mainindication:total-passed", None)
    assert text(node, "vr:SignatureValidationProcess/vr:SignatureValidationProcessID") == (
        "urn:etsi:019102:validationprocess:LTVM"
    )
    assert report_data(node, DATA + "trust-anchor-source") == ["TL FR #1"]
    (ts,) = root.xpath(TIMESTAMP_VO, namespaces=NS)
    assert report.signatures[0].timestamps[0].qualified is True
    assert text(ts, "vr:ValidationReport/vr:SignatureQuality/vr:SignatureQualityInformation") == (
        "urn:oid:0.4.0.191724.1.2.7"
    )


@pytest.mark.parametrize(
    ("online", "main", "sub"),
    [
        (True, "urn:etsi:019102:mainindication:total-passed", None),
        (False, "urn:etsi:019102:mainindication:indeterminate", "urn:etsi:019102:subindication:TRY_LATER"),
    ],
)
async def test_cades_detached_b_t(online, main, sub, anchors, pki_proxy):
    report = await validate(SAMPLES / "cades" / "detached-b-t.p7s", anchors=anchors, contents=[BID], online=online)
    root = rendered(report)
    (node,) = reports_of(root)
    (sig,) = report.signatures
    assert_matches_verdict(node, sig, report)
    assert status(node) == (main, sub)
    assert text(node, "vr:SignatureValidationProcess/vr:SignatureValidationProcessID") == (
        "urn:etsi:019102:validationprocess:LTVM"
    )
    assert len(root.xpath(TIMESTAMP_VO, namespaces=NS)) == 1
    ts_main, ts_sub, poe = timestamp_status(node, "vr:SignatureAttributes/vr:SignatureTimeStamp")
    if online:
        assert text(node, "vr:ValidationTimeInfo/vr:BestSignatureTime/vr:POETime") == "2026-11-02T10:00:00Z"
        assert (ts_main, ts_sub, poe) == ("urn:etsi:019102:mainindication:passed", None, "2026-11-02T10:00:00Z")
    else:  # the time-stamp could not be validated: it proves nothing, and says why
        assert (ts_main, ts_sub, poe) == (
            "urn:etsi:019102:mainindication:indeterminate",
            "urn:etsi:019102:subindication:TRY_LATER",
            None,
        )
        assert report_data(node, "urn:cef:dss:message:warning")


async def test_cades_lta_archive_time_stamp(anchors):
    report = await validate(SAMPLES / "cades" / "detached-b-lta.p7s", anchors=anchors, contents=[BID])
    root = rendered(report)
    (node,) = reports_of(root)
    assert_matches_verdict(node, report.signatures[0], report)
    assert text(node, "vr:SignatureValidationProcess/vr:SignatureValidationProcessID") == (
        "urn:etsi:019102:validationprocess:LTA"
    )
    assert len(root.xpath(TIMESTAMP_VO, namespaces=NS)) == 2
    assert timestamp_status(node, "vr:SignatureAttributes/vr:ArchiveTimeStamp")[0] == (
        "urn:etsi:019102:mainindication:passed"
    )


async def test_rfc3161_time_stamp_token(anchors, pki_proxy):
    report = await validate(SAMPLES / "timestamps" / "bid.xml.tsr", anchors=anchors, contents=[BID], online=True)
    root = rendered(report)
    (node,) = reports_of(root)
    (sig,) = report.signatures
    assert_matches_verdict(node, sig, report)
    assert text(node, "vr:SignatureIdentifier/@id") == "tst-1"
    assert status(node) == ("urn:etsi:019102:mainindication:total-passed", None)
    assert text(node, "vr:SignerInformation/vr:Signer") == "CN=FR Test Qualified TSA,O=Autorité de Test France,C=FR"
    assert text(node, "vr:ValidationTimeInfo/vr:BestSignatureTime/vr:POETime") == "2026-11-02T10:00:00Z"
    assert text(node, "vr:SignatureValidationProcess/vr:SignatureValidationProcessID") == (
        "urn:etsi:019102:validationprocess:Basic"
    )
    assert len(root.xpath(TIMESTAMP_VO, namespaces=NS)) == 1
    assert report_data(node, DATA + "format") == ["RFC3161"]


async def test_tampered_pdf_fails_with_its_reason(anchors):
    report = await validate(SAMPLES / "pades" / "tampered-content-byte.pdf", anchors=anchors)
    root = rendered(report)
    (node,) = reports_of(root)
    (sig,) = report.signatures
    assert_matches_verdict(node, sig, report)
    assert status(node) == ("urn:etsi:019102:mainindication:total-failed", "urn:etsi:019102:subindication:HASH_FAILURE")
    # no proof of existence was established: the best signature time is the validation time
    assert sig.best_signature_time is None
    assert text(node, "vr:ValidationTimeInfo/vr:BestSignatureTime/vr:POETime") == "2026-11-28T12:00:00Z"
    assert report_data(node, "urn:cef:dss:message:error") == [
        "HASH_MISMATCH: The signed data does not match the signature: it was altered."
    ]
    assert node.xpath("vr:SignatureValidationStatus//vr:TrustAnchor", namespaces=NS) == []
    assert root.xpath(TIMESTAMP_VO, namespaces=NS) == []


async def test_no_signature_still_gives_a_valid_document(anchors):
    report = await validate(SAMPLES / "pades" / "no-signature.pdf", anchors=anchors)
    root = rendered(report)
    (node,) = reports_of(root)  # the schema wants one SignatureValidationReport at least
    assert node.xpath("vr:SignatureIdentifier", namespaces=NS) == []
    assert status(node) == ("urn:cef:dss:mainindication:noSignatureFound", None)
    assert report_data(node, "urn:cef:dss:message:error") == ["NO_SIGNATURE_FOUND: The document carries no signature."]
    assert report_data(node, DATA + "validation-time") == ["2026-11-28T12:00:00Z"]
    assert report_data(node, DATA + "document-filename") == ["no-signature.pdf"]
    assert root.xpath("vr:SignatureValidationObjects", namespaces=NS) == []


async def test_two_signatures(anchors, pki_proxy):
    report = await validate(SAMPLES / "pades" / "two-signatures.pdf", anchors=anchors, online=True)
    root = rendered(report)
    nodes = reports_of(root)
    assert [text(n, "vr:SignatureIdentifier/@id") for n in nodes] == ["sig-1", "sig-2"]
    for node, sig in zip(nodes, report.signatures, strict=True):
        assert_matches_verdict(node, sig, report)
    assert [text(n, "vr:SignatureAttributes/vr:SigningTime/vr:Time") for n in nodes] == [
        "2026-11-02T10:00:00Z",
        "2026-11-02T10:30:00Z",
    ]
    certificates = {s.signer.certificate_sha256 for s in report.signatures}
    listed = root.xpath(
        "vr:SignatureValidationObjects/vr:ValidationObject[vr:ValidationObjectRepresentation/vr:DigestAlgAndValue]",
        namespaces=NS,
    )
    assert len(listed) == len(certificates)  # each certificate once
    assert len(root.xpath(TIMESTAMP_VO, namespaces=NS)) == 2


async def test_policy_decisions_are_left_out(anchors):
    report = await validate(SAMPLES / "pades" / "b-lta.pdf", anchors=anchors)
    policies = load_policy_set()
    decided = apply_policies(report, resolve_requests(["all"], policies), policies)
    assert decided.policies
    assert render_etsi_xml(decided) == render_etsi_xml(report)
