"""tsl_write: the lists it writes are shaped like TS 119 612 v6 lists and their signatures verify elsewhere.

"Elsewhere" matters: a list only our own reader accepts proves nothing. Each signed list is checked by signxml's
XAdESVerifier (pinned signer), by pyHanko's TL reader (which parses through xsdata bindings generated from the
TS 119 612 XSD) and, where installed, by xmlsec1. Keys and certificates are made here, not taken from shared data.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import importlib
import os
import pickle
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from lxml import etree
from pyhanko.generated.etsi import ts_119612
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.qualified import eutl_parse, tsp
from pyhanko_certvalidator.authority import AuthorityWithCert
from signxml.exceptions import InvalidDigest
from signxml.xades import XAdESSignatureConfiguration, XAdESVerifier
from xsdata.formats.dataclass.parsers import XmlParser
from xsdata.formats.dataclass.parsers.config import ParserConfig
from xsdata.formats.dataclass.serializers import XmlSerializer

from trustsvc.trust.tsl_model import (
    CA_QC,
    TSA_QTST,
    AdditionalInfo,
    Criteria,
    DigitalIdentity,
    QualificationElement,
    Qualifier,
    ServiceState,
    ServiceStatus,
    TrustedList,
    TrustService,
    TrustServiceProvider,
    TslPointer,
)
from trustsvc.trust.tsl_write import (
    DS_NS,
    SIE_NS,
    TSL_NS,
    TSLX_NS,
    XADES_NS,
    Address,
    ListDetails,
    PostalAddress,
    render_trusted_list,
    sign_trusted_list,
    signed_list_bytes,
)

NS = {"tsl": TSL_NS, "ecc": SIE_NS, "tslx": TSLX_NS, "xades": XADES_NS, "ds": DS_NS}
SIGNED_AT = datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)
QCP_N_QSCD = "0.4.0.194112.1.2"
ORGANIZATION_IDENTIFIER = "2.5.4.97"
DOCUMENT_SIGNING = "1.3.6.1.4.1.311.10.3.12"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


# --- a small PKI, made here -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    tlso_key: rsa.RSAPrivateKey
    tlso_cert: bytes
    lotlso_key: ec.EllipticCurvePrivateKey
    lotlso_cert: bytes
    other_tlso_cert: bytes
    ca_cert: bytes
    tsa_cert: bytes
    root_ski: bytes


def _certificate(key, common_name: str, *, ca: bool = False, eku: list | None = None) -> bytes:
    """A self-signed certificate: the lists only carry certificates, nobody builds paths from them here."""
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "BE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "trustsvc tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(utc(2015, 1, 1))
        .not_valid_after(utc(2035, 1, 1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
    return builder.sign(key, hashes.SHA256()).public_bytes(Encoding.DER)


@pytest.fixture(scope="module")
def pki() -> Pki:
    tlso_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    lotlso_key = ec.generate_private_key(ec.SECP256R1())
    root_key = ec.generate_private_key(ec.SECP256R1())
    return Pki(
        tlso_key=tlso_key,
        tlso_cert=_certificate(tlso_key, "BE scheme operator"),
        lotlso_key=lotlso_key,
        lotlso_cert=_certificate(lotlso_key, "EU LOTL scheme operator"),
        other_tlso_cert=_certificate(ec.generate_private_key(ec.SECP256R1()), "FR scheme operator"),
        ca_cert=_certificate(ec.generate_private_key(ec.SECP256R1()), "BE Qualified CA", ca=True),
        tsa_cert=_certificate(
            ec.generate_private_key(ec.SECP256R1()), "BE Qualified TSA", eku=[ExtendedKeyUsageOID.TIME_STAMPING]
        ),
        root_ski=x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()).digest,
    )


# --- the lists ------------------------------------------------------------------------------------------------------

ESIG_QSCD = QualificationElement(
    qualifiers=frozenset({Qualifier.QC_WITH_QSCD, Qualifier.QC_FOR_ESIG}),
    criteria=Criteria(
        assert_="all",
        key_usage=((("nonRepudiation", True), ("keyCertSign", False)),),
        policy_sets=(frozenset({QCP_N_QSCD}),),
    ),
)
ESEAL_BY_DN_OR_EKU = QualificationElement(
    qualifiers=frozenset({Qualifier.QC_FOR_ESEAL, Qualifier.QC_WITH_QSCD}),
    criteria=Criteria(
        assert_="atLeastOne",
        nested=(
            Criteria(assert_="all", subject_dn_attributes=(frozenset({ORGANIZATION_IDENTIFIER}),)),
            Criteria(assert_="all", extended_key_usages=(frozenset({DOCUMENT_SIGNING}),)),
        ),
    ),
)


def national_list(pki: Pki) -> TrustedList:
    """BE: a qualified CA with a history back to 2014, an SKI-only CA, and a qualified TSA under a second TSP."""
    ca_identity = DigitalIdentity(
        certificates=(pki.ca_cert,), subject_names=("CN=BE Qualified CA,O=trustsvc tests,C=BE",)
    )
    ca = TrustService(
        current=ServiceState(
            type=CA_QC,
            name="BE Qualified CA",
            status=ServiceStatus.GRANTED,
            start=utc(2021, 3, 1),
            identity=ca_identity,
            qualifications=(ESIG_QSCD, ESEAL_BY_DN_OR_EKU),
            additional_info=frozenset({AdditionalInfo.FOR_ESIGNATURES, AdditionalInfo.FOR_ESEALS}),
            expired_certs_revocation_info=utc(2016, 7, 1),
        ),
        history=(
            ServiceState(
                type=CA_QC,
                name="BE Qualified CA",
                status=ServiceStatus.WITHDRAWN,
                start=utc(2019, 5, 1),
                identity=ca_identity,
            ),
            ServiceState(
                type=CA_QC,
                name="BE Qualified CA",
                status=ServiceStatus.GRANTED,
                start=utc(2016, 7, 1),
                identity=ca_identity,
                qualifications=(ESIG_QSCD,),
                additional_info=frozenset({AdditionalInfo.FOR_ESIGNATURES}),
            ),
            ServiceState(
                type=CA_QC,
                name="BE Accredited CA",
                status=ServiceStatus.ACCREDITED,
                start=utc(2014, 1, 15, 10, 0),
                identity=ca_identity,
                qualifications=(
                    QualificationElement(
                        qualifiers=frozenset({Qualifier.QC_WITH_SSCD}),
                        criteria=Criteria(policy_sets=(frozenset({"0.4.0.1456.1.1"}),)),
                    ),
                ),
            ),
        ),
    )
    root_by_ski = TrustService(
        current=ServiceState(
            type=CA_QC,
            name="BE Root CA (SKI only)",
            status=ServiceStatus.GRANTED,
            start=utc(2018, 1, 1),
            identity=DigitalIdentity(skis=(pki.root_ski,)),
        )
    )
    tsa = TrustService(
        current=ServiceState(
            type=TSA_QTST,
            name="BE Qualified TSA",
            status=ServiceStatus.GRANTED,
            start=utc(2017, 6, 1),
            identity=DigitalIdentity(certificates=(pki.tsa_cert,)),
        )
    )
    return TrustedList(
        version=6,
        sequence=42,
        tsl_type="EUgeneric",
        territory="BE",
        operator_name="FPS Economy, SMEs, Self-employed and Energy",
        issued=utc(2026, 2, 20, 8, 0),
        next_update=utc(2026, 8, 20, 8, 0),
        pointers=(
            TslPointer(
                location="https://lotl.example.org/eu-lotl.xml",
                territory="EU",
                tsl_type="EUlistofthelists",
                mime_type="application/vnd.etsi.tsl+xml",
                signer_certificates=(pki.lotlso_cert,),
                operator_name="European Commission",
            ),
        ),
        providers=(
            TrustServiceProvider(
                name="Belgian Qualified Certificates NV",
                trade_names=("VATBE-0123456789", "BQC"),
                services=(ca, root_by_ski),
            ),
            TrustServiceProvider(name="Belgian Time NV", trade_names=(), services=(tsa,)),
        ),
        scheme_information_uris=("https://tl.example.org/be/scheme-information",),
        distribution_points=("https://tl.example.org/be/tl-be.xml",),
    )


def lotl(pki: Pki) -> TrustedList:
    return TrustedList(
        version=6,
        sequence=390,
        tsl_type="EUlistofthelists",
        territory="EU",
        operator_name="European Commission",
        issued=utc(2026, 2, 25),
        next_update=utc(2026, 8, 25),
        pointers=(
            TslPointer(
                location="https://tl.example.org/be/tl-be.xml",
                territory="BE",
                tsl_type="EUgeneric",
                mime_type="application/vnd.etsi.tsl+xml",
                signer_certificates=(pki.tlso_cert,),
                operator_name="FPS Economy, SMEs, Self-employed and Energy",
            ),
            TslPointer(
                location="https://tl.example.org/fr/tl-fr.xml",
                territory="FR",
                tsl_type="EUgeneric",
                mime_type="application/vnd.etsi.tsl+xml",
                signer_certificates=(pki.other_tlso_cert, pki.tlso_cert),
                operator_name="ANSSI",
            ),
        ),
        scheme_information_uris=("https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:52019XC0816(01)",),
    )


@pytest.fixture(scope="module")
def national_signed(pki: Pki) -> bytes:
    return signed_list_bytes(national_list(pki), pki.tlso_key, pki.tlso_cert, SIGNED_AT)


@pytest.fixture(scope="module")
def lotl_signed(pki: Pki) -> bytes:
    return signed_list_bytes(lotl(pki), pki.lotlso_key, pki.lotlso_cert, SIGNED_AT)


def _asn1(der: bytes) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(der)


def _xpath(xml: bytes, path: str) -> list:
    return etree.fromstring(xml).xpath(path, namespaces=NS)


# --- rendering ------------------------------------------------------------------------------------------------------


def test_rendering_does_not_depend_on_the_process(pki, tmp_path: Path):
    """Same model, same bytes: frozensets iterate in an order that changes with PYTHONHASHSEED, so sets are sorted."""
    tl = national_list(pki)
    expected = render_trusted_list(tl)
    model = tmp_path / "tl.pickle"
    model.write_bytes(pickle.dumps(tl))
    script = (
        "import pickle, sys; from trustsvc.trust.tsl_write import render_trusted_list; "
        "sys.stdout.buffer.write(render_trusted_list(pickle.loads(open(sys.argv[1], 'rb').read())))"
    )
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", script, str(model)], capture_output=True, env=env, check=True)
        assert out.stdout == expected


def test_times_are_written_in_utc(pki):
    cet = timezone(timedelta(hours=1))
    tl = dataclasses.replace(lotl(pki), issued=datetime(2026, 2, 25, 1, 30, 15, 999, tzinfo=cet), next_update=None)
    xml = render_trusted_list(tl)
    assert _xpath(xml, "//tsl:ListIssueDateTime/text()") == ["2026-02-25T00:30:15Z"]
    # a closed list: NextUpdate present (the XSD requires it) but empty
    (next_update,) = _xpath(xml, "//tsl:NextUpdate")
    assert len(next_update) == 0


def _missing_required(obj, path: str = "") -> list[str]:
    """Required elements/attributes (per pyHanko's xsdata bindings of the TS 119 612 XSD) left empty."""
    missing = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        here = f"{path}/{f.metadata.get('name', f.name)}"
        if f.metadata.get("required") and value in (None, ""):
            missing.append(here)
        if f.metadata.get("min_occurs", 0) >= 1 and value == ():
            missing.append(here)
        for item in value if isinstance(value, tuple) else (value,):
            if dataclasses.is_dataclass(item) and not isinstance(item, type):
                missing += _missing_required(item, here)
    return missing


@pytest.mark.parametrize("which", ["national", "lotl"])
def test_rendered_list_fits_the_ts_119612_schema_bindings(pki, which):
    """No XSD file ships offline; pyHanko's xsdata bindings are generated from it, so we check against those.

    Strict parsing finds unknown element and attribute names; re-serialising through the bindings writes elements
    in the XSD's sequence order, so an unchanged element order means ours is the schema's; then required parts.
    Not covered: xsd:choice (one item per DigitalId) and simple-type facets.
    """
    xml = render_trusted_list(national_list(pki) if which == "national" else lotl(pki))
    strict = XmlParser(
        config=ParserConfig(
            fail_on_unknown_properties=True, fail_on_unknown_attributes=True, fail_on_converter_warnings=True
        )
    )
    parsed = strict.from_bytes(xml, ts_119612.TrustServiceStatusList)

    def tags(root: etree._Element) -> list[str]:
        return [e.tag for e in root.iter() if isinstance(e.tag, str)]

    again = etree.fromstring(XmlSerializer().render(parsed).encode())
    assert tags(etree.fromstring(xml)) == tags(again)
    assert _missing_required(parsed) == []


def test_national_list_uses_the_ts_119612_v2_vocabulary(pki):
    xml = render_trusted_list(national_list(pki))
    root = etree.fromstring(xml)
    assert root.tag == f"{{{TSL_NS}}}TrustServiceStatusList"
    assert root.get("TSLTag") == "http://uri.etsi.org/19612/TSLTag"
    assert _xpath(xml, "//tsl:TSLVersionIdentifier/text()") == ["6"]
    assert _xpath(xml, "/*/tsl:SchemeInformation/tsl:TSLType/text()") == [
        "http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUgeneric"
    ]
    assert _xpath(
        xml, "/tsl:TrustServiceStatusList/tsl:SchemeInformation/tsl:SchemeTypeCommunityRules/tsl:URI/text()"
    ) == [
        "http://uri.etsi.org/TrstSvc/TrustedList/schemerules/EUcommon",
        "http://uri.etsi.org/TrstSvc/TrustedList/schemerules/BE",
    ]
    assert _xpath(xml, "//tsl:SchemeOperatorAddress//tsl:CountryName/text()") == ["BE"]

    (ca, root_by_ski) = _xpath(xml, "//tsl:TrustServiceProvider[1]//tsl:TSPService")
    info = ca.find("tsl:ServiceInformation", NS)
    assert info.findtext("tsl:ServiceTypeIdentifier", namespaces=NS) == "http://uri.etsi.org/TrstSvc/Svctype/CA/QC"
    assert (
        info.findtext("tsl:ServiceStatus", namespaces=NS) == "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted"
    )
    assert info.findtext("tsl:StatusStartingTime", namespaces=NS) == "2021-03-01T00:00:00Z"
    assert [base64.b64decode(c) for c in info.xpath(".//tsl:X509Certificate/text()", namespaces=NS)] == [pki.ca_cert]

    (extensions,) = info.xpath("tsl:ServiceInformationExtensions", namespaces=NS)
    (quals_ext,) = extensions.xpath("tsl:Extension[ecc:Qualifications]", namespaces=NS)
    assert quals_ext.get("Critical") == "true"
    first, second = quals_ext.xpath("ecc:Qualifications/ecc:QualificationElement", namespaces=NS)
    assert first.xpath("ecc:Qualifiers/ecc:Qualifier/@uri", namespaces=NS) == [
        "http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/QCForESig",
        "http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/QCWithQSCD",
    ]
    (criteria,) = first.xpath("ecc:CriteriaList", namespaces=NS)
    assert criteria.get("assert") == "all"
    assert [(b.get("name"), b.text) for b in criteria.xpath("ecc:KeyUsage/ecc:KeyUsageBit", namespaces=NS)] == [
        ("nonRepudiation", "true"),
        ("keyCertSign", "false"),
    ]
    (identifier,) = criteria.xpath("ecc:PolicySet/ecc:PolicyIdentifier/xades:Identifier", namespaces=NS)
    assert (identifier.get("Qualifier"), identifier.text) == ("OIDAsURN", f"urn:oid:{QCP_N_QSCD}")
    (nested_dn, nested_eku) = second.xpath("ecc:CriteriaList/ecc:CriteriaList", namespaces=NS)
    assert nested_dn.xpath(
        "ecc:otherCriteriaList/tslx:CertSubjectDNAttribute/tslx:AttributeOID/xades:Identifier/text()", namespaces=NS
    ) == [f"urn:oid:{ORGANIZATION_IDENTIFIER}"]
    assert nested_eku.xpath(
        "ecc:otherCriteriaList/tslx:ExtendedKeyUsage/tslx:KeyPurposeId/xades:Identifier/text()", namespaces=NS
    ) == [f"urn:oid:{DOCUMENT_SIGNING}"]
    assert extensions.xpath(
        "tsl:Extension[@Critical='false']/tsl:AdditionalServiceInformation/tsl:URI/text()", namespaces=NS
    ) == [
        "http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/ForeSeals",
        "http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/ForeSignatures",
    ]
    assert extensions.xpath("tsl:Extension/tsl:ExpiredCertsRevocationInfo/text()", namespaces=NS) == [
        "2016-07-01T00:00:00Z"
    ]

    history = ca.xpath("tsl:ServiceHistory/tsl:ServiceHistoryInstance", namespaces=NS)
    status_and_start = "concat(tsl:ServiceStatus, ' ', tsl:StatusStartingTime)"
    assert [h.xpath(status_and_start, namespaces=NS) for h in history] == [
        "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/withdrawn 2019-05-01T00:00:00Z",
        "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted 2016-07-01T00:00:00Z",
        "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/accredited 2014-01-15T10:00:00Z",
    ]

    assert [base64.b64decode(s) for s in root_by_ski.xpath(".//tsl:DigitalId/tsl:X509SKI/text()", namespaces=NS)] == [
        pki.root_ski
    ]
    assert not root_by_ski.xpath(".//tsl:X509Certificate", namespaces=NS)
    assert _xpath(xml, "//tsl:TrustServiceProvider[2]//tsl:ServiceTypeIdentifier/text()") == [
        "http://uri.etsi.org/TrstSvc/Svctype/TSA/QTST"
    ]


def test_lotl_pointers_are_shaped_like_the_eu_lotl(pki):
    xml = render_trusted_list(lotl(pki))
    assert not _xpath(xml, "//tsl:TrustServiceProviderList")  # the XSD wants at least one TSP when present
    (_, fr) = _xpath(xml, "//tsl:PointersToOtherTSL/tsl:OtherTSLPointer")
    certs = fr.xpath(
        "tsl:ServiceDigitalIdentities/tsl:ServiceDigitalIdentity/tsl:DigitalId/tsl:X509Certificate/text()",
        namespaces=NS,
    )
    assert [base64.b64decode(c) for c in certs] == [pki.other_tlso_cert, pki.tlso_cert]
    assert fr.findtext("tsl:TSLLocation", namespaces=NS) == "https://tl.example.org/fr/tl-fr.xml"
    other = fr.xpath("tsl:AdditionalInformation/tsl:OtherInformation/*", namespaces=NS)
    assert [(etree.QName(e).localname, "".join(e.itertext()).strip()) for e in other] == [
        ("TSLType", "http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUgeneric"),
        ("SchemeOperatorName", "ANSSI"),
        ("SchemeTypeCommunityRules", "http://uri.etsi.org/TrstSvc/TrustedList/schemerules/EUcommon"),
        ("SchemeTerritory", "FR"),
        ("MimeType", "application/vnd.etsi.tsl+xml"),
    ]
    assert other[-1].tag == f"{{{TSLX_NS}}}MimeType"
    assert _xpath(
        xml, "/tsl:TrustServiceStatusList/tsl:SchemeInformation/tsl:SchemeTypeCommunityRules/tsl:URI/text()"
    ) == ["http://uri.etsi.org/TrstSvc/TrustedList/schemerules/EUlistofthelists"]


def test_list_details_are_configurable(pki):
    details = ListDetails(
        scheme_operator_address=Address(
            postal=PostalAddress(street="Rue du Progrès 50", locality="Bruxelles", postal_code=None, country="BE"),
            electronic=("mailto:be.sign@economie.fgov.be",),
        ),
        scheme_name="BE:Supervision/Accreditation Status List",
        historical_information_period=3650,
    )
    xml = render_trusted_list(national_list(pki), details)
    assert _xpath(xml, "//tsl:SchemeOperatorAddress//tsl:StreetAddress/text()") == ["Rue du Progrès 50"]
    assert not _xpath(xml, "//tsl:SchemeOperatorAddress//tsl:PostalCode")
    assert _xpath(xml, "//tsl:SchemeOperatorAddress/tsl:ElectronicAddress/tsl:URI/text()") == [
        "mailto:be.sign@economie.fgov.be"
    ]
    assert _xpath(xml, "//tsl:SchemeName/tsl:Name/text()") == ["BE:Supervision/Accreditation Status List"]
    assert _xpath(xml, "//tsl:HistoricalInformationPeriod/text()") == ["3650"]


UNKNOWN_CRITERION = QualificationElement(
    qualifiers=frozenset({Qualifier.QC_WITH_QSCD}), criteria=Criteria(unknown=("CertPolicyConstraint",))
)


NOT_UNDERSTOOD = pytest.mark.parametrize(
    ("change", "element"),
    [
        ({"critical_extension_not_understood": True}, "CriticalExtension"),
        ({"qualifications": (ESIG_QSCD, UNKNOWN_CRITERION)}, "CertPolicyConstraint"),
    ],
    ids=["critical-extension", "criterion"],
)


def _with_ca_changed(tl: TrustedList, change: dict) -> TrustedList:
    """`tl` with fields of its first service's current state replaced."""
    provider = tl.providers[0]
    service = provider.services[0]
    service = dataclasses.replace(service, current=dataclasses.replace(service.current, **change))
    provider = dataclasses.replace(provider, services=(service, *provider.services[1:]))
    return dataclasses.replace(tl, providers=(provider, *tl.providers[1:]))


@NOT_UNDERSTOOD
def test_what_the_model_did_not_understand_keeps_its_effect(pki, change, element):
    """Written back, a critical extension or criterion the reader did not understand is still refused by readers.

    Dropping it would make the written list say more than the one read (a service usable, a criteria list matching).
    """
    signed = signed_list_bytes(_with_ca_changed(national_list(pki), change), pki.tlso_key, pki.tlso_cert)
    (info,) = _xpath(signed, "//tsl:TrustServiceProvider[1]//tsl:TSPService[1]/tsl:ServiceInformation")
    (stand_in,) = info.xpath(".//*[namespace-uri() = 'urn:trustsvc:unrecognised']")
    assert etree.QName(stand_in).localname == element
    assert stand_in.xpath("ancestor::tsl:Extension/@Critical", namespaces=NS) == ["true"]

    registry, errors = eutl_parse.trust_list_to_registry(signed.decode(), tlso_certs=[_asn1(pki.tlso_cert)])
    assert len(errors) == 1  # pyHanko refuses the CA's current state, and so skips its history too
    assert list(registry.applicable_service_definitions(AuthorityWithCert(_asn1(pki.ca_cert)), None)) == []


def test_what_the_schema_cannot_express_is_refused(pki):
    tl = national_list(pki)
    empty_tsp = TrustServiceProvider(name="Empty", trade_names=(), services=())
    with pytest.raises(ValueError, match="no service"):
        render_trusted_list(dataclasses.replace(tl, providers=(empty_tsp,)))
    state = dataclasses.replace(
        tl.providers[1].services[0].current,
        qualifications=(QualificationElement(qualifiers=frozenset(), criteria=Criteria()),),
    )
    provider = TrustServiceProvider(name="TSP", trade_names=(), services=(TrustService(current=state),))
    with pytest.raises(ValueError, match="at least one qualifier"):
        render_trusted_list(dataclasses.replace(tl, providers=(provider,)))


# --- signing --------------------------------------------------------------------------------------------------------


def _verify_with_signxml(xml: bytes, cert_der: bytes):
    config = XAdESSignatureConfiguration(expect_references=2, location="./", verification_time=SIGNED_AT)
    return XAdESVerifier().verify(xml, x509_cert=x509.load_der_x509_certificate(cert_der), expect_config=config)


@pytest.mark.parametrize(
    ("which", "algorithm"),
    [
        ("national", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"),
        ("lotl", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"),
    ],
)
def test_signature_is_the_one_ts_119612_asks_for(pki, national_signed, lotl_signed, which, algorithm):
    signed, cert = (national_signed, pki.tlso_cert) if which == "national" else (lotl_signed, pki.lotlso_cert)
    root = etree.fromstring(signed)
    assert len(root.findall(".//ds:Signature", NS)) == 1
    signature = root[-1]
    assert signature.tag == f"{{{DS_NS}}}Signature"
    assert signature.find("ds:SignedInfo/ds:SignatureMethod", NS).get("Algorithm") == algorithm
    exc_c14n = "http://www.w3.org/2001/10/xml-exc-c14n#"
    assert signature.find("ds:SignedInfo/ds:CanonicalizationMethod", NS).get("Algorithm") == exc_c14n
    data, props = signature.findall("ds:SignedInfo/ds:Reference", NS)
    assert data.get("URI") == ""
    assert [t.get("Algorithm") for t in data.findall("ds:Transforms/ds:Transform", NS)] == [
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
        exc_c14n,
    ]
    assert props.get("Type") == "http://uri.etsi.org/01903#SignedProperties"
    # the Transform stock signxml leaves out (it digests with exclusive C14N all the same)
    assert [t.get("Algorithm") for t in props.findall("ds:Transforms/ds:Transform", NS)] == [exc_c14n]
    sha256 = "http://www.w3.org/2001/04/xmlenc#sha256"
    assert {r.find("ds:DigestMethod", NS).get("Algorithm") for r in (data, props)} == {sha256}
    (signed_props,) = signature.xpath(".//xades:SignedProperties", namespaces=NS)
    assert props.get("URI") == "#" + signed_props.get("Id")
    assert signed_props.findtext(".//xades:SigningTime", namespaces=NS) == "2026-03-01T09:30:00Z"
    (cert_id,) = signed_props.xpath(".//xades:SigningCertificateV2/xades:Cert", namespaces=NS)
    digest = cert_id.findtext("xades:CertDigest/ds:DigestValue", namespaces=NS)
    assert base64.b64decode(digest) == hashlib.sha256(cert).digest()
    # IssuerSerialV2 names the certificate for readers that do not compare digests
    decoded = cms.IssuerSerial.load(base64.b64decode(cert_id.findtext("xades:IssuerSerialV2", namespaces=NS)))
    assert decoded["serial"].native == _asn1(cert).serial_number
    assert (decoded["issuer"][0].name, decoded["issuer"][0].chosen) == ("directory_name", _asn1(cert).issuer)
    key_info_certs = signature.xpath("ds:KeyInfo/ds:X509Data/ds:X509Certificate/text()", namespaces=NS)
    assert [base64.b64decode(c) for c in key_info_certs] == [cert]
    assert not signature.xpath("ds:KeyInfo/ds:KeyValue", namespaces=NS)


@pytest.mark.parametrize("which", ["national", "lotl"])
def test_signxml_verifies_with_the_signer_pinned(pki, national_signed, lotl_signed, which):
    signed, cert = (national_signed, pki.tlso_cert) if which == "national" else (lotl_signed, pki.lotlso_cert)
    data, props = _verify_with_signxml(signed, cert)
    assert etree.QName(data.signed_xml).localname == "TrustServiceStatusList"
    assert props.signed_properties.findtext("xades:SigningTime", namespaces=NS) == "2026-03-01T09:30:00Z"


def test_pyhanko_reads_the_national_list(pki, national_signed):
    registry, errors = eutl_parse.trust_list_to_registry(national_signed.decode(), tlso_certs=[_asn1(pki.tlso_cert)])
    assert errors == []
    ca, tsa = AuthorityWithCert(_asn1(pki.ca_cert)), AuthorityWithCert(_asn1(pki.tsa_cert))
    # the SKI-only CA has no certificate, so pyHanko cannot register it (its documented limitation)
    assert set(registry.known_certificate_authorities) == {ca}
    assert set(registry.known_timestamp_authorities) == {tsa}

    # granted states only: current since 2021-03-01, and the 2016 granted state until the 2019 withdrawal
    current, earlier = registry.applicable_service_definitions(ca, None)
    assert (current.base_info.valid_from, current.base_info.valid_until) == (utc(2021, 3, 1), None)
    assert (earlier.base_info.valid_from, earlier.base_info.valid_until) == (utc(2016, 7, 1), utc(2019, 5, 1))
    assert current.base_info.service_type == tsp.CA_QC_URI
    assert current.base_info.additional_info_certificate_type == {tsp.QcCertType.QC_ESIGN, tsp.QcCertType.QC_ESEAL}
    assert earlier.base_info.additional_info_certificate_type == {tsp.QcCertType.QC_ESIGN}
    assert current.expired_certs_revocation_info == utc(2016, 7, 1)
    assert list(registry.applicable_service_definitions(ca, utc(2020, 1, 1))) == []  # withdrawn then

    def shape(criteria_list: tsp.CriteriaList):
        """Criteria as comparable values; pyHanko keeps the ``urn:oid:`` of OIDAsURN (stripped here)."""
        out = set()
        for c in criteria_list.criteria:
            if isinstance(c, tsp.PolicySetCriterion):
                out.add(("policies", frozenset(o.removeprefix("urn:oid:") for o in c.required_policy_oids)))
            elif isinstance(c, tsp.CertSubjectDNCriterion):
                out.add(("dn", frozenset(o.removeprefix("urn:oid:") for o in c.required_rdn_part_oids)))
            elif isinstance(c, tsp.KeyUsageCriterion):
                s = c.settings
                eku = frozenset(o.removeprefix("urn:oid:") for o in s.extd_key_usage or ())
                out.add(("ku", frozenset(s.key_usage or ()), frozenset(s.key_usage_forbidden or ()), eku))
            elif isinstance(c, tsp.CriteriaList):
                out.add(("nested", c.combine_as.value, frozenset(shape(c))))
        return out

    quals = {
        frozenset(q.qualifiers): (q.criteria_list.combine_as.value, shape(q.criteria_list))
        for q in current.qualifications
    }
    assert quals == {
        frozenset({tsp.Qualifier.WITH_QSCD, tsp.Qualifier.FOR_ESIG}): (
            "all",
            {
                ("ku", frozenset({"non_repudiation"}), frozenset({"key_cert_sign"}), frozenset()),
                ("policies", frozenset({QCP_N_QSCD})),
            },
        ),
        frozenset({tsp.Qualifier.WITH_QSCD, tsp.Qualifier.FOR_ESEAL}): (
            "atLeastOne",
            {
                ("nested", "all", frozenset({("dn", frozenset({ORGANIZATION_IDENTIFIER}))})),
                ("nested", "all", frozenset({("ku", frozenset(), frozenset(), frozenset({DOCUMENT_SIGNING}))})),
            },
        ),
    }

    (qtst,) = registry.applicable_service_definitions(tsa, None)
    assert isinstance(qtst, tsp.QTSTServiceInformation)
    assert (qtst.base_info.service_type, qtst.base_info.valid_from) == (tsp.QTST_URI, utc(2017, 6, 1))


def test_pyhanko_reads_the_lotl(pki, lotl_signed):
    result = eutl_parse.validate_and_parse_lotl(
        lotl_signed.decode(), lotl_tlso_certs=[_asn1(pki.lotlso_cert)], validation_time=SIGNED_AT
    )
    assert result.errors == []
    assert result.claimed_date_issued == utc(2026, 2, 25)
    assert result.pivot_urls == []  # no SchemeInformationURI ends in .xml
    refs = [(r.location_uri, r.territory, [c.dump() for c in r.tlso_certs], r.scheme_rules) for r in result.references]
    eu_common = "http://uri.etsi.org/TrstSvc/TrustedList/schemerules/EUcommon"
    assert refs == [
        ("https://tl.example.org/be/tl-be.xml", "BE", [pki.tlso_cert], frozenset({eu_common})),
        ("https://tl.example.org/fr/tl-fr.xml", "FR", [pki.other_tlso_cert, pki.tlso_cert], frozenset({eu_common})),
    ]


def test_pyhanko_refuses_a_list_signed_by_someone_else(pki, national_signed):
    with pytest.raises(SignatureValidationError, match="None of the candidate TLSO certs"):
        eutl_parse.trust_list_to_registry(national_signed.decode(), tlso_certs=[_asn1(pki.lotlso_cert)])


def test_a_changed_service_name_breaks_the_signature(pki, national_signed):
    tampered = national_signed.replace(b">BE Qualified TSA<", b">BE Qualified TSB<")
    assert tampered != national_signed
    with pytest.raises(InvalidDigest):
        _verify_with_signxml(tampered, pki.tlso_cert)
    with pytest.raises(SignatureValidationError):
        eutl_parse.trust_list_to_registry(tampered.decode(), tlso_certs=[_asn1(pki.tlso_cert)])


def test_a_root_with_an_id_is_referenced_by_it(pki):
    """TS 119 612 § 5.7 allows ``URI="#<root Id>"`` too; signxml picks it when the root has an Id."""
    unsigned = render_trusted_list(lotl(pki)).replace(b"TSLTag=", b'Id="TL-EU" TSLTag=', 1)
    signed = sign_trusted_list(unsigned, pki.lotlso_key, pki.lotlso_cert, signing_time=SIGNED_AT)
    assert _xpath(signed, "/*/ds:Signature/ds:SignedInfo/ds:Reference[1]/@URI") == ["#TL-EU"]
    data, _ = _verify_with_signxml(signed, pki.lotlso_cert)
    assert data.signed_xml.get("Id") == "TL-EU"


def test_rsa_signed_bytes_are_reproducible(pki):
    """Same model, key and signing time: same bytes (PKCS#1 v1.5 is deterministic and the Ids are derived)."""
    tl = lotl(pki)
    assert signed_list_bytes(tl, pki.tlso_key, pki.tlso_cert, SIGNED_AT) == signed_list_bytes(
        tl, pki.tlso_key, pki.tlso_cert, SIGNED_AT
    )


def test_signing_time_defaults_to_now(pki):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    signed = sign_trusted_list(render_trusted_list(lotl(pki)), pki.lotlso_key, pki.lotlso_cert)
    (text,) = _xpath(signed, "//xades:SigningTime/text()")
    assert before <= datetime.fromisoformat(text.replace("Z", "+00:00")) <= datetime.now(timezone.utc)


def test_sign_refuses_what_it_cannot_sign_correctly(pki, national_signed):
    unsigned = render_trusted_list(lotl(pki))
    with pytest.raises(ValueError, match="signed already"):
        sign_trusted_list(national_signed, pki.tlso_key, pki.tlso_cert)
    with pytest.raises(ValueError, match="does not hold the public key"):
        sign_trusted_list(unsigned, pki.tlso_key, pki.lotlso_cert)
    with pytest.raises(ValueError, match="not a TS 119 612"):
        sign_trusted_list(b"<Tender xmlns='urn:example'/>", pki.tlso_key, pki.tlso_cert)
    with pytest.raises(ValueError, match="not-well-formed"):
        sign_trusted_list(b"<TrustServiceStatusList", pki.tlso_key, pki.tlso_cert)


@pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="xmlsec1 (Debian package xmlsec1) is not installed")
def test_xmlsec1_verifies_too(pki, national_signed, tmp_path: Path):
    """An implementation that shares no code with signxml: catches a Transform signxml's verifier would not need."""
    cert_pem = tmp_path / "tlso.pem"
    cert_pem.write_bytes(x509.load_der_x509_certificate(pki.tlso_cert).public_bytes(Encoding.PEM))
    id_attr = "--id-attr:Id", f"{XADES_NS}:SignedProperties"

    def xmlsec1(document: bytes) -> subprocess.CompletedProcess:
        path = tmp_path / "tl.xml"
        path.write_bytes(document)
        cmd = ["xmlsec1", "--verify", "--pubkey-cert-pem", str(cert_pem), *id_attr, str(path)]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60)

    ok = xmlsec1(national_signed)
    assert ok.returncode == 0, ok.stderr
    assert "SignedInfo References (ok/all): 2/2" in ok.stdout + ok.stderr
    assert xmlsec1(national_signed.replace(b">BE Qualified TSA<", b">BE Qualified TSB<")).returncode != 0


# --- through our own reader, once it exists -------------------------------------------------------------------------


def _own_reader():
    """tsl_parse and tsl_signature are written concurrently with this module; skip until both are there."""
    try:
        tsl_parse = importlib.import_module("trustsvc.trust.tsl_parse")
        tsl_signature = importlib.import_module("trustsvc.trust.tsl_signature")
        return tsl_parse.parse_trusted_list, tsl_parse.parse_trusted_list_element, tsl_signature.verify_list_signature
    except (ImportError, AttributeError) as e:
        pytest.skip(f"trustsvc.trust.tsl_parse / tsl_signature not available yet ({e})")


def _comparable(state: ServiceState) -> ServiceState:
    """The reader keeps the URIs it read; the writer derived them from the tokens."""
    return dataclasses.replace(state, status_uri="", type_uri="")


@pytest.mark.parametrize("which", ["national", "lotl"])
def test_round_trip_through_our_reader(pki, national_signed, lotl_signed, which):
    parse_trusted_list, parse_trusted_list_element, verify_list_signature = _own_reader()
    if which == "national":
        tl, signed, cert = national_list(pki), national_signed, pki.tlso_cert
    else:
        tl, signed, cert = lotl(pki), lotl_signed, pki.lotlso_cert
    read = parse_trusted_list(render_trusted_list(tl))
    assert (read.version, read.sequence, read.tsl_type, read.territory, read.operator_name) == (
        tl.version, tl.sequence, tl.tsl_type, tl.territory, tl.operator_name,
    )  # fmt: skip
    assert (read.issued, read.next_update) == (tl.issued, tl.next_update)
    assert read.pointers == tl.pointers
    assert (read.scheme_information_uris, read.distribution_points) == (
        tl.scheme_information_uris,
        tl.distribution_points,
    )
    assert [(p.name, p.trade_names) for p in read.providers] == [(p.name, p.trade_names) for p in tl.providers]
    read_services = [(_comparable(s.current), tuple(map(_comparable, s.history))) for _, s in read.services()]
    assert read_services == [(s.current, s.history) for _, s in tl.services()]

    verification, signed_root = verify_list_signature(signed, [cert])
    assert verification.verified, verification
    assert (verification.signer_certificate, verification.signing_time) == (cert, SIGNED_AT)
    assert parse_trusted_list_element(signed_root) == read  # the signed element says what the unsigned bytes said

    tampered, _ = verify_list_signature(signed.replace(b"https://tl.example.org/", b"https://tl.example.com/"), [cert])
    assert not tampered.verified
    assert (tampered.code, tampered.signer_certificate) == ("broken-signature", cert)


@NOT_UNDERSTOOD
def test_round_trip_of_what_was_not_understood(pki, change, element):
    parse_trusted_list, _, _ = _own_reader()
    tl = _with_ca_changed(national_list(pki), change)
    read = parse_trusted_list(render_trusted_list(tl))
    assert _comparable(read.providers[0].services[0].current) == tl.providers[0].services[0].current
