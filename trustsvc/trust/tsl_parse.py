"""ETSI TS 119 612 XML to the frozen values of :mod:`tsl_model` (TL v5 and v6, and the older v3/v4 layouts).

This is the only module that compares trusted-list URIs. Both URI families (``.../TrstSvc/TrustedList/...`` and the
pre-eIDAS ``.../TrstSvc/eSigDir-1999-93-EC-TrustedList/...``, http or https) reduce to the tokens of the standard
(``CA/QC``, ``granted``, ``QCWithQSCD``); URIs outside the ETSI families are kept whole, never guessed.

Parse only what a signature covers: :func:`parse_trusted_list_element` takes the element
:func:`tsl_signature.verify_list_signature` returns. :func:`parse_trusted_list` reads raw bytes, for tools and
tests that look at a list without trusting it.

Walking is done with ``find``/``iter`` on Clark-notation tags (lxml caches those paths); no XPath is compiled per
element, so a 3 MB national list parses in a few tens of milliseconds.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from datetime import datetime, timezone

from lxml import etree

from ..errors import TrustSvcError
from .tsl_model import (
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
from .xml_safety import DEFAULT_MAX_BYTES, XmlInputError, parse_xml

__all__ = ["TslParseError", "parse_trusted_list", "parse_trusted_list_element", "uri_token", "TSL_NS"]

TSL_NS = "http://uri.etsi.org/02231/v2#"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# ETSI URIs: http(s)://uri.etsi.org/TrstSvc/[TrustedList/ | eSigDir-1999-93-EC-TrustedList/]<category>/<token>
_ETSI_URI = re.compile(
    r"^https?://uri\.etsi\.org/TrstSvc/(?:(?:TrustedList|eSigDir-1999-93-EC-TrustedList)/)?"
    r"(?P<category>[A-Za-z]+)/(?P<token>\S+?)/?$"
)
_QUALIFIERS = {q.value: q for q in Qualifier}
_STATUSES = {s.value: s for s in ServiceStatus}
_TRUE = frozenset({"true", "1"})


def _tag(local: str) -> str:
    return f"{{{TSL_NS}}}{local}"


_SCHEME_INFORMATION = _tag("SchemeInformation")
_TSP_LIST = _tag("TrustServiceProviderList")
_TSP = _tag("TrustServiceProvider")
_TSP_INFORMATION = _tag("TSPInformation")
_TSP_SERVICES = _tag("TSPServices")
_TSP_SERVICE = _tag("TSPService")
_SERVICE_INFORMATION = _tag("ServiceInformation")
_SERVICE_HISTORY = _tag("ServiceHistory")
_HISTORY_INSTANCE = _tag("ServiceHistoryInstance")
_EXTENSIONS = _tag("ServiceInformationExtensions")
_EXTENSION = _tag("Extension")
_POINTERS = f"{_tag('PointersToOtherTSL')}/{_tag('OtherTSLPointer')}"
_URI = _tag("URI")
_NAME = _tag("Name")
_DIGITAL_ID = _tag("DigitalId")


class TslParseError(TrustSvcError):
    """A trusted list that is not one, or is broken in a way that makes its content unusable.

    Codes: the :class:`~trustsvc.trust.xml_safety.XmlInputError` codes (``empty``, ``not-well-formed``,
    ``dtd-forbidden``, ...), ``not-a-trusted-list``, ``missing-element`` and ``bad-value``.
    """

    code = "tsl-parse"

    def __init__(self, code: str, message: str):
        super().__init__(message, code=code)


def parse_trusted_list(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> TrustedList:
    """Parse the bytes of a trusted list **without checking its signature** (see the module docstring).

    :raises TslParseError: the bytes are not XML, or not a usable TrustServiceStatusList.
    """
    try:
        root = parse_xml(data, max_bytes=max_bytes)
    except XmlInputError as e:
        raise TslParseError(e.code, e.message) from e
    return parse_trusted_list_element(root)


def parse_trusted_list_element(root: etree._Element) -> TrustedList:
    """Turn a TrustServiceStatusList element (ideally the signed one) into a :class:`TrustedList`."""
    if root.tag != _tag("TrustServiceStatusList"):
        message = f"root element is {root.tag}, not a TS 119 612 TrustServiceStatusList"
        raise TslParseError("not-a-trusted-list", message)
    info = _required(root, _SCHEME_INFORMATION, "TrustServiceStatusList")
    where = "SchemeInformation"
    tsl_type_uri = _required_text(info, _tag("TSLType"), where)
    tsl_type = uri_token(tsl_type_uri, "tsltype") or tsl_type_uri
    return TrustedList(
        version=_integer(info, "TSLVersionIdentifier", where),
        sequence=_integer(info, "TSLSequenceNumber", where),
        tsl_type=tsl_type,
        territory=(info.findtext(_tag("SchemeTerritory")) or "").strip(),
        operator_name=_intl_name(_required(info, _tag("SchemeOperatorName"), where)),
        issued=_datetime(_required(info, _tag("ListIssueDateTime"), where), where),
        next_update=_next_update(info),
        pointers=tuple(_pointer(p, i) for i, p in enumerate(info.iterfind(_POINTERS), 1)),
        providers=_providers(root),
        scheme_information_uris=_uris(info.find(_tag("SchemeInformationURI"))),
        distribution_points=_uris(info.find(_tag("DistributionPoints"))),
        namespace=tsl_type_uri[: len(tsl_type_uri) - len(tsl_type)] if tsl_type != tsl_type_uri else "",
    )


def uri_token(uri: str, category: str) -> str | None:
    """The token of an ETSI trusted-list URI in `category` (``svctype``, ``svcstatus``, ``svcinfoext``,
    ``tsltype``), whichever URI family and scheme it uses; None when the URI is not an ETSI one of that category.

    ``http://uri.etsi.org/TrstSvc/Svctype/CA/QC`` -> ``CA/QC``;
    ``https://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/QCWithQSCD`` -> ``QCWithQSCD``.
    """
    match = _ETSI_URI.match(uri.strip())
    if match is None or match["category"].lower() != category:
        return None
    return match["token"]


# -- scheme information ------------------------------------------------------------------------------------------------


def _next_update(info: etree._Element) -> datetime | None:
    """NextUpdate/dateTime; absent for a closed list (the UK list since 2021 has ``<NextUpdate/>``)."""
    value = info.find(f"{_tag('NextUpdate')}/{_tag('dateTime')}")
    if value is None or not (value.text or "").strip():
        return None
    return _datetime(value, "SchemeInformation/NextUpdate")


def _pointer(el: etree._Element, index: int) -> TslPointer:
    where = f"SchemeInformation/PointersToOtherTSL/OtherTSLPointer[{index}]"
    values: dict[str, str] = {}
    operator_name = None
    for other in el.iterfind(f"{_tag('AdditionalInformation')}/{_tag('OtherInformation')}"):
        for local, child in _children(other):
            if local == "SchemeOperatorName":
                operator_name = _intl_name(child)
            elif local in ("TSLType", "SchemeTerritory", "MimeType") and child.text:
                values[local] = child.text.strip()
    tsl_type = values.get("TSLType")
    certificates: list[bytes] = []
    for sdi in el.iterfind(f"{_tag('ServiceDigitalIdentities')}/{_tag('ServiceDigitalIdentity')}"):
        certificates.extend(_identity(sdi).certificates)
    return TslPointer(
        location=_required_text(el, _tag("TSLLocation"), where),
        territory=values.get("SchemeTerritory"),
        tsl_type=(uri_token(tsl_type, "tsltype") or tsl_type) if tsl_type else None,
        mime_type=values.get("MimeType"),
        signer_certificates=tuple(certificates),
        operator_name=operator_name,
    )


# -- providers and services --------------------------------------------------------------------------------------------


def _providers(root: etree._Element) -> tuple[TrustServiceProvider, ...]:
    tsp_list = root.find(_TSP_LIST)
    if tsp_list is None:
        return ()
    return tuple(_provider(tsp, i) for i, tsp in enumerate(tsp_list.iterfind(_TSP), 1))


def _provider(el: etree._Element, index: int) -> TrustServiceProvider:
    where = f"TrustServiceProvider[{index}]"
    info = _required(el, _TSP_INFORMATION, where)
    trade_names: list[str] = []
    trade = info.find(_tag("TSPTradeName"))
    if trade is not None:
        for name in trade.iterfind(_NAME):
            text = (name.text or "").strip()
            if text and text not in trade_names:
                trade_names.append(text)
    services = el.find(_TSP_SERVICES)
    elements = () if services is None else services.iterfind(_TSP_SERVICE)
    return TrustServiceProvider(
        name=_intl_name(_required(info, _tag("TSPName"), f"{where}/TSPInformation")),
        trade_names=tuple(trade_names),
        services=tuple(_service(s, f"{where}/TSPServices/TSPService[{i}]") for i, s in enumerate(elements, 1)),
    )


def _service(el: etree._Element, where: str) -> TrustService:
    current = _state(_required(el, _SERVICE_INFORMATION, where), f"{where}/ServiceInformation")
    history = [
        _state(h, f"{where}/ServiceHistory/ServiceHistoryInstance[{i}]")
        for i, h in enumerate(el.iterfind(f"{_SERVICE_HISTORY}/{_HISTORY_INSTANCE}"), 1)
    ]
    history.sort(key=lambda state: state.start, reverse=True)  # the standard wants newest first; not all lists agree
    return TrustService(current=current, history=tuple(history))


def _state(el: etree._Element, where: str) -> ServiceState:
    """ServiceInformation or one ServiceHistoryInstance (same elements, minus supply points and definitions)."""
    type_uri = _required_text(el, _tag("ServiceTypeIdentifier"), where)
    status_uri = _required_text(el, _tag("ServiceStatus"), where)
    status_token = uri_token(status_uri, "svcstatus")
    sdi = el.find(_tag("ServiceDigitalIdentity"))
    extensions = _Extensions(el.find(_EXTENSIONS), where)
    return ServiceState(
        type=uri_token(type_uri, "svctype") or type_uri,
        name=_intl_name(el.find(_tag("ServiceName"))),
        status=_STATUSES.get(status_token or "", ServiceStatus.UNKNOWN),
        start=_datetime(_required(el, _tag("StatusStartingTime"), where), where),
        identity=DigitalIdentity() if sdi is None else _identity(sdi),
        qualifications=tuple(extensions.qualifications),
        additional_info=frozenset(extensions.additional_info),
        expired_certs_revocation_info=extensions.expired_certs_revocation_info,
        critical_extension_not_understood=extensions.critical_not_understood,
        status_uri=status_uri,
        type_uri=type_uri,
    )


def _identity(sdi: etree._Element) -> DigitalIdentity:
    """ServiceDigitalIdentity: certificates (base64 with any whitespace), subject names, SKIs; the rest noted."""
    certificates: list[bytes] = []
    subject_names: list[str] = []
    skis: list[bytes] = []
    other: list[str] = []
    for digital_id in sdi.iterfind(_DIGITAL_ID):
        for local, child in _children(digital_id):
            text = (child.text or "").strip()
            if local == "X509Certificate":
                _append_base64(certificates, other, text, local)
            elif local == "X509SKI":
                _append_base64(skis, other, text, local)
            elif local == "X509SubjectName" and text:
                subject_names.append(" ".join(text.split()))
            elif local == "Other":
                other.append(f"Other: {text}" if text else f"Other: {', '.join(n for n, _ in _children(child))}")
            else:
                other.append(local)
    return DigitalIdentity(tuple(certificates), tuple(subject_names), tuple(skis), tuple(other))


def _append_base64(values: list[bytes], other: list[str], text: str, local: str) -> None:
    """One bad certificate must not sink the whole list: it is noted in `other` and never matches anything."""
    try:
        values.append(base64.b64decode("".join(text.split()), validate=True))
    except (binascii.Error, ValueError):
        other.append(f"{local} (not base64)")


class _Extensions:
    """ServiceInformationExtensions (TS 119 612 § 5.5.9), read once per service state."""

    def __init__(self, el: etree._Element | None, where: str):
        self.qualifications: list[QualificationElement] = []
        self.additional_info: set[str] = set()
        self.expired_certs_revocation_info: datetime | None = None
        self.critical_not_understood = False
        if el is None:
            return
        for extension in el.iterfind(_EXTENSION):
            understood = all(self._read(local, child, where) for local, child in _children(extension, etsi_only=False))
            if not understood and (extension.get("Critical") or "").strip() in _TRUE:
                self.critical_not_understood = True

    def _read(self, local: str, child: etree._Element, where: str) -> bool:
        """Take in one extension element; False when this parser does not understand it."""
        if not _is_etsi(child.tag):
            return False
        if local == "Qualifications":
            self.qualifications.extend(_qualification(q) for q in child if _local(q.tag) == "QualificationElement")
        elif local == "AdditionalServiceInformation":
            uri = (child.findtext(_URI) or "").strip()
            if uri:
                self.additional_info.add(uri_token(uri, "svcinfoext") or uri)
        elif local == "ExpiredCertsRevocationInfo":
            self.expired_certs_revocation_info = _datetime(child, f"{where}/ExpiredCertsRevocationInfo")
        elif local != "TakenOverBy":  # defined by the standard, informational only: understood and ignored
            return False
        return True


def _qualification(el: etree._Element) -> QualificationElement:
    qualifiers: set[Qualifier] = set()
    unknown: list[str] = []
    criteria = Criteria()
    for local, child in _children(el):
        if local == "Qualifiers":
            for _, qualifier in _children(child):
                uri = (qualifier.get("uri") or "").strip()
                token = uri_token(uri, "svcinfoext")
                if token in _QUALIFIERS:
                    qualifiers.add(_QUALIFIERS[token])
                else:
                    unknown.append(uri)
        elif local == "CriteriaList":
            criteria = _criteria(child)
    return QualificationElement(frozenset(qualifiers), criteria, tuple(unknown))


def _criteria(el: etree._Element) -> Criteria:
    """CriteriaList (TS 119 612 § 5.5.9.2.1); anything not understood goes to `unknown` (the list never matches)."""
    key_usage, policy_sets, dn_attributes, ekus, nested, unknown = [], [], [], [], [], []
    for local, child in _children(el, etsi_only=False):
        if not _is_etsi(child.tag):
            unknown.append(local)
        elif local == "KeyUsage":
            key_usage.append(tuple((b.get("name", ""), (b.text or "").strip() in _TRUE) for b in _elements(child)))
        elif local == "PolicySet":
            policy_sets.append(_oids(child))
        elif local == "CriteriaList":
            nested.append(_criteria(child))
        elif local == "otherCriteriaList":
            for other_local, other in _children(child, etsi_only=False):
                if other_local == "CertSubjectDNAttribute" and _is_etsi(other.tag):
                    dn_attributes.append(_oids(other))
                elif other_local == "ExtendedKeyUsage" and _is_etsi(other.tag):
                    ekus.append(_oids(other))
                else:
                    unknown.append(other_local)
        elif local != "Description":
            unknown.append(local)
    return Criteria(
        assert_=(el.get("assert") or "all").strip(),
        key_usage=tuple(key_usage),
        policy_sets=tuple(policy_sets),
        subject_dn_attributes=tuple(dn_attributes),
        extended_key_usages=tuple(ekus),
        nested=tuple(nested),
        unknown=tuple(unknown),
    )


def _oids(el: etree._Element) -> frozenset[str]:
    """Every xades Identifier below `el` (PolicyIdentifier, AttributeOID, KeyPurposeId), ``urn:oid:`` removed."""
    oids = set()
    for identifier in el.iter("{*}Identifier"):
        value = (identifier.text or "").strip()
        if value.lower().startswith("urn:oid:"):
            value = value[len("urn:oid:") :]
        if value:
            oids.add(value)
    return frozenset(oids)


# -- small readers -----------------------------------------------------------------------------------------------------


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _is_etsi(tag: str) -> bool:
    return tag.startswith(("{http://uri.etsi.org/", "{https://uri.etsi.org/"))


def _elements(el: etree._Element) -> Iterator[etree._Element]:
    """Element children only (comments and processing instructions skipped)."""
    return (child for child in el if isinstance(child.tag, str))


def _children(el: etree._Element, *, etsi_only: bool = True) -> Iterator[tuple[str, etree._Element]]:
    """(local name, element) of each element child; with `etsi_only`, children in other namespaces are skipped."""
    for child in _elements(el):
        if not etsi_only or _is_etsi(child.tag):
            yield _local(child.tag), child


def _required(el: etree._Element, tag: str, where: str) -> etree._Element:
    found = el.find(tag)
    if found is None:
        raise TslParseError("missing-element", f"{where}/{_local(tag)} is missing (line {el.sourceline})")
    return found


def _required_text(el: etree._Element, tag: str, where: str) -> str:
    text = (_required(el, tag, where).text or "").strip()
    if not text:
        raise TslParseError("missing-element", f"{where}/{_local(tag)} is empty (line {el.sourceline})")
    return text


def _integer(el: etree._Element, local: str, where: str) -> int:
    text = _required_text(el, _tag(local), where)
    try:
        return int(text)
    except ValueError:
        raise TslParseError("bad-value", f"{where}/{local} is not an integer: {text[:40]!r}") from None


def _datetime(el: etree._Element, where: str) -> datetime:
    """xsd:dateTime in UTC (a value without a zone is taken as UTC, as TS 119 612 requires UTC throughout)."""
    text = (el.text or "").strip()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise TslParseError(
            "bad-value", f"{where}/{_local(el.tag)} is not an xsd:dateTime: {text[:40]!r} (line {el.sourceline})"
        ) from None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _intl_name(el: etree._Element | None) -> str:
    """A multilingual name: the English one if there is one, else the first."""
    if el is None:
        return ""
    first = None
    for name in el.iterfind(_NAME):
        text = " ".join((name.text or "").split())
        if (name.get(_XML_LANG) or "").lower().startswith("en") and text:
            return text
        if first is None and text:
            first = text
    return first or ""


def _uris(el: etree._Element | None) -> tuple[str, ...]:
    if el is None:
        return ()
    return tuple(uri for uri in ((u.text or "").strip() for u in el.iterfind(_URI)) if uri)
