"""ETSI TS 119 102-2 (V1.2.1 schema) XML signature validation report, built from trustsvc's own verdict model.

Why: the platforms archive a standard report next to the JSON verdict. pyHanko's generator
(``pyhanko.sign.validation.report.tools``) covers PDF only and needs pyHanko's internal status objects; this module
renders any `Report` (PAdES, CAdES, RFC 3161, and later XAdES/ASiC, which share the verdict model). It builds the
document with the xsdata dataclasses pyHanko ships for the schema (``pyhanko.generated.etsi.ts_11910202``) and
serializes it with xsdata, so the output keeps the schema's shape. Nothing is invented: an element whose content the
verdict does not hold is left out (the schema makes most of them optional). Same report in, same bytes out: every id
is derived from the data.

How the verdict maps (``vr:`` is ``http://uri.etsi.org/19102/v1.2.1#``), one ``vr:SignatureValidationReport`` per
`SignatureVerdict`:

* ``SignatureIdentifier``: ``@id`` = the verdict id (``sig-1``, ``tst-1``), ``HashOnly``/``DocHashOnly`` false. No
  ``DigestAlgAndValue`` or ``ds:SignatureValue``: the verdict keeps neither the DTBSR digest nor the value.
* ``ValidationTimeInfo``: ``ValidationTime`` = the report's validation time; ``BestSignatureTime`` = a POE (type of
  proof ``urn:etsi:019102:poetype:validation``) at the verdict's best signature time. The schema requires it; when
  the verdict established none (the signature failed) it is the validation time, at which the validator held the
  signature (EN 319 102-1 starts best-signature-time at the current time).
* ``SignatureAttributes``: ``SigningTime`` = the claimed signing time; each time-stamp with a time as
  ``SignatureTimeStamp`` / ``AllDataObjectsTimeStamp`` (content, TS 119 102-2 A.6.3) / ``ArchiveTimeStamp`` /
  ``DocTimeStamp``, with ``TimeStampValue`` and a reference to its validation object. ``@Signed`` is left out: the
  verdict does not say which attributes were signed.
* ``SignerInformation``: ``SignerCertificate`` references a certificate validation object
  ``vo-certificate-<sha256>`` (pyHanko's id scheme), represented by its SHA-256 ``DigestAlgAndValue`` (we do not keep
  the DER); ``Signer`` = the subject; ``@Pseudonym`` when the certificate facts say so.
* ``SignatureQuality``: the signature qualification as the TS 119 172-4 Annex A URN (``urn:oid:0.4.0.191724.1.2.1``
  QESig, ``.2`` AdESig-QC, ``.3`` AdESig, ``.4`` QESeal, ``.5`` AdESeal-QC, ``.6`` AdESeal); left out for the
  other labels (INDETERMINATE, NOT_ADES, UNKNOWN*), which are still given as report data (below).
* ``SignatureValidationProcess``: ``urn:etsi:019102:validationprocess:LTA`` when the signature has an archive or
  document time-stamp, ``LTVM`` when it has another time-stamp, else ``Basic``; a standalone RFC 3161 token is
  validated as it stands: ``Basic``.
* ``SignatureValidationStatus``: ``MainIndication`` / ``SubIndication`` = the EN 319 102-1 URIs of the verdict, and
  one ``AssociatedValidationReportData`` with ``TrustAnchor`` (a reference to the anchor's validation object),
  ``RelatedValidationObject`` (time-stamps without a time, which no attribute can carry) and
  ``AdditionalValidationReportData/ReportData`` entries:

  - the verdict's errors, warnings and infos (and the document's errors) with the message types EU DSS uses,
    ``urn:cef:dss:message:error|warning|information``, value ``CODE: message``;
  - what the schema has no element for, typed ``urn:trustsvc:reportdata:<key>``, value text: ``format``, ``level``,
    ``scope``, ``trust-anchor-source``, ``qualification`` (the label), ``qualification-at-issuance``,
    ``qualification-at-signing``, ``qualification-note``; the trust summary of the report (``trust-source``,
    ``trust-snapshot``, one ``trust-list`` / ``trust-stale`` per list, ``trust-anchors``, ``trust-warning``) and the
    document (``document-filename``, ``document-sha256``, ``document-format``). The trust summary goes here and not
    in ``vr:SignatureValidator``, whose mandatory ``DigitalId`` would be the validator's own identity, which we do
    not have.

``vr:SignatureValidationObjects`` lists, each once, in the order first met:

* the signers' certificates (above);
* the trust anchors (``urn:etsi:019102:validationObject:certificate``, id ``vo-trustanchor-<digest of the
  subject>``): the verdict knows the anchor's subject, not its certificate, so the representation is ``direct``
  with the subject DN; where trust in it came from is the signature's ``trust-anchor-source``;
* the time-stamps of every signature and of the document (PDF document time-stamps, `Report.timestamps`), type
  ``urn:etsi:019102:validationObject:timestamp``, id ``vo-timestamp-<digest of the time-stamp verdict and, but for
  a document time-stamp, its signature's id>`` (a document time-stamp judged alike in a signature and for the
  document is one object). The representation is ``direct``, a description (type, TSA, time), since the token is
  not kept. A valid time-stamp gets ``POEProvisioning/POETime`` = its time (the proof of existence it provides; no
  ``POE`` of the token itself: the verdict does not say what vouches for it); its own ``ValidationReport`` carries
  the indication with the URIs TS 119 102-2 prescribes for validation objects
  (``urn:etsi:019102:mainindication:passed|failed|indeterminate``), the sub-indication, its message, the TSA name,
  and ``SignatureQuality`` ``urn:oid:0.4.0.191724.1.2.7`` (EU qualified time-stamp) when the TSA is qualified.

A document without any signature still gets the one ``SignatureValidationReport`` the schema requires, with
``MainIndication`` ``urn:cef:dss:mainindication:noSignatureFound`` (EU DSS's answer to the same constraint) and the
document's errors, trust summary, validation time and time-stamps as report data.

Not carried: the pilots' policy decisions (`Report.policies`). ACCEPT / REJECT / MANUAL_REVIEW / RETRY are not
EN 319 102-1 indications, ``SignatureValidationPolicy`` needs a signature policy identifier (OID and digest) that a
pilot policy does not have, and ``ValidationConstraint`` reports need indications; they stay in the JSON report.
Neither are the certificate and revocation facts (``SignatureFacts``), the intermediate certificates, the
revocation data or the signed data objects: the verdict does not keep them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timezone

from pyhanko.generated.etsi import ts_11910202 as vr
from pyhanko.generated.etsi.xades import DigestAlgAndValueType
from pyhanko.generated.w3c.xmldsig_core import DigestMethod, DigestValue
from xsdata.formats.dataclass.serializers import XmlSerializer
from xsdata.formats.dataclass.serializers.config import SerializerConfig
from xsdata.models.datatype import XmlDateTime

from ..verdict import (
    Finding,
    Indication,
    Report,
    SignatureVerdict,
    SignerIdentity,
    SubIndication,
    TimestampVerdict,
    TrustAnchorRef,
)

__all__ = ["render_etsi_xml", "NAMESPACE", "SIGNATURE_QUALITY", "QUALIFIED_TIMESTAMP"]

NAMESPACE: str = vr.__NAMESPACE__
NAMESPACES = {"vr": NAMESPACE, "ds": "http://www.w3.org/2000/09/xmldsig#"}

#: TS 119 172-4 Annex A: the signature qualification labels of `Qualification.signature` as URNs.
SIGNATURE_QUALITY = {
    label: f"urn:oid:0.4.0.191724.1.2.{n}"
    for n, label in enumerate(("QESig", "AdESig-QC", "AdESig", "QESeal", "AdESeal-QC", "AdESeal"), start=1)
}
QUALIFIED_TIMESTAMP = "urn:oid:0.4.0.191724.1.2.7"

_PROCESS = "urn:etsi:019102:validationprocess:"
_OBJECT_TYPE = "urn:etsi:019102:validationObject:"
_POE_VALIDATION = "urn:etsi:019102:poetype:validation"
_NO_SIGNATURE_FOUND = "urn:cef:dss:mainindication:noSignatureFound"
_MESSAGE = {
    "error": "urn:cef:dss:message:error",
    "warning": "urn:cef:dss:message:warning",
    "info": "urn:cef:dss:message:information",
}
_DATA = "urn:trustsvc:reportdata:"
_SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
#: validation-object reports use passed/failed (TS 119 102-2), not the total-* of a signature's report
_OBJECT_INDICATION = {
    Indication.TOTAL_PASSED: "urn:etsi:019102:mainindication:passed",
    Indication.TOTAL_FAILED: "urn:etsi:019102:mainindication:failed",
    Indication.INDETERMINATE: "urn:etsi:019102:mainindication:indeterminate",
}
_TIMESTAMP_ATTRIBUTE = {
    "signature": "signature_time_stamp",
    "content": "all_data_objects_time_stamp",
    "archive": "archive_time_stamp",
    "document": "doc_time_stamp",
}


def render_etsi_xml(report: Report) -> bytes:
    """The report as a UTF-8 TS 119 102-2 ``vr:ValidationReport`` document (deterministic)."""
    objects = _Objects()
    document = _document_data(report)
    if report.signatures:
        reports = tuple(_signature_report(v, report, objects, document) for v in report.signatures)
    else:
        reports = (_no_signature_report(report, objects, document),)
    for ts in report.timestamps:
        objects.timestamp(ts)
    root = vr.ValidationReport(
        signature_validation_report=reports,
        signature_validation_objects=vr.ValidationObjectListType(objects.listed()) if objects.listed() else None,
    )
    serializer = XmlSerializer(config=SerializerConfig(indent="  ", encoding="UTF-8"))
    return serializer.render(root, ns_map=NAMESPACES).encode("utf-8")


class _Objects:
    """The validation objects of the report, each once, in the order first met; ids derived from their content."""

    def __init__(self) -> None:
        self._by_id: dict[str, vr.ValidationObjectType] = {}

    def listed(self) -> tuple[vr.ValidationObjectType, ...]:
        return tuple(self._by_id.values())

    def _add(self, vo_id: str, build: Callable[[str], vr.ValidationObjectType]) -> str:
        if vo_id not in self._by_id:
            self._by_id[vo_id] = build(vo_id)
        return vo_id

    def certificate(self, signer: SignerIdentity) -> str:
        digest = DigestAlgAndValueType(
            digest_method=DigestMethod(algorithm=_SHA256),
            digest_value=DigestValue(bytes.fromhex(signer.certificate_sha256)),
        )
        return self._add(
            f"vo-certificate-{signer.certificate_sha256.lower()}",
            lambda i: vr.ValidationObjectType(
                id=i,
                object_type=_OBJECT_TYPE + "certificate",
                validation_object_representation=vr.ValidationObjectRepresentationType(digest_alg_and_value=digest),
            ),
        )

    def anchor(self, anchor: TrustAnchorRef) -> str:
        return self._add(
            f"vo-trustanchor-{_digest(anchor.subject)}",
            lambda i: vr.ValidationObjectType(
                id=i,
                object_type=_OBJECT_TYPE + "certificate",
                validation_object_representation=vr.ValidationObjectRepresentationType(direct=anchor.subject),
            ),
        )

    def timestamp(self, ts: TimestampVerdict, owner: str | None = None) -> str:
        """A document time-stamp is the document's (one object however many signatures list it); any other
        belongs to its signature, `owner`."""
        owner = None if ts.type == "document" else owner
        fields = (owner, ts.type, _iso(ts.time), ts.indication, ts.subindication, ts.tsa, ts.qualified, ts.message)
        return self._add(f"vo-timestamp-{_digest('|'.join(map(str, fields)))}", lambda i: _timestamp_object(i, ts))


def _timestamp_object(vo_id: str, ts: TimestampVerdict) -> vr.ValidationObjectType:
    description = ", ".join(
        [f"{ts.type} time-stamp"] + ([f"TSA {ts.tsa}"] if ts.tsa else []) + ([_iso(ts.time)] if ts.time else [])
    )
    data = [(_MESSAGE["error" if ts.indication != Indication.TOTAL_PASSED else "info"], ts.message)]
    data += [(_DATA + "tsa", ts.tsa)]
    if ts.qualified is not None:
        data.append((_DATA + "tsa-qualified", "true" if ts.qualified else "false"))
    passed = ts.indication == Indication.TOTAL_PASSED
    return vr.ValidationObjectType(
        id=vo_id,
        object_type=_OBJECT_TYPE + "timestamp",
        validation_object_representation=vr.ValidationObjectRepresentationType(direct=description),
        poeprovisioning=vr.POEProvisioningType(poetime=_xml_time(ts.time)) if passed and ts.time else None,
        validation_report=vr.SignatureValidationReportType(
            signature_quality=vr.SignatureQualityType((QUALIFIED_TIMESTAMP,)) if ts.qualified else None,
            signature_validation_status=_status(_OBJECT_INDICATION[ts.indication], ts.subindication, data=data),
        ),
    )


def _signature_report(
    v: SignatureVerdict, report: Report, objects: _Objects, document: list[tuple[str, str | None]]
) -> vr.SignatureValidationReportType:
    cert_id = objects.certificate(v.signer) if v.signer else None
    anchor_id = objects.anchor(v.trust_anchor) if v.trust_anchor else None
    attributes: dict[str, list[vr.SATimestampType]] = {}
    untimed: list[str] = []
    for ts in v.timestamps:
        ts_id = objects.timestamp(ts, owner=v.id)
        attribute = _TIMESTAMP_ATTRIBUTE.get(ts.type)
        if ts.time is None or attribute is None:
            untimed.append(ts_id)
            continue
        attributes.setdefault(attribute, []).append(
            vr.SATimestampType(attribute_object=(_ref(ts_id),), time_stamp_value=_xml_time(ts.time))
        )
    signing_time = (vr.SASigningTimeType(time=_xml_time(v.claimed_signing_time)),) if v.claimed_signing_time else ()
    label = v.qualification.signature if v.qualification else None
    pseudonym = v.facts.signer.pseudonym if v.facts and v.facts.signer else None
    return vr.SignatureValidationReportType(
        signature_identifier=vr.SignatureIdentifierType(id=_ncname(v.id), hash_only=False, doc_hash_only=False),
        validation_time_info=vr.ValidationTimeInfoType(
            validation_time=_xml_time(report.validation_time),
            best_signature_time=vr.POEType(
                poetime=_xml_time(v.best_signature_time or report.validation_time), type_of_proof=_POE_VALIDATION
            ),
        ),
        signature_attributes=(
            vr.SignatureAttributesType(signing_time=signing_time, **{k: tuple(a) for k, a in attributes.items()})
            if signing_time or attributes
            else None
        ),
        signer_information=(
            vr.SignerInformationType(signer_certificate=_ref(cert_id), signer=v.signer.subject, pseudonym=pseudonym)
            if v.signer and cert_id
            else None
        ),
        signature_quality=vr.SignatureQualityType((SIGNATURE_QUALITY[label],)) if label in SIGNATURE_QUALITY else None,
        signature_validation_process=vr.SignatureValidationProcessType(signature_validation_process_id=_process(v)),
        signature_validation_status=_status(
            v.indication.uri,
            v.subindication,
            anchor=anchor_id,
            related=untimed,
            data=_messages(v.errors + report.document.errors, v.warnings, v.infos)
            + _signature_data(v)
            + _trust_data(report)
            + document,
        ),
    )


def _no_signature_report(
    report: Report, objects: _Objects, document: list[tuple[str, str | None]]
) -> vr.SignatureValidationReportType:
    return vr.SignatureValidationReportType(
        signature_validation_status=_status(
            _NO_SIGNATURE_FOUND,
            None,
            related=[objects.timestamp(ts) for ts in report.timestamps],
            data=_messages(report.document.errors, (), ())
            + [(_DATA + "validation-time", _iso(report.validation_time))]
            + _trust_data(report)
            + document,
        ),
    )


def _status(
    indication: str,
    sub: SubIndication | None,
    *,
    anchor: str | None = None,
    related: Iterable[str] = (),
    data: Iterable[tuple[str, str | None]] = (),
) -> vr.ValidationStatusType:
    typed = tuple(vr.TypedDataType(type_value=t, value=value) for t, value in data if value is not None)
    related_refs = tuple(_ref(i) for i in related)
    report_data = vr.ValidationReportDataType(
        trust_anchor=_ref(anchor) if anchor else None,
        related_validation_object=related_refs,
        additional_validation_report_data=vr.AdditionalValidationReportDataType(typed) if typed else None,
    )
    return vr.ValidationStatusType(
        main_indication=indication,
        sub_indication=(sub.uri,) if sub else (),
        associated_validation_report_data=(report_data,) if anchor or related_refs or typed else (),
    )


def _messages(
    errors: Iterable[Finding], warnings: Iterable[Finding], infos: Iterable[Finding]
) -> list[tuple[str, str | None]]:
    return [
        (_MESSAGE[kind], f"{f.code}: {f.message}")
        for kind, findings in (("error", errors), ("warning", warnings), ("info", infos))
        for f in findings
    ]


def _signature_data(v: SignatureVerdict) -> list[tuple[str, str | None]]:
    data = [(_DATA + "format", v.format), (_DATA + "level", v.level), (_DATA + "scope", v.scope)]
    if v.trust_anchor:
        data.append((_DATA + "trust-anchor-source", v.trust_anchor.source))
    if q := v.qualification:
        data += [
            (_DATA + "qualification", q.signature),
            (_DATA + "qualification-at-issuance", q.at_issuance),
            (_DATA + "qualification-at-signing", q.at_signing),
        ]
        data += [(_DATA + "qualification-note", note) for note in q.notes]
    return data


def _trust_data(report: Report) -> list[tuple[str, str | None]]:
    trust = report.trust
    if trust is None:
        return []
    snapshot = str(trust.snapshot_id) if trust.snapshot_id is not None else None
    return (
        [(_DATA + "trust-source", trust.source), (_DATA + "trust-snapshot", snapshot)]
        + [(_DATA + "trust-list", label) for label in trust.lists]
        + [(_DATA + "trust-stale", label) for label in trust.stale]
        + [(_DATA + "trust-anchors", str(trust.anchors)), (_DATA + "trust-warning", trust.warning)]
    )


def _document_data(report: Report) -> list[tuple[str, str | None]]:
    doc = report.document
    return [
        (_DATA + "document-filename", doc.filename),
        (_DATA + "document-sha256", doc.sha256),
        (_DATA + "document-format", doc.format),
    ]


def _process(v: SignatureVerdict) -> str:
    kinds = {ts.type for ts in v.timestamps}
    if v.format == "RFC3161" or not kinds:
        return _PROCESS + "Basic"
    return _PROCESS + ("LTA" if kinds & {"archive", "document"} else "LTVM")


def _ref(vo_id: str) -> vr.VOReferenceType:
    return vr.VOReferenceType(voreference=(vo_id,))


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _xml_time(moment: datetime) -> XmlDateTime:
    return XmlDateTime.from_datetime(_utc(moment))


def _iso(moment: datetime | None) -> str | None:
    return str(_xml_time(moment)) if moment is not None else None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _ncname(value: str) -> str:
    """An xs:ID: letters, digits, ``-``, ``_``, ``.``; not starting with a digit, ``-`` or ``.``."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", value)
    return cleaned if re.match(r"[A-Za-z_]", cleaned) else "sig-" + cleaned
