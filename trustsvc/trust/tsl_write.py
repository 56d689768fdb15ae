"""Write ETSI TS 119 612 trusted lists (TSLVersionIdentifier 5/6 vocabulary) from the model, and sign them.

Why a writer in a validator: the trust code needs lists it controls (national lists with history, LOTLs pointing
at them, signers it holds the keys of) to test parsing, signature checks and qualification end to end, without
depending on what real lists happen to contain today. The output is shaped like a real EU list so that other readers
(pyHanko's ``eutl_parse``, EU DSS) accept it too.

Only the current URI family is written (``http://uri.etsi.org/TrstSvc/TrustedList/...``, service types under
``http://uri.etsi.org/TrstSvc/Svctype/``); a model value that already is a URI is written as it is.
The signature is the enveloped XAdES-BES (baseline B) that TS 119 612 § 5.7 asks for.
"""

from __future__ import annotations

import hashlib
from base64 import b64encode
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from lxml import etree
from signxml import methods
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.xades import XAdESDataObjectFormat, XAdESSigner

from .tsl_model import (
    Criteria,
    DigitalIdentity,
    QualificationElement,
    ServiceState,
    TrustedList,
    TrustService,
    TrustServiceProvider,
    TslPointer,
)
from .xml_safety import XmlInputError, parse_xml

__all__ = [
    "TSL_NS",
    "SIE_NS",
    "TSLX_NS",
    "XADES_NS",
    "DS_NS",
    "TSL_MIME_TYPE",
    "TSL_TAG",
    "UNRECOGNISED_NS",
    "PostalAddress",
    "Address",
    "ListDetails",
    "render_trusted_list",
    "sign_trusted_list",
    "signed_list_bytes",
]

TSL_NS = "http://uri.etsi.org/02231/v2#"
#: Service information extensions (Qualifications), TS 119 612 Annex C.
SIE_NS = "http://uri.etsi.org/TrstSvc/SvcInfoExt/eSigDir-1999-93-EC-TrustedList/#"
#: Additional types (MimeType, otherCriteriaList content), TS 119 612 Annex C.
TSLX_NS = "http://uri.etsi.org/02231/v2/additionaltypes#"
XADES_NS = "http://uri.etsi.org/01903/v1.3.2#"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XML_NS = "http://www.w3.org/XML/1998/namespace"
#: Holds the elements the writer emits for what the model only records as "not understood" (see `_unrecognised`).
UNRECOGNISED_NS = "urn:trustsvc:unrecognised"

TSL_MIME_TYPE = "application/vnd.etsi.tsl+xml"
TSL_TAG = "http://uri.etsi.org/19612/TSLTag"
_TRUSTED_LIST = "http://uri.etsi.org/TrstSvc/TrustedList"
_TSL_TYPE = f"{_TRUSTED_LIST}/TSLType/"
_SVC_STATUS = f"{_TRUSTED_LIST}/Svcstatus/"
_SVC_INFO_EXT = f"{_TRUSTED_LIST}/SvcInfoExt/"
_SCHEME_RULES = f"{_TRUSTED_LIST}/schemerules/"
_SVC_TYPE = "http://uri.etsi.org/TrstSvc/Svctype/"
_STATUS_DETN = f"{_TRUSTED_LIST}/StatusDetn/"
_LANG = "en"

_NSMAP = {None: TSL_NS, "ecc": SIE_NS, "tslx": TSLX_NS, "xades": XADES_NS}


@dataclass(frozen=True)
class PostalAddress:
    """A PostalAddress (TS 119 612 § 5.3.5.1).

    :param country: CountryName; None writes the list's territory.
    """

    street: str = "1 Rue de la Confiance"
    locality: str = "Brussels"
    postal_code: str | None = "1000"
    country: str | None = None


@dataclass(frozen=True)
class Address:
    """SchemeOperatorAddress / TSPAddress: the XSD requires both a postal and an electronic address."""

    postal: PostalAddress = PostalAddress()
    electronic: tuple[str, ...] = ("mailto:trusted-list@example.org", "https://trusted-list.example.org/")


