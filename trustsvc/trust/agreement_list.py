"""The cross-pilot agreement as a signed ETSI TS 119 612 list: published by the operator, read back anywhere.

Why a trusted list: it is the format every EU validator already reads (trustsvc's own reader, pyHanko, EU DSS), the
operator's XAdES signature makes it verifiable evidence of what the agreement was at a given moment, and another
trustsvc deployment (or a test) can import it and get the same entries in force.

How the agreement maps onto TS 119 612:

- one TrustServiceStatusList, SchemeTerritory ``EU``, SchemeName "EU:PROCURE cross-pilot CA agreement", and a TSLType,
  community rules and status determination approach of trustsvc's own (``urn:trustsvc:agreement:...``): the list is
  not a member state's EU trusted list and must not pass for one;
- one TSP per entry (the CA's name), with one service of type ``http://uri.etsi.org/TrstSvc/Svctype/CA/PKC`` whose
  ServiceDigitalIdentity is the CA certificate. **Not** ``CA/QC``: these CAs were assessed by the pilots' legal
  teams, they are not supervised qualified TSPs, and a ``CA/QC`` service would make every TS 119 615 qualification
  engine (pyHanko's, EU DSS) call their certificates qualified, and signatures made with them QES. The policy gives
  them their weight (``or_anchored_in: [agreement]``), not a false qualified status;
- status ``granted`` from StatusStartingTime = effective_from; a withdrawn entry stays listed with status
  ``withdrawn`` from effective_to, its granted state in the service history (as TS 119 612 keeps withdrawn services);
- what TS 119 612 has no element for (the assessment: country, quality level, validity, justification, source,
  and which curator approved for which pilot) goes in a non-critical ServiceInformationExtension
  ``agr:AgreementEntry`` (namespace ``urn:trustsvc:agreement:1``): readers that do not know it ignore it, as the
  standard says they must; the TSP's postal address carries the entry's country.

The list is rendered by :func:`trustsvc.trust.tsl_write.render_trusted_list`, the extension added, then signed by
:func:`trustsvc.trust.tsl_write.sign_trusted_list` (what ``signed_list_bytes`` does, with the extension between the
two steps: the model has no place for it) with the operator's key: an enveloped XAdES-BES signature over the whole
list. :func:`import_list` authenticates it with :func:`trustsvc.trust.tsl_signature.verify_list_signature` pinned
to the signers the caller names, and reads only the element that signature covers.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_private_key,
    load_pem_private_key,
)
from cryptography.x509.oid import NameOID
from lxml import etree

from ..errors import ConfigurationError
from .agreement import PILOTS, Agreement, AgreementError, Change, Entry, EntryDraft, ImportedEntry
from .sources import default_trust_lists_dir
from .tsl_model import (
    CA_PKC,
    DigitalIdentity,
    ServiceState,
    ServiceStatus,
    TrustedList,
    TrustService,
    TrustServiceProvider,
)
from .tsl_parse import TslParseError, parse_trusted_list_element
from .tsl_signature import verify_list_signature
from .tsl_write import TSL_NS, Address, ListDetails, PostalAddress, render_trusted_list, sign_trusted_list

__all__ = [
    "AGREEMENT_NS",
    "AGREEMENT_TSL_TYPE",
    "SCHEME_NAME",
    "export_list",
    "import_list",
    "load_signer",
    "default_details",
]

AGREEMENT_NS = "urn:trustsvc:agreement:1"
AGREEMENT_TSL_TYPE = "urn:trustsvc:agreement:tsltype:cross-pilot-ca-agreement"
SCHEME_NAME = "EU:PROCURE cross-pilot CA agreement"
SCHEME_RULES = "urn:trustsvc:agreement:schemerules:unanimous-pilot-approval"
STATUS_DETERMINATION = "urn:trustsvc:agreement:statusdetn:unanimous-pilot-approval"
TERRITORY = "EU"
#: TS 119 612 wants a NextUpdate; the legal teams review the agreement every six months.
REVIEW_PERIOD = timedelta(days=183)

_LEGAL_NOTICE = (
    "This list is the PROCURE cross-pilot CA agreement: certification authorities that the legal teams of the "
    f"pilots ({', '.join(p.upper() for p in PILOTS)}) assessed and unanimously accept for bids from other member "
    "states under Directive 2014/24/EU art. 22(6)(c). It is not a trusted list under Regulation (EU) No 910/2014 "
    "and confers no qualified status on the listed authorities or on the certificates they issue."
)

_SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def default_details() -> ListDetails:
    """The scheme information of the agreement list (pass your own to :func:`export_list` for real addresses)."""
    return ListDetails(
        tsp_address=Address(
            postal=PostalAddress(
                street="see the assessment document", locality="see the assessment document", postal_code=None
            ),
            electronic=("https://procure.example.org/agreement",),
        ),
        tsp_information_uris=("https://procure.example.org/agreement",),
        scheme_name=SCHEME_NAME,
        scheme_information_uris=("https://procure.example.org/agreement",),
        scheme_type_community_rules=(SCHEME_RULES,),
        status_determination_approach=STATUS_DETERMINATION,
        legal_notice=_LEGAL_NOTICE,
    )


def export_list(
    agreement: Agreement,
    key: _SigningKey,
    cert_der: bytes,
    *,
    at: datetime,
    sequence: int | None = None,
    details: ListDetails | None = None,
) -> bytes:
    """The agreement as it stood at `at`, as a TS 119 612 list signed with the operator's key.

    Entries that came in force at or before `at` are listed: granted, or withdrawn when their withdrawal took
    effect at or before `at` too (a withdrawal after `at` is not known yet). ListIssueDateTime and the XAdES
    SigningTime are `at`, so the same state gives the same bytes (RSA signatures are deterministic).

    :param sequence: TSLSequenceNumber; by default the number of entries that came in force or were withdrawn at
        or before `at` (at least 1): it grows with every change of the list's content and stays the same without
        one, as a trusted-list store expects (a new number for new content, never new content under an old number).
    :return: the signed list, to be published exactly as returned.
    """
    _require_aware(at, "at")
    at = at.astimezone(timezone.utc)
    listed = [e for e in agreement.entries() if e.effective_from is not None and e.effective_from <= at]
    changes = sum(1 + (e.effective_to is not None and e.effective_to <= at) for e in listed)
    tl = TrustedList(
        version=6,
        sequence=sequence if sequence is not None else max(1, changes),
        tsl_type=AGREEMENT_TSL_TYPE,
        territory=TERRITORY,
        operator_name=_operator_name(cert_der),
        issued=at,
        next_update=at + REVIEW_PERIOD,
        providers=tuple(_provider(entry, at) for entry in listed),
    )
    root = etree.fromstring(render_trusted_list(tl, details or default_details()))
    tsps = root.findall(f"{_t('TrustServiceProviderList')}/{_t('TrustServiceProvider')}")
    approvals = agreement.approvals()
    for tsp, entry in zip(tsps, listed, strict=True):
        _annotate(tsp, entry, at, approvals)
    etree.indent(root, space="  ")
    unsigned = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return sign_trusted_list(unsigned, key, cert_der, signing_time=at.replace(microsecond=0))


def import_list(
    agreement: Agreement,
    data: bytes,
    signer_certs: list[bytes],
    *,
    curator: str,
    now: datetime | None = None,
    pilot: str | None = None,
) -> list[Entry]:
    """Authenticate an agreement list against `signer_certs` (DER) and bring its entries into `agreement`.

    Granted entries come in force from their StatusStartingTime; withdrawn ones are kept withdrawn, with the dates
    of their history. Each is recorded in the audit trail as ``import`` with the list's digest, sequence number
    and signer. Importing the same list twice changes nothing.

    :return: the entries created or changed.
    :raises AgreementError: ``list-not-authentic`` (the signature does not verify against the given signers),
        ``not-an-agreement-list`` (authentic, but not an agreement list as :func:`export_list` writes them), or a
        rule of the agreement an entry breaks.
    """
    verification, element = verify_list_signature(data, list(signer_certs))
    if not verification.verified or element is None:
        raise AgreementError(
            "list-not-authentic",
            f"the list's signature does not verify against the given signers ({verification.code}: "
            f"{verification.reason})",
        )
    try:
        tl = parse_trusted_list_element(element)
    except TslParseError as e:
        raise AgreementError("not-an-agreement-list", f"the list cannot be read ({e.code}: {e.message})") from None
    if tl.tsl_type != AGREEMENT_TSL_TYPE:
        raise AgreementError("not-an-agreement-list", f"the list is of type {tl.tsl_type}, not an agreement list")
    services = element.findall(
        f"{_t('TrustServiceProviderList')}/{_t('TrustServiceProvider')}/{_t('TSPServices')}/{_t('TSPService')}"
    )
    parsed = list(tl.services())
    items = [
        _imported(position, service, xml)
        for position, ((_provider, service), xml) in enumerate(zip(parsed, services, strict=True), 1)
    ]
    signer = verification.signer_certificate or b""
    evidence = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "sequence": tl.sequence,
        "issued": tl.issued.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
        "signer_sha256": hashlib.sha256(signer).hexdigest(),
    }
    return agreement.import_entries(items, curator=curator, now=now, pilot=pilot, evidence=evidence)


def load_signer(key_path: Path, cert_path: Path, password: str | None = None) -> tuple[_SigningKey, bytes]:
    """The operator's private key (PEM or DER) and certificate (PEM or DER; the first of a chain), checked to match.

    :raises ConfigurationError: a file cannot be read, is not what it should be, or the two do not match.
    """
    try:
        key_data, cert_data = key_path.read_bytes(), cert_path.read_bytes()
    except OSError as e:
        raise ConfigurationError(f"cannot read the list signer's key or certificate: {e}", code="list-signer") from e
    secret = password.encode() if password else None
    try:
        if b"-----BEGIN" in key_data:
            key = load_pem_private_key(key_data, secret)
        else:
            key = load_der_private_key(key_data, secret)
    except (ValueError, TypeError) as e:
        raise ConfigurationError(
            f"cannot load the list signer's key {key_path} ({type(e).__name__}: wrong password or format?)",
            code="list-signer",
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ConfigurationError(f"{key_path}: lists are signed with RSA or ECDSA keys", code="list-signer")
    try:
        if b"-----BEGIN" in cert_data:
            certificate = x509.load_pem_x509_certificates(cert_data)[0]
        else:
            certificate = x509.load_der_x509_certificate(cert_data)
    except ValueError:
        raise ConfigurationError(f"{cert_path} is not a certificate file", code="list-signer") from None
    spki = (Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    if certificate.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
        raise ConfigurationError(f"{cert_path} is not the certificate of the key {key_path}", code="list-signer")
    return key, certificate.public_bytes(Encoding.DER)


# -- writing -------------------------------------------------------------------------------------------------------


def _t(local: str, ns: str = TSL_NS) -> str:
    return f"{{{ns}}}{local}"


def _provider(entry: Entry, at: datetime) -> TrustServiceProvider:
    draft = entry.draft
    assert entry.effective_from is not None
    identity = DigitalIdentity(certificates=(draft.ca_certificate,))
    granted = ServiceState(CA_PKC, draft.name, ServiceStatus.GRANTED, entry.effective_from, identity)
    if entry.effective_to is not None and entry.effective_to <= at:
        withdrawn = ServiceState(CA_PKC, draft.name, ServiceStatus.WITHDRAWN, entry.effective_to, identity)
        service = TrustService(current=withdrawn, history=(granted,))
    else:
        service = TrustService(current=granted)
    return TrustServiceProvider(name=draft.name, trade_names=(), services=(service,))


def _annotate(
    tsp: etree._Element, entry: Entry, at: datetime, approvals: dict[tuple[int, Change], dict[str, str]]
) -> None:
    """The entry's country in the TSP's address, and the agreement's own data as a non-critical extension."""
    draft = entry.draft
    for country in tsp.iterfind(
        f"{_t('TSPInformation')}/{_t('TSPAddress')}/{_t('PostalAddresses')}/{_t('PostalAddress')}/{_t('CountryName')}"
    ):
        country.text = draft.country
    information = tsp.find(f"{_t('TSPServices')}/{_t('TSPService')}/{_t('ServiceInformation')}")
    assert information is not None
    extensions = information.find(_t("ServiceInformationExtensions"))
    if extensions is None:
        extensions = etree.SubElement(information, _t("ServiceInformationExtensions"))
    extension = etree.SubElement(extensions, _t("Extension"), Critical="false")
    holder = etree.SubElement(extension, _t("AgreementEntry", AGREEMENT_NS), nsmap={"agr": AGREEMENT_NS})

    def add(local: str, text: str, **attributes: str) -> None:
        etree.SubElement(holder, _t(local, AGREEMENT_NS), attributes).text = text

    add("Country", draft.country)
    add("QualityLevel", str(draft.quality_level))
    add("ValidFrom", _iso(draft.valid_from))
    if draft.valid_to is not None:
        add("ValidTo", _iso(draft.valid_to))
    add("Justification", draft.justification)
    add("SourceDocument", draft.source_document)
    changes = [Change.ADDITION]
    if entry.effective_to is not None and entry.effective_to <= at:
        changes.append(Change.WITHDRAWAL)
    for change in changes:
        who = approvals.get((entry.id, change), {})
        for pilot, curator in who.items():
            etree.SubElement(
                holder, _t("Approval", AGREEMENT_NS), {"change": change.value, "pilot": pilot, "curator": curator}
            )


