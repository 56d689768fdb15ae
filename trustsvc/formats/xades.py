"""XAdES: XML signatures, enveloped, enveloping or detached, B-B to B-LTA (EN 319 132-1), and plain XML-DSig.

Each top-level ds:Signature of the document is a signature of its own; counter-signatures (in
UnsignedSignatureProperties) follow their parent in the report. The XML-DSig core runs in python-xmlsec
(:mod:`.xml_dsig`), the qualifying properties are read from what the references actually cover
(:mod:`.xades_properties`), and the rest is the EN 319 102-1 process every format shares (:mod:`.cms_process`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import unquote

import xmlsec
from asn1crypto import algos, cms, tsp, x509
from lxml import etree

from ..errors import InputError
from ..trust.xml_safety import parse_xml
from ..verdict import (
    Finding,
    Qualification,
    RevocationFacts,
    SignatureFacts,
    SignatureVerdict,
    SubIndication,
)
from .cms_process import (
    AttachedTimestamp,
    SignatureEvidence,
    TimestampKind,
    crypto_failure,
    validate_signature,
)
from .cms_signer import signer_identity
from .content import DetachedContent
from .digests import digest_bytes
from .material import der_of
from .parse_errors import ASN1_ERRORS
from .settings import ValidationSettings
from .signer_facts import certificate_facts
from .tst import TimestampToken, TokenFormatError, parse_token
from .xades_archive import (
    archive_timestamp_input,
    dereference_same_document,
    signature_timestamp_input,
    timestamp_c14n,
)
from .xades_properties import (
    COUNTERSIGNED_TYPE,
    SIGNED_PROPERTIES_TYPE,
    X132,
    X141,
    QualifyingProperties,
    SignedProperties,
    decode_b64,
    find_qualifying_properties,
    read_signed_properties,
    validation_material,
)
from .xml_dsig import (
    DS,
    NS,
    SIGNATURE_METHODS,
    CoreProblem,
    CoreResult,
    Reference,
    duplicate_ids,
    element_ids,
    find_content,
    read_references,
    verify_core,
)

__all__ = ["validate_xades", "validate_xades_root"]

logger = logging.getLogger(__name__)

#: Largest XML document read (an enveloping signature carries its content base64-encoded).
MAX_XML_BYTES = 256 * 1024 * 1024
#: Most signatures validated in one document (bids carry a handful; each costs a full validation).
MAX_SIGNATURES = 100
#: Most attributes on one element: libxml2's canonicalisation is quadratic in them (20,000 take a second).
MAX_ATTRIBUTES = 1000
_ATTRIBUTE_COUNTS = etree.XPath("count(//*[count(@*) > $limit])")


def _refuse_attribute_bombs(root: etree._Element) -> None:
    if _ATTRIBUTE_COUNTS(root, limit=MAX_ATTRIBUTES):
        raise InputError(
            f"An element of the document has more than {MAX_ATTRIBUTES} attributes (a canonicalisation bomb)",
            code="too-many-attributes",
        )


_SIGNATURE = f"{{{DS}}}Signature"


async def validate_xades(
    data: bytes, contents: list[DetachedContent], settings: ValidationSettings
) -> list[SignatureVerdict]:
    """Validate every signature of an XML document (already recognised as XML)."""
    root = parse_xml(data, max_bytes=MAX_XML_BYTES)
    return await validate_xades_root(root, contents, settings)


async def validate_xades_root(
    root: etree._Element, contents: list[DetachedContent], settings: ValidationSettings, prefix: str = "sig"
) -> list[SignatureVerdict]:
    signatures = [s for s in root.iter(_SIGNATURE) if not _is_counter_signature(s)]
    if not signatures:
        return []
    if len(signatures) > MAX_SIGNATURES:
        raise InputError(
            f"The document holds {len(signatures)} signatures; at most {MAX_SIGNATURES} are validated in one document",
            code="too-many-signatures",
        )
    _refuse_attribute_bombs(root)
    document = _Document(root, {c.name: c for c in contents})
    verdicts = []
    for index, signature in enumerate(signatures, start=1):
        sig_id = f"{prefix}-{index}"
        verdicts.append(await _validate_signature(document, signature, sig_id, settings))
        qualifying = find_qualifying_properties(signature)
        usp = qualifying.unsigned_signature_properties if qualifying else None
        counters = (
            usp.findall(f"{{{qualifying.namespace}}}CounterSignature/ds:Signature", NS) if usp is not None else []
        )
        for number, counter in enumerate(counters, start=1):
            verdicts.append(
                await _validate_signature(document, counter, f"{sig_id}-counter-{number}", settings, parent=signature)
            )
    return verdicts


def _is_counter_signature(signature: etree._Element) -> bool:
    parent = signature.getparent()
    return parent is not None and etree.QName(parent).localname == "CounterSignature"


class _Document:
    """The parsed document, its Id index (checked once for duplicates) and the supplied detached files."""

    def __init__(self, root: etree._Element, contents: dict[str, DetachedContent]):
        self.root = root
        self.contents = contents
        found = element_ids(root)
        self.duplicates = duplicate_ids(root, found)
        self.ids: dict[str, etree._Element] = {}
        for value, element in found:
            self.ids.setdefault(value, element)
        if not self.duplicates:
            xmlsec.tree.add_ids(root, ["Id", "ID", "id"])


@dataclass
class XadesCore:
    """One ds:Signature as a :class:`~.cms_process.SignatureCore`."""

    document: _Document
    signature: etree._Element
    references: list[Reference]
    reference_problem: CoreProblem | None
    signed_properties: SignedProperties | None
    structural_problem: CoreProblem | None
    key_info_certs: list[x509.Certificate]
    core_results: dict[bytes, CoreResult] = field(default_factory=dict)
    notes: list[Finding] = field(default_factory=list)

    # -- identification of the signer ---------------------------------------------------------------------------

    def claimed_signing_time(self) -> datetime | None:
        props = self.signed_properties
        if props is None or props.signing_time_text is None:
            return None
        if props.signing_time is None:
            raise ValueError("unreadable SigningTime")
        return props.signing_time

    def find_signer_certificate(self, candidates: list[x509.Certificate]) -> x509.Certificate | None:
        ordered = [*self.key_info_certs, *candidates]
        props = self.signed_properties
        if props is not None and props.certificates:
            first = props.certificates[0]
            for cert in ordered:
                if _digest_matches(cert, first.digest_algorithm, first.digest):
                    return cert
        return self.key_info_certs[0] if self.key_info_certs else None

    def signing_certificate_reference(self, cert: x509.Certificate) -> str:
        props = self.signed_properties
        if props is None or not props.certificates:
            return "absent"
        first = props.certificates[0]
        if not _digest_matches(cert, first.digest_algorithm, first.digest):
            return "mismatch"
        if not _issuer_serial_matches(cert, first):
            self.notes.append(
                Finding(
                    "ISSUER_SERIAL_MISMATCH",
                    "The signed issuer and serial number of the signing certificate do not match the certificate.",
                )
            )
        return "match"

    # -- integrity ------------------------------------------------------------------------------------------------

    def check_integrity(
        self, cert: x509.Certificate, errors: list[Finding], warnings: list[Finding]
    ) -> SubIndication | None:
        warnings.extend(self.notes)
        self.notes.clear()
        for problem in (self.reference_problem, self.structural_problem):
            if problem is not None:
                errors.append(Finding(problem.code, problem.message))
                return problem.subindication
        result = self.core_results.get(der_of(cert))
        if result is None:  # the process picked another certificate than the one verified ahead
            result = self.verify(cert)
        if result.problem is not None:
            errors.append(Finding(result.problem.code, result.problem.message))
            return result.problem.subindication
        return None

    def verify(self, cert: x509.Certificate) -> CoreResult:
        der = der_of(cert)
        result = verify_core(self.document.root, self.signature, der, self.references, self.document.contents)
        self.core_results[der] = result
        return result

    # -- algorithms and facts -------------------------------------------------------------------------------------

    @property
    def signature_method(self) -> tuple[str, str] | None:
        method = self.signature.find("ds:SignedInfo/ds:SignatureMethod", NS)
        return SIGNATURE_METHODS.get(method.get("Algorithm") or "") if method is not None else None

    def crypto_constraints(
        self, cert: x509.Certificate, settings: ValidationSettings, moment: datetime
    ) -> tuple[SubIndication, str] | None:
        suite = settings.crypto_suite
        method = self.signature_method
        if method is None:
            return SubIndication.CRYPTO_CONSTRAINTS_FAILURE, "The signature method is not a known algorithm."
        mechanism, hash_name = method
        for reference in self.references:
            algorithm = reference.digest_algorithm
            if algorithm is None:
                continue
            failure = crypto_failure(
                suite.digest_algorithm_allowed(algos.DigestAlgorithm({"algorithm": algorithm}), moment)
            )
            if failure is not None:
                return failure
        signed_digest = algos.SignedDigestAlgorithm({"algorithm": f"{hash_name}_{_ASN1_MECHANISM[mechanism]}"})
        return crypto_failure(suite.signature_algorithm_allowed(signed_digest, moment, cert.public_key))

    def facts(
        self,
        cert: x509.Certificate | None,
        *,
        qualification: Qualification | None,
        signing_certificate_signed: bool,
        revocation: RevocationFacts,
        deposit_time: datetime | None,
    ) -> SignatureFacts:
        method = self.signature_method
        data = [r for r in self.references if r.type != SIGNED_PROPERTIES_TYPE]
        digest = (data or self.references or [None])[0]
        props = self.signed_properties
        return SignatureFacts(
            signer=certificate_facts(cert, qualification) if cert is not None else None,
            digest_algorithm=digest.digest_algorithm if digest is not None else None,
            signature_mechanism=method[0] if method else None,
            signature_hash=method[1] if method else None,
            signing_certificate_signed=signing_certificate_signed,
            signature_policy=props.policy if props is not None else None,
            revocation=revocation,
            deposit_time=deposit_time,
        )


_ASN1_MECHANISM = {"rsassa_pkcs1v15": "rsa", "ecdsa": "ecdsa", "dsa": "dsa"}


def _digest_matches(cert: x509.Certificate, algorithm: str | None, digest: bytes | None) -> bool:
    if algorithm is None or digest is None:
        return False
    try:
        return hashlib.new(algorithm, der_of(cert)).digest() == digest
    except ValueError:
        return False


def _issuer_serial_matches(cert: x509.Certificate, reference) -> bool:
    if reference.issuer_serial_der is not None:
        try:
            parsed = tsp.IssuerSerial.load(reference.issuer_serial_der)
            names = [n.chosen for n in parsed["issuer"] if n.name == "directory_name"]
            return parsed["serial_number"].native == cert.serial_number and (not names or names[0] == cert.issuer)
        except ASN1_ERRORS:
            return False
    if reference.serial is not None:
        return reference.serial == cert.serial_number
    return True


# -- one signature ------------------------------------------------------------------------------------------------


async def _validate_signature(
    document: _Document,
    signature: etree._Element,
    sig_id: str,
    settings: ValidationSettings,
    parent: etree._Element | None = None,
) -> SignatureVerdict:
    infos: list[Finding] = []
    warnings: list[Finding] = []
    references, reference_problem = read_references(signature, document.ids)
    if document.duplicates:
        reference_problem = CoreProblem(
            SubIndication.FORMAT_FAILURE,
            "DUPLICATE_ID",
            f"The document has several elements with the Id {document.duplicates[0]!r}: what a reference signs "
            "would be ambiguous (a signature-wrapping pattern).",
        )
    qualifying = find_qualifying_properties(signature)
    signed_properties, properties_problem = read_signed_properties(references, qualifying)
    structural = _structural_problem(document, signature, references, qualifying, signed_properties, parent)
    if structural is None and properties_problem is not None:
        structural = CoreProblem(
            SubIndication.SIGNED_DATA_NOT_FOUND, "SIGNED_PROPERTIES_NOT_SIGNED", properties_problem
        )
    material = validation_material(signature, qualifying)
    key_info = _key_info_ders(signature)
    key_info_certs = [c for c in material.certs if der_of(c) in key_info]
    core = XadesCore(document, signature, references, reference_problem, signed_properties, structural, key_info_certs)
    await _hash_external_contents(document, references)
    # the expensive part (digests over the whole document) runs off the event loop, for the likely signer
    likely = core.find_signer_certificate(material.certs)
    if likely is not None and reference_problem is None and structural is None:
        await asyncio.to_thread(core.verify, likely)
    scope, scope_note = _scope(document, signature, references, parent)
    if scope_note:
        (warnings if scope == "PARTIAL" else infos).append(scope_note)
    infos.extend(_property_notes(signed_properties, qualifying))
    warnings.extend(_data_object_format_notes(signed_properties, references, parent))
    evidence = SignatureEvidence(
        core,
        material,
        timestamps=_attached_timestamps(document, signature, qualifying, signed_properties, references),
        findings_warnings=warnings,
        findings_infos=infos,
    )
    outcome = await validate_signature(evidence, settings)
    return SignatureVerdict(
        id=sig_id,
        format="XAdES",
        level=_level(signed_properties, qualifying, evidence),
        indication=outcome.indication,
        subindication=outcome.subindication,
        signer=signer_identity(outcome.signer_cert) if outcome.signer_cert else None,
        claimed_signing_time=outcome.claimed_signing_time,
        best_signature_time=outcome.best_signature_time,
        trust_anchor=outcome.trust_anchor,
        qualification=outcome.qualification,
        timestamps=outcome.timestamps,
        scope=scope,
        errors=outcome.errors,
        warnings=outcome.warnings,
        infos=outcome.infos,
        facts=outcome.facts,
    )


def _key_info_ders(signature: etree._Element) -> set[bytes]:
    return {
        der
        for text in signature.xpath("ds:KeyInfo//ds:X509Certificate/text()", namespaces=NS)
        if (der := decode_b64(text))
    }


async def _hash_external_contents(document: _Document, references: list[Reference]) -> None:
    algorithms = {r.digest_algorithm for r in references if r.external and r.digest_algorithm}
    if algorithms:
        for content in document.contents.values():
            await content.ensure_digests(algorithms)


def _data_references(references: list[Reference], parent: etree._Element | None) -> list[Reference]:
    """References to signed data: not the signed properties, not KeyInfo, not a counter-signed SignatureValue."""
    out = []
    for reference in references:
        if reference.type in (SIGNED_PROPERTIES_TYPE, COUNTERSIGNED_TYPE):
            continue
        target = reference.target
        if target is not None and etree.QName(target).localname in ("SignedProperties", "KeyInfo"):
            continue
        if parent is not None and target is not None and etree.QName(target).localname == "SignatureValue":
            continue
        out.append(reference)
    return out


def _structural_problem(
    document: _Document,
    signature: etree._Element,
    references: list[Reference],
    qualifying: QualifyingProperties | None,
    signed_properties: SignedProperties | None,
    parent: etree._Element | None,
) -> CoreProblem | None:
    """Shapes that make what was signed unclear, whatever the cryptography says."""
    if not references:
        return None  # read_references already reported it
    if qualifying is not None and signed_properties is not None:
        signature_id = signature.get("Id")
        if qualifying.target is None or signature_id is None or unquote(qualifying.target) != f"#{signature_id}":
            return CoreProblem(
                SubIndication.FORMAT_FAILURE,
                "QUALIFYING_PROPERTIES_TARGET",
                "The qualifying properties do not target this signature (QualifyingProperties/@Target).",
            )
    if parent is not None:
        value = parent.find("ds:SignatureValue", NS)
        if not any(r.target is value for r in references if value is not None):
            return CoreProblem(
                SubIndication.SIGNED_DATA_NOT_FOUND,
                "COUNTERSIGNED_VALUE_NOT_SIGNED",
                "The counter-signature does not sign the SignatureValue of the signature it counter-signs.",
            )
        return None
    data = _data_references(references, parent)
    if not data:
        return CoreProblem(
            SubIndication.SIGNED_DATA_NOT_FOUND,
            "NO_SIGNED_DATA",
            "The signature's references cover no data: only its own properties or key are signed.",
        )
    root = document.root
    for reference in data:
        target = reference.target
        if target is None or target is root:
            continue
        # enveloped: signed content inside any ds:Object under unsigned content; enveloping: inside a ds:Object
        # that is not one of the signature's own (an unsigned object wrapping the signed one)
        hidden = _inside_object(target) if root is not signature else _object_depth(target, signature) > 1
        if hidden:
            return CoreProblem(
                SubIndication.FORMAT_FAILURE,
                "SIGNED_CONTENT_HIDDEN",
                f"The signed element {etree.QName(target).localname} sits inside a ds:Object while the document "
                "presents other, unsigned content: a signature-wrapping pattern.",
            )
    return None


def _inside_object(element: etree._Element) -> bool:
    return any(a.tag == f"{{{DS}}}Object" for a in element.iterancestors())


def _object_depth(element: etree._Element, signature: etree._Element) -> int:
    """How many ds:Object elements enclose `element` (itself included) below `signature`; a signature's own
    ds:Object is a child of it, so a genuine enveloping reference has depth 1."""
    depth = 1 if element.tag == f"{{{DS}}}Object" else 0
    for ancestor in element.iterancestors():
        if ancestor is signature:
            break
        if ancestor.tag == f"{{{DS}}}Object":
            depth += 1
    if depth == 1:
        holder = (
            element
            if element.tag == f"{{{DS}}}Object"
            else next(a for a in element.iterancestors() if a.tag == f"{{{DS}}}Object")
        )
        if holder.getparent() is not signature:
            return 2
    return depth


def _scope(
    document: _Document, signature: etree._Element, references: list[Reference], parent: etree._Element | None
) -> tuple[str | None, Finding | None]:
    """FULL when the data references cover the document (or the detached files, or the enveloped object), PARTIAL
    when they cover only some elements of it; with a note saying what exactly is signed."""
    if parent is not None:
        return "COUNTERSIGNATURE", None
    data = _data_references(references, parent)
    if not data:
        return None, None
    root = document.root
    covered: list[str] = []
    partial = False
    for reference in data:
        if reference.whole_document:
            covered.append("the whole document")
        elif reference.external:
            covered.append(f"the file {unquote(reference.uri or '')}")
        elif reference.target is not None:
            target = reference.target
            name = etree.QName(target).localname
            if target is root:
                covered.append(f"the whole document ({name})")
            elif root is signature and target.getparent() is signature and name == "Object":
                covered.append("the enveloped content (ds:Object)")
            else:
                partial = True
                covered.append(f"the element {name} ({reference.uri})")
        else:
            partial = True
            covered.append(f"{reference.uri}")
    if root is signature:
        signed_objects = set()
        for reference in data:
            target = reference.target
            while target is not None and target.getparent() is not signature:
                target = target.getparent()
            if target is not None:
                signed_objects.add(target)
        for obj in signature.findall("ds:Object", NS):
            if obj not in signed_objects and not _holds_qualifying_properties(obj):
                partial = True
                covered.append(f"not the ds:Object {obj.get('Id') or '(without Id)'}")
    text = "Signed: " + "; ".join(covered[:5]) + (f"; and {len(covered) - 5} more" if len(covered) > 5 else "") + "."
    if partial:
        return "PARTIAL", Finding("SIGNATURE_SCOPE_PARTIAL", text + " The rest of the document is not signed.")
    return "FULL", Finding("SIGNATURE_SCOPE", text)


def _holds_qualifying_properties(obj: etree._Element) -> bool:
    return any(isinstance(c.tag, str) and etree.QName(c).localname == "QualifyingProperties" for c in obj)


def _property_notes(props: SignedProperties | None, qualifying: QualifyingProperties | None) -> list[Finding]:
    if props is None:
        return []
    notes = []
    if props.signing_time is None:
        notes.append(Finding("NO_SIGNING_TIME", "The signature claims no signing time (XAdES SigningTime)."))
    if props.certificate_version == 1:
        notes.append(
            Finding("SIGNING_CERTIFICATE_V1", "The signing certificate is referenced with SigningCertificate (v1).")
        )
    if props.policy_implied:
        notes.append(Finding("SIGNATURE_POLICY_IMPLIED", "The signature declares an implied signature policy."))
    return notes


def _data_object_format_notes(
    props: SignedProperties | None, references: list[Reference], parent: etree._Element | None
) -> list[Finding]:
    """EN 319 132-1 5.2.4: each DataObjectFormat points at a data reference (by its Id); baseline signatures give
    one per data reference, so that the signer commits to how the data is to be presented."""
    if props is None or parent is not None:
        return []
    ids = {f"#{r.element.get('Id')}" for r in references if r.element.get("Id")}
    dangling = [ref for ref in props.data_object_formats if ref not in ids]
    notes = []
    if dangling:
        notes.append(
            Finding(
                "DATA_OBJECT_FORMAT_DANGLING",
                f"A DataObjectFormat points at {dangling[0]}, which is no reference of the signature.",
            )
        )
    described = set(props.data_object_formats)
    undescribed = [r for r in _data_references(references, None) if f"#{r.element.get('Id')}" not in described]
    if undescribed and props.data_object_formats:
        notes.append(
            Finding(
                "DATA_OBJECT_FORMAT_MISSING",
                f"Reference {undescribed[0].index + 1} has no DataObjectFormat saying what kind of data it signs.",
            )
        )
    return notes


# -- time-stamps --------------------------------------------------------------------------------------------------


def _token(element: etree._Element) -> tuple[TimestampToken | None, str | None]:
    der = decode_b64(element.text)
    if der is None:
        return None, "the encapsulated time-stamp is not base64"
    try:
        return parse_token(cms.ContentInfo.load(der)), None
    except TokenFormatError as e:
        return None, str(e)
    except ASN1_ERRORS as e:
        return None, f"malformed time-stamp token ({str(e)[:100]})"


def _attached_timestamps(
    document: _Document,
    signature: etree._Element,
    qualifying: QualifyingProperties | None,
    props: SignedProperties | None,
    references: list[Reference],
) -> list[AttachedTimestamp]:
    attached: list[AttachedTimestamp] = []
    namespace = qualifying.namespace if qualifying is not None else None
    usp = qualifying.unsigned_signature_properties if qualifying is not None else None
    order = 0
    for element in usp if usp is not None else ():
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element)
        if name.localname == "SignatureTimeStamp" and name.namespace == namespace:
            uri, prefixes = timestamp_c14n(element)
            for encapsulated in element.findall(f"{{{namespace}}}EncapsulatedTimeStamp"):
                token, error = _token(encapsulated)
                attached.append(
                    AttachedTimestamp(
                        TimestampKind.SIGNATURE,
                        0,
                        token,
                        _imprint(lambda u=uri, p=prefixes: signature_timestamp_input(signature, u, p)),
                        error,
                    )
                )
        elif name.localname == "ArchiveTimeStamp" and name.namespace in (X141, namespace):
            order += 1
            uri, prefixes = timestamp_c14n(element)
            for encapsulated in element.findall(f"{{{namespace}}}EncapsulatedTimeStamp") + element.findall(
                f"{{{X141}}}EncapsulatedTimeStamp"
            ):
                token, error = _token(encapsulated)

                def archive_input(ts=element, u=uri, p=prefixes) -> bytes:
                    return archive_timestamp_input(signature, ts, u, lambda r: _dereference(document, r, u, p), p)

                attached.append(AttachedTimestamp(TimestampKind.ARCHIVE, order, token, _imprint(archive_input), error))
    for element in props.content_timestamps if props is not None else ():
        uri, prefixes = timestamp_c14n(element)
        for encapsulated in element.findall(f"{{{props.namespace}}}EncapsulatedTimeStamp"):
            token, error = _token(encapsulated)
            data = _data_references(references, None)

            def content_input(refs=data, u=uri, p=prefixes) -> bytes:
                return b"".join(_dereference(document, r.element, u, p) for r in refs)

            attached.append(AttachedTimestamp(TimestampKind.CONTENT, 0, token, _imprint(content_input), error))
    return attached


def _imprint(make_input):
    """expected_imprint for AttachedTimestamp: the input is built once, then hashed per algorithm asked."""
    cache: dict[str, bytes | None] = {}
    built: list[bytes | None] = []

    def expected(algorithm: str) -> bytes | None:
        if algorithm not in cache:
            if not built:
                try:
                    built.append(make_input())
                except (ValueError, KeyError, etree.LxmlError, OSError) as e:
                    logger.info("time-stamped data cannot be computed: %s", e)
                    built.append(None)
            data = built[0]
            cache[algorithm] = digest_bytes(algorithm, data) if data is not None else None
        return cache[algorithm]

    return expected


def _dereference(
    document: _Document, reference: etree._Element, c14n_uri: str | None, prefixes: list[str] | None
) -> bytes:
    """The octets a ds:Reference designates after its transforms (the input of archive/content time-stamps)."""
    uri = reference.get("URI")
    if uri is not None and uri != "" and not uri.startswith("#"):
        content = find_content(document.contents, uri)
        if content is None:
            raise ValueError(f"the file {uri} was not supplied")
        return content.path.read_bytes()
    return dereference_same_document(reference, document.root, c14n_uri, prefixes)


def _level(props: SignedProperties | None, qualifying: QualifyingProperties | None, evidence: SignatureEvidence) -> str:
    if props is None:
        return "XML-DSig"
    # EN 319 132-1 baseline: the v1.3.2 namespace, SigningTime and SigningCertificateV2 (older forms are XAdES-B)
    baseline = props.namespace == X132 and props.signing_time is not None and props.certificate_version == 2
    prefix = "XAdES-BASELINE" if baseline else "XAdES"
    kinds = {t.kind for t in evidence.timestamps}
    if TimestampKind.ARCHIVE in kinds:
        return f"{prefix}-LTA"
    usp = qualifying.unsigned_signature_properties if qualifying is not None else None
    has_values = usp is not None and any(
        etree.QName(e).localname in ("CertificateValues", "RevocationValues") for e in usp if isinstance(e.tag, str)
    )
    if TimestampKind.SIGNATURE not in kinds:
        return f"{prefix}-B"
    if has_values and evidence.material.revocation_count > 0:
        return f"{prefix}-LT"
    return f"{prefix}-T"