@dataclass(frozen=True)
class ListDetails:
    """What a schema-valid list states but the model does not keep (it is of no use to validation).

    :param scheme_name: SchemeName; None writes the EU wording for the list's type and territory.
    :param scheme_information_uris: used only when the model has no SchemeInformationURI (the XSD needs one).
    :param scheme_type_community_rules: None derives them from TSLType (EUcommon + territory, or EUlistofthelists).
    :param status_determination_approach: None writes ``EUappropriate``, or ``EUlistofthelists`` for a LOTL.
    """

    scheme_operator_address: Address = Address()
    tsp_address: Address = Address(
        electronic=("mailto:info@tsp.example.org", "https://tsp.example.org/"),
    )
    tsp_information_uris: tuple[str, ...] = ("https://tsp.example.org/repository",)
    scheme_name: str | None = None
    scheme_information_uris: tuple[str, ...] = ("https://trusted-list.example.org/scheme-information",)
    scheme_type_community_rules: tuple[str, ...] | None = None
    status_determination_approach: str | None = None
    legal_notice: str = (
        "The applicable legal framework for the present trusted list is Regulation (EU) No 910/2014 of the "
        "European Parliament and of the Council of 23 July 2014 on electronic identification and trust services "
        "for electronic transactions in the internal market and repealing Directive 1999/93/EC."
    )
    historical_information_period: int = 65535


# --- rendering ----------------------------------------------------------------------------------------------------


def render_trusted_list(tl: TrustedList, details: ListDetails | None = None) -> bytes:
    """The unsigned TrustServiceStatusList for `tl`: same model, same bytes (sets are written sorted).

    :param details: the scheme information the model does not carry; defaults are plausible EU values.
    :raises ValueError: the model holds something the schema cannot express (a TSP without services, a
        QualificationElement without qualifiers).
    """
    details = details or ListDetails()
    root = etree.Element(_t("TrustServiceStatusList"), nsmap=_NSMAP)
    root.set("TSLTag", TSL_TAG)
    root.append(_scheme_information(tl, details))
    if tl.providers:
        tsp_list = _sub(root, "TrustServiceProviderList")
        for provider in tl.providers:
            tsp_list.append(_provider(provider, details, tl.territory))
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _t(local: str, ns: str = TSL_NS) -> str:
    return f"{{{ns}}}{local}"


def _sub(parent: etree._Element, local: str, text: str | None = None, ns: str = TSL_NS, **attrs: str):
    element = etree.SubElement(parent, _t(local, ns), attrs)
    if text is not None:
        element.text = text
    return element


def _lang(element: etree._Element) -> etree._Element:
    element.set(f"{{{XML_NS}}}lang", _LANG)
    return element


def _names(parent: etree._Element, local: str, names: Iterable[str]) -> etree._Element:
    holder = _sub(parent, local)
    for name in names:
        _lang(_sub(holder, "Name", name))
    return holder


def _uris(parent: etree._Element, local: str, uris: Iterable[str], lang: bool = True) -> etree._Element:
    holder = _sub(parent, local)
    for uri in uris:
        element = _sub(holder, "URI", uri)
        if lang:
            _lang(element)
    return holder


def _uri(base: str, token: str) -> str:
    """The URI for a model token; a token that already is a URI (an unknown value kept as read) stays as it is."""
    return token if "://" in token or token.startswith("urn:") else base + token


def _time(moment: datetime) -> str:
    """xsd:dateTime in UTC as TS 119 612 lists write it; a naive value is taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _oid_urn(oid: str) -> str:
    return oid if oid.startswith("urn:oid:") else f"urn:oid:{oid}"


def _community_rules(tsl_type: str | None, territory: str | None = None) -> list[str]:
    """The EU rules URIs; a list names its own territory's rules too, a LOTL pointer only the common ones."""
    if tsl_type and tsl_type.endswith("listofthelists"):
        return [_SCHEME_RULES + "EUlistofthelists"]
    rules = [_SCHEME_RULES + "EUcommon"] if tsl_type == "EUgeneric" else []
    if territory:
        rules.append(_SCHEME_RULES + territory)
    return rules


def _default_scheme_name(tl: TrustedList) -> str:
    if tl.is_lotl:
        return f"{tl.territory}:List of the trusted lists of the Member States and of the EEA countries"
    return (
        f"{tl.territory}:Trusted list including information related to the qualified trust service providers which "
        "are supervised by the competent supervisory body, together with information related to the qualified "
        "trust services provided by them, in accordance with the relevant provisions laid down in Regulation (EU) "
        "No 910/2014"
    )