def _operator_name(cert_der: bytes) -> str:
    subject = x509.load_der_x509_certificate(cert_der).subject
    for oid in (NameOID.ORGANIZATION_NAME, NameOID.COMMON_NAME):
        values = subject.get_attributes_for_oid(oid)
        if values:
            return str(values[0].value)
    return "trustsvc operator"


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment.isoformat()}")


# -- reading -------------------------------------------------------------------------------------------------------


def _imported(position: int, service, xml: etree._Element) -> ImportedEntry:
    """One listed service as an entry; anything an agreement list would not say is refused, naming the position."""

    def refuse(why: str) -> AgreementError:
        return AgreementError("not-an-agreement-list", f"service {position} of the list {why}")

    current = service.current
    if current.type != CA_PKC:
        raise refuse(f"is of type {current.type}, not CA/PKC")
    certificates = current.identity.certificates
    if len(certificates) != 1:
        raise refuse(f"names {len(certificates)} certificates, not the one CA certificate")
    holder = xml.find(
        f"{_t('ServiceInformation')}/{_t('ServiceInformationExtensions')}/{_t('Extension')}/"
        f"{_t('AgreementEntry', AGREEMENT_NS)}"
    )
    if holder is None:
        raise refuse("carries no agreement entry extension")
    if current.status is ServiceStatus.GRANTED:
        effective_from, effective_to = current.start, None
    elif current.status is ServiceStatus.WITHDRAWN:
        granted = [s for s in service.history if s.status is ServiceStatus.GRANTED]
        if not granted:
            raise refuse("is withdrawn but was never granted")
        effective_from, effective_to = granted[0].start, current.start
    else:
        raise refuse(f"has status {current.status.value}, neither granted nor withdrawn")

    def text(local: str, required: bool = True) -> str | None:
        value = holder.findtext(_t(local, AGREEMENT_NS))
        if value is None and required:
            raise refuse(f"gives no {local}")
        return None if value is None else value.strip()

    try:
        quality = int(text("QualityLevel") or "")
        valid_from = _parse_time(text("ValidFrom") or "")
        valid_to_text = text("ValidTo", required=False)
        valid_to = _parse_time(valid_to_text) if valid_to_text else None
    except ValueError:
        raise refuse("has a quality level or validity that cannot be read") from None
    approvals: dict[str, dict[str, str]] = {Change.ADDITION.value: {}, Change.WITHDRAWAL.value: {}}
    for approval in holder.iterfind(_t("Approval", AGREEMENT_NS)):
        change = approval.get("change", "")
        if change not in approvals:
            raise refuse(f"records an approval of an unknown change {change!r}")
        approvals[change][approval.get("pilot", "")] = approval.get("curator", "")
    draft = EntryDraft(
        ca_certificate=certificates[0],
        name=current.name,
        country=text("Country") or "",
        justification=text("Justification") or "",
        quality_level=quality,
        valid_from=valid_from,
        valid_to=valid_to,
        source_document=text("SourceDocument") or "",
    )
    return ImportedEntry(
        draft=draft,
        effective_from=effective_from,
        effective_to=effective_to,
        approvals=approvals[Change.ADDITION.value],
        withdrawal_approvals=approvals[Change.WITHDRAWAL.value],
    )


def _parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"{value} has no time zone")
    return moment.astimezone(timezone.utc)


def operator_signer_files(settings, source_name: str) -> tuple[Path, Path, str | None]:
    """The key, certificate and password that sign the agreement list: TRUSTSVC_REPORT_KEY/_CERT, else the demo
    operator's published test key when the trust source is the demo.

    :raises ConfigurationError: only one of the two is set, or there is no key at all.
    """
    if settings.report_key and settings.report_cert:
        return settings.report_key, settings.report_cert, settings.report_key_password
    if settings.report_key or settings.report_cert:
        raise ConfigurationError("set both TRUSTSVC_REPORT_KEY and TRUSTSVC_REPORT_CERT to sign the agreement list")
    demo = Path(settings.trust_lists_dir or default_trust_lists_dir()) / "demo"
    if source_name == "demo" and (demo / "report-signer.key.pem").is_file():
        return demo / "report-signer.key.pem", demo / "report-signer.pem", None
    raise ConfigurationError(
        "no key to sign the agreement list: give --key and --cert, or set TRUSTSVC_REPORT_KEY and TRUSTSVC_REPORT_CERT",
        code="list-signer",
    )