def _address(parent: etree._Element, local: str, address: Address, territory: str) -> None:
    holder = _sub(parent, local)
    postal = address.postal
    postal_el = _lang(_sub(_sub(holder, "PostalAddresses"), "PostalAddress"))
    _sub(postal_el, "StreetAddress", postal.street)
    _sub(postal_el, "Locality", postal.locality)
    if postal.postal_code:
        _sub(postal_el, "PostalCode", postal.postal_code)
    _sub(postal_el, "CountryName", postal.country or territory)
    _uris(holder, "ElectronicAddress", address.electronic)


def _scheme_information(tl: TrustedList, details: ListDetails) -> etree._Element:
    info = etree.Element(_t("SchemeInformation"))
    _sub(info, "TSLVersionIdentifier", str(tl.version))
    _sub(info, "TSLSequenceNumber", str(tl.sequence))
    _sub(info, "TSLType", _uri(_TSL_TYPE, tl.tsl_type))
    _names(info, "SchemeOperatorName", [tl.operator_name])
    _address(info, "SchemeOperatorAddress", details.scheme_operator_address, tl.territory)
    _names(info, "SchemeName", [details.scheme_name or _default_scheme_name(tl)])
    _uris(info, "SchemeInformationURI", tl.scheme_information_uris or details.scheme_information_uris)
    approach = details.status_determination_approach
    if approach is None:
        approach = _STATUS_DETN + ("EUlistofthelists" if tl.is_lotl else "EUappropriate")
    _sub(info, "StatusDeterminationApproach", approach)
    rules = details.scheme_type_community_rules
    if rules is None:
        rules = tuple(_community_rules(tl.tsl_type, tl.territory))
    if rules:
        _uris(info, "SchemeTypeCommunityRules", rules)
    _sub(info, "SchemeTerritory", tl.territory)
    _lang(_sub(_sub(info, "PolicyOrLegalNotice"), "TSLLegalNotice", details.legal_notice))
    _sub(info, "HistoricalInformationPeriod", str(details.historical_information_period))
    if tl.pointers:
        pointers = _sub(info, "PointersToOtherTSL")
        for pointer in tl.pointers:
            pointers.append(_pointer(pointer))
    _sub(info, "ListIssueDateTime", _time(tl.issued))
    next_update = _sub(info, "NextUpdate")  # empty: a closed list (TS 119 612 § 5.3.15)
    if tl.next_update is not None:
        _sub(next_update, "dateTime", _time(tl.next_update))
    if tl.distribution_points:
        _uris(info, "DistributionPoints", tl.distribution_points, lang=False)
    return info


def _pointer(pointer: TslPointer) -> etree._Element:
    """OtherTSLPointer shaped like the EU LOTL's: one ServiceDigitalIdentity per announced signer certificate."""
    element = etree.Element(_t("OtherTSLPointer"))
    if pointer.signer_certificates:
        identities = _sub(element, "ServiceDigitalIdentities")
        for cert in pointer.signer_certificates:
            _identity(identities, "ServiceDigitalIdentity", DigitalIdentity(certificates=(cert,)))
    _sub(element, "TSLLocation", pointer.location)
    additional = _sub(element, "AdditionalInformation")
    if pointer.tsl_type:
        _sub(_sub(additional, "OtherInformation"), "TSLType", _uri(_TSL_TYPE, pointer.tsl_type))
    if pointer.operator_name:
        _names(_sub(additional, "OtherInformation"), "SchemeOperatorName", [pointer.operator_name])
    rules = _community_rules(pointer.tsl_type)
    if rules:
        _uris(_sub(additional, "OtherInformation"), "SchemeTypeCommunityRules", rules)
    if pointer.territory:
        _sub(_sub(additional, "OtherInformation"), "SchemeTerritory", pointer.territory)
    _sub(_sub(additional, "OtherInformation"), "MimeType", pointer.mime_type or TSL_MIME_TYPE, ns=TSLX_NS)
    return element


def _identity(parent: etree._Element, local: str, identity: DigitalIdentity) -> None:
    holder = _sub(parent, local)
    for cert in identity.certificates:
        _sub(_sub(holder, "DigitalId"), "X509Certificate", b64encode(cert).decode("ascii"))
    for name in identity.subject_names:
        _sub(_sub(holder, "DigitalId"), "X509SubjectName", name)
    for ski in identity.skis:
        _sub(_sub(holder, "DigitalId"), "X509SKI", b64encode(ski).decode("ascii"))
    for other in identity.other:
        _sub(_sub(holder, "DigitalId"), "Other", other)


def _provider(provider: TrustServiceProvider, details: ListDetails, territory: str) -> etree._Element:
    if not provider.services:
        raise ValueError(f"TSP {provider.name!r} has no service; the schema requires at least one")
    element = etree.Element(_t("TrustServiceProvider"))
    info = _sub(element, "TSPInformation")
    _names(info, "TSPName", [provider.name])
    if provider.trade_names:
        _names(info, "TSPTradeName", provider.trade_names)
    _address(info, "TSPAddress", details.tsp_address, territory)
    _uris(info, "TSPInformationURI", details.tsp_information_uris)
    services = _sub(element, "TSPServices")
    for service in provider.services:
        services.append(_service(service))
    return element


def _service(service: TrustService) -> etree._Element:
    element = etree.Element(_t("TSPService"))
    _state(_sub(element, "ServiceInformation"), service.current)
    if service.history:
        history = _sub(element, "ServiceHistory")
        for state in service.history:  # the model keeps them newest first, as lists do
            _state(_sub(history, "ServiceHistoryInstance"), state)
    return element


def _state(holder: etree._Element, state: ServiceState) -> None:
    """ServiceInformation or ServiceHistoryInstance: both share this sequence (extensions last).

    URIs come from the tokens, never from `status_uri`/`type_uri`: a state copied from a parsed list with only its
    `status` replaced must not keep the old status URI.
    """
    _sub(holder, "ServiceTypeIdentifier", _uri(_SVC_TYPE, state.type))
    _names(holder, "ServiceName", [state.name])
    _identity(holder, "ServiceDigitalIdentity", state.identity)
    _sub(holder, "ServiceStatus", _uri(_SVC_STATUS, state.status.value))
    _sub(holder, "StatusStartingTime", _time(state.start))
    extensions = etree.Element(_t("ServiceInformationExtensions"))
    if state.qualifications:
        qualifications = _sub(_extension(extensions, critical=True), "Qualifications", ns=SIE_NS)
        for element in state.qualifications:
            qualifications.append(_qualification(element))
    for info in sorted(state.additional_info):
        asi = _sub(_extension(extensions, critical=False), "AdditionalServiceInformation")
        _lang(_sub(asi, "URI", _uri(_SVC_INFO_EXT, info)))
    if state.expired_certs_revocation_info is not None:
        _sub(
            _extension(extensions, critical=False),
            "ExpiredCertsRevocationInfo",
            _time(state.expired_certs_revocation_info),
        )
    if state.critical_extension_not_understood:
        _unrecognised(_extension(extensions, critical=True), "CriticalExtension")
    if len(extensions):
        holder.append(extensions)


def _extension(extensions: etree._Element, *, critical: bool) -> etree._Element:
    return _sub(extensions, "Extension", Critical="true" if critical else "false")


def _unrecognised(parent: etree._Element, name: str) -> None:
    """Stand-in for content the model only records as not understood, so a reader refuses it again.

    Dropping it instead would make the written list say more than the read one did (a service usable, a
    criteria list matching).
    """
    etree.SubElement(parent, name if name.startswith("{") else _t(name, UNRECOGNISED_NS))


def _qualification(qualification: QualificationElement) -> etree._Element:
    element = etree.Element(_t("QualificationElement", SIE_NS))
    tokens = sorted(q.value for q in qualification.qualifiers) + list(qualification.unknown_qualifiers)
    if not tokens:
        raise ValueError("a QualificationElement needs at least one qualifier")
    qualifiers = _sub(element, "Qualifiers", ns=SIE_NS)
    for token in tokens:
        _sub(qualifiers, "Qualifier", ns=SIE_NS, uri=_uri(_SVC_INFO_EXT, token))
    element.append(_criteria(qualification.criteria))
    return element


def _criteria(criteria: Criteria) -> etree._Element:
    """CriteriaList in the XSD's order: KeyUsage*, PolicySet*, CriteriaList*, otherCriteriaList?."""
    element = etree.Element(_t("CriteriaList", SIE_NS))
    element.set("assert", criteria.assert_)
    for key_usage in criteria.key_usage:
        ku = _sub(element, "KeyUsage", ns=SIE_NS)
        for bit, value in key_usage:
            _sub(ku, "KeyUsageBit", "true" if value else "false", ns=SIE_NS, name=bit)
    for policy_set in criteria.policy_sets:
        policies = _sub(element, "PolicySet", ns=SIE_NS)
        for oid in sorted(policy_set):
            _oid(_sub(policies, "PolicyIdentifier", ns=SIE_NS), oid)
    for nested in criteria.nested:
        element.append(_criteria(nested))
    if criteria.subject_dn_attributes or criteria.extended_key_usages or criteria.unknown:
        other = _sub(element, "otherCriteriaList", ns=SIE_NS)
        for attributes in criteria.subject_dn_attributes:
            dn = _sub(other, "CertSubjectDNAttribute", ns=TSLX_NS)
            for oid in sorted(attributes):
                _oid(_sub(dn, "AttributeOID", ns=TSLX_NS), oid)
        for purposes in criteria.extended_key_usages:
            eku = _sub(other, "ExtendedKeyUsage", ns=TSLX_NS)
            for oid in sorted(purposes):
                _oid(_sub(eku, "KeyPurposeId", ns=TSLX_NS), oid)
        for name in criteria.unknown:
            _unrecognised(other, name)
    return element


def _oid(parent: etree._Element, oid: str) -> None:
    """xades:ObjectIdentifierType, as EU lists write it: ``<xades:Identifier Qualifier="OIDAsURN">urn:oid:…``."""
    _sub(parent, "Identifier", _oid_urn(oid), ns=XADES_NS, Qualifier="OIDAsURN")


# --- signing -------------------------------------------------------------------------------------------------------


class _TrustedListSigner(XAdESSigner):
    """signxml's XAdESSigner, corrected to produce the TS 119 612 § 5.7 signature other readers accept.

    Stock 5.2.0 output differs in four ways (xades.md § 1.5): the SignedProperties (and KeyInfo) references carry
    no Transform although they are digested with exclusive C14N, so every verifier but a specially configured
    signxml (pyHanko's reader, xmlsec1, EU DSS) falls back to inclusive C14N and fails; it adds a third reference
    (KeyInfo) where TLs carry two; the SigningTime is always "now"; and the Ids are random. IssuerSerialV2 is added
    so that readers can identify the signing certificate without comparing digests.
    """

    def __init__(self, signature_algorithm: SignatureMethod, signing_time: datetime, id_seed: str):
        super().__init__(
            method=methods.enveloped,
            signature_algorithm=signature_algorithm,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
            data_object_format=XAdESDataObjectFormat(Description="ETSI TS 119 612 trusted list", MimeType="text/xml"),
        )
        self._signing_time = signing_time
        self._id_seed = id_seed
        self._id_count = 0

    def _get_token(self, length: int = 4) -> str:
        # Deterministic Ids: with RSA (PKCS#1 v1.5) and a given signing time the signed bytes are reproducible.
        self._id_count += 1
        return f"{self._id_seed}-{self._id_count}"

    def _add_reference_to_signed_info(self, sig_root, node_to_reference, **attrs):
        if etree.QName(node_to_reference).localname == "KeyInfo":
            node_to_reference.attrib.pop("Id", None)  # a TL signature references the list and SignedProperties
            return
        signed_info = self._find(sig_root, "SignedInfo")
        reference = etree.SubElement(signed_info, self._ds_tag("Reference"), nsmap=self.namespaces)
        reference.set("URI", f"#{node_to_reference.get('Id')}")
        for name, value in attrs.items():
            reference.set(name, value)
        transforms = etree.SubElement(reference, self._ds_tag("Transforms"))
        etree.SubElement(transforms, self._ds_tag("Transform"), Algorithm=self.c14n_alg.value)
        etree.SubElement(reference, self._ds_tag("DigestMethod"), Algorithm=self.digest_alg.value)
        digest = self._get_digest(self._c14n(node_to_reference, algorithm=self.c14n_alg), algorithm=self.digest_alg)
        etree.SubElement(reference, self._ds_tag("DigestValue")).text = b64encode(digest).decode("ascii")

    def add_signing_time(self, signed_signature_properties, sig_root, signing_settings) -> None:
        etree.SubElement(signed_signature_properties, _t("SigningTime", XADES_NS)).text = _time(self._signing_time)

    def add_signing_certificate(self, signed_signature_properties, sig_root, signing_settings) -> None:
        super().add_signing_certificate(signed_signature_properties, sig_root, signing_settings)
        cert_ids = signed_signature_properties.findall(f"{_t('SigningCertificateV2', XADES_NS)}/{_t('Cert', XADES_NS)}")
        for cert_id, cert in zip(cert_ids, signing_settings.cert_chain, strict=True):
            etree.SubElement(cert_id, _t("IssuerSerialV2", XADES_NS)).text = _issuer_serial_v2(cert)


def _issuer_serial_v2(cert: x509.Certificate) -> str:
    """IssuerSerialV2 (EN 319 132-1 § 5.2.2): base64 of the DER IssuerSerial of RFC 5035."""
    issuer = asn1_x509.Name.load(cert.issuer.public_bytes())
    value = cms.IssuerSerial(
        {
            "issuer": asn1_x509.GeneralNames([asn1_x509.GeneralName(name="directory_name", value=issuer)]),
            "serial": cert.serial_number,
        }
    )
    return b64encode(value.dump()).decode("ascii")


def _signature_method(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> SignatureMethod:
    if isinstance(key, rsa.RSAPrivateKey):
        return SignatureMethod.RSA_SHA256
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return SignatureMethod.ECDSA_SHA256
    raise TypeError(f"trusted lists are signed with RSA or ECDSA keys, not {type(key).__name__}")


def sign_trusted_list(
    xml: bytes,
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    cert_der: bytes,
    *,
    signing_time: datetime | None = None,
) -> bytes:
    """Sign an unsigned TrustServiceStatusList with an enveloped XAdES-BES signature (TS 119 612 § 5.7).

    One ds:Signature, last child of the root; two references: the whole list (``URI=""``, or ``#Id`` when the
    root has one; enveloped-signature then exclusive C14N) and SignedProperties (exclusive C14N), SHA-256;
    SigningTime and SigningCertificateV2 (with IssuerSerialV2); KeyInfo holds the signer certificate only.

    :param signing_time: the XAdES SigningTime; now (UTC, whole seconds) when None.
    :return: the signed document, to be stored and served exactly as returned: verification is byte-sensitive
        (never pretty-print or re-serialise it).
    :raises ValueError: `xml` is not an unsigned TrustServiceStatusList, or `cert_der` does not match `key`.
    """
    method = _signature_method(key)
    try:
        root = parse_xml(xml)
    except XmlInputError as e:
        raise ValueError(f"cannot sign this XML ({e.code}): {e.message}") from e
    if root.tag != _t("TrustServiceStatusList"):
        raise ValueError(f"root element is {root.tag}, not a TS 119 612 TrustServiceStatusList")
    if root.find(f".//{{{DS_NS}}}Signature") is not None:
        raise ValueError("the list is signed already; TS 119 612 allows one signature")
    cert = x509.load_der_x509_certificate(cert_der)
    public = PublicFormat.SubjectPublicKeyInfo
    if cert.public_key().public_bytes(Encoding.DER, public) != key.public_key().public_bytes(Encoding.DER, public):
        raise ValueError("the certificate does not hold the public key of the signing key")
    if signing_time is None:
        signing_time = datetime.now(timezone.utc).replace(microsecond=0)
    signer = _TrustedListSigner(method, signing_time, _id_seed(xml))
    # No reference_uri: signxml turns "" into "#" (xades.md § 1.5); left out, it writes "" for a root without Id.
    # always_add_key_value=False: XAdESSigner.sign defaults to adding a KeyValue beside the certificate.
    signed = signer.sign(root, key=key, cert=[cert], always_add_key_value=False)
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def _id_seed(xml: bytes) -> str:
    return "tsl-sig-" + hashlib.sha256(xml).hexdigest()[:12]


def signed_list_bytes(
    tl: TrustedList,
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    cert_der: bytes,
    signing_time: datetime | None = None,
    *,
    details: ListDetails | None = None,
) -> bytes:
    """`render_trusted_list` then `sign_trusted_list`: the bytes a scheme operator would publish for `tl`."""
    return sign_trusted_list(render_trusted_list(tl, details), key, cert_der, signing_time=signing_time)
