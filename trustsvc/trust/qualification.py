"""Qualification of a certificate and of a signature at a given time (ETSI TS 119 615, EU DSS's algorithm).

For the signer's certificate, the CA/QC services that issued it (any CA of its path) are looked up in the trusted
lists, and their status and qualifiers are read *as of* the time in question, from the service history:

1. the service must be in a qualified status then: ``granted`` from 2016-06-30T22:00Z (the eIDAS migration,
   TS 119 615 PRO-4.4.4-07), ``undersupervision``/``supervisionincessation``/``accredited`` before;
2. the certificate is qualified if it says so (QcCompliance; before eIDAS also the QCP policy OIDs of
   TS 101 456) or the list says so (QCStatement), unless the list says NotQualified;
3. its type comes from the list's QCForESig/QCForESeal/QCForWSA, else the certificate's QcType, else the
   service's additionalServiceInformation, else (legacy) e-signature; it must be one the service may issue;
4. QSCD comes from the list's QCWithQSCD/QCNoQSCD (and SSCD forms), else from the certificate (QcSSCD; before
   eIDAS the QCP+ policy 0.4.0.1456.1.1, which pyHanko swaps with 1456.1.2).

This is done at the certificate's issuance and at the best signature time; the certificate is qualified only if
it is qualified at both, its type is kept only if the same at both, and QSCD is taken at the best signature time.
The list overrides what the certificate claims: qualifiers only apply to certificates that meet their criteria.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache

from asn1crypto import x509

from .registry import ListedService, TrustRegistry
from .tsl_model import CA_QC, TSA_QTST, AdditionalInfo, Criteria, Qualifier, ServiceStatus

__all__ = [
    "EIDAS_DATE",
    "CertQualification",
    "QualificationAtTime",
    "CertificateQualification",
    "qualify_certificate",
    "signature_qualification",
    "timestamp_qualified",
]

EIDAS_DATE = datetime(2016, 6, 30, 22, 0, tzinfo=timezone.utc)
"""1 July 2016 00:00 Brussels time: statuses switch from the Directive 1999/93/EC values to granted/withdrawn."""

QCP_PUBLIC_WITH_SSCD = "0.4.0.1456.1.1"  # TS 101 456 QCP+ (pyHanko has these two swapped)
QCP_PUBLIC = "0.4.0.1456.1.2"
_QCT = {"qct_esign": "esig", "qct_eseal": "eseal", "qct_web": "wsa"}
_PRE_EIDAS_STATUSES = {
    ServiceStatus.UNDER_SUPERVISION,
    ServiceStatus.SUPERVISION_IN_CESSATION,
    ServiceStatus.ACCREDITED,
}
_TL_KEY_USAGE = {
    "digitalSignature": "digital_signature",
    "nonRepudiation": "non_repudiation",
    "contentCommitment": "non_repudiation",
    "keyEncipherment": "key_encipherment",
    "dataEncipherment": "data_encipherment",
    "keyAgreement": "key_agreement",
    "keyCertSign": "key_cert_sign",
    "crlSign": "crl_sign",
    "encipherOnly": "encipher_only",
    "decipherOnly": "decipher_only",
}


class CertQualification(enum.StrEnum):
    """The qualification of a certificate at one time (names after EU DSS's CertificateQualification)."""

    QC_FOR_ESIG_QSCD = "QC_FOR_ESIG_QSCD"
    QC_FOR_ESIG = "QC_FOR_ESIG"
    QC_FOR_ESEAL_QSCD = "QC_FOR_ESEAL_QSCD"
    QC_FOR_ESEAL = "QC_FOR_ESEAL"
    QC_FOR_WSA = "QC_FOR_WSA"
    QC_FOR_UNKNOWN_QSCD = "QC_FOR_UNKNOWN_QSCD"
    QC_FOR_UNKNOWN = "QC_FOR_UNKNOWN"
    CERT_FOR_ESIG = "CERT_FOR_ESIG"
    CERT_FOR_ESEAL = "CERT_FOR_ESEAL"
    CERT_FOR_WSA = "CERT_FOR_WSA"
    CERT_FOR_UNKNOWN = "CERT_FOR_UNKNOWN"
    NA = "NA"

    @property
    def qualified(self) -> bool:
        return self.value.startswith("QC_")

    @property
    def qscd(self) -> bool:
        return self.value.endswith("_QSCD")


def _label(qualified: bool, type_: str | None, qscd: bool) -> CertQualification:
    kind = {"esig": "ESIG", "eseal": "ESEAL", "wsa": "WSA"}.get(type_ or "", "UNKNOWN")
    if not qualified:
        return CertQualification(f"CERT_FOR_{kind}")
    if kind == "WSA":
        return CertQualification.QC_FOR_WSA
    return CertQualification(f"QC_FOR_{kind}" + ("_QSCD" if qscd else ""))


@dataclass(frozen=True)
class CertFacts:
    """What a certificate itself says about its qualification."""

    qc_compliance: bool
    qc_types: frozenset[str]
    qc_sscd: bool
    qc_legislation: frozenset[str]
    policies: frozenset[str]
    key_usage: frozenset[str]
    extended_key_usage: frozenset[str]
    subject_attributes: frozenset[str]
    natural_person: bool

    @classmethod
    def of(cls, cert: x509.Certificate) -> CertFacts:
        qc_compliance = qc_sscd = False
        types: set[str] = set()
        legislation: set[str] = set()
        for ext in cert["tbs_certificate"]["extensions"] or ():
            if ext["extn_id"].native != "qc_statements":
                continue
            for statement in ext["extn_value"].parsed:
                sid = statement["statement_id"].native
                if sid == "qc_compliance":
                    qc_compliance = True
                elif sid == "qc_sscd":
                    qc_sscd = True
                elif sid == "qc_type":
                    types.update(_QCT.get(t, t) for t in statement["statement_info"].native or ())
                elif sid == "qc_cc_legislation":
                    legislation.update(statement["statement_info"].native or ())
        policies = frozenset(p["policy_identifier"].dotted for p in cert.certificate_policies_value or ())
        key_usage = frozenset(cert.key_usage_value.native) if cert.key_usage_value is not None else frozenset()
        eku = frozenset()
        if cert.extended_key_usage_value is not None:
            eku = frozenset(p.dotted for p in cert.extended_key_usage_value)
        attributes = frozenset(atv["type"].dotted for rdn in cert.subject.chosen for atv in rdn)
        try:
            names = set(cert.subject.native)
        except ValueError:
            names = set()
        natural = bool({"given_name", "surname", "pseudonym"} & names)
        return cls(
            qc_compliance,
            frozenset(types),
            qc_sscd,
            frozenset(legislation),
            policies,
            key_usage,
            eku,
            attributes,
            natural,
        )


@lru_cache(maxsize=1024)
def _facts(der: bytes) -> CertFacts:
    """CertFacts of a certificate, decoded once however many services and moments are asked about."""
    return CertFacts.of(x509.Certificate.load(der))


def criteria_match(criteria: Criteria, facts: CertFacts) -> bool:
    """Does a certificate meet a CriteriaList (TS 119 612 § 5.5.9.2.1)? Unknown criteria never match."""
    if criteria.unknown:
        return False
    results: list[bool] = []
    for bits in criteria.key_usage:
        results.append(all((_TL_KEY_USAGE.get(name, name) in facts.key_usage) == value for name, value in bits))
    for policies in criteria.policy_sets:
        results.append(policies <= facts.policies)
    for attributes in criteria.subject_dn_attributes:
        results.append(attributes <= facts.subject_attributes)
    for purposes in criteria.extended_key_usages:
        results.append(purposes <= facts.extended_key_usage)
    for nested in criteria.nested:
        results.append(criteria_match(nested, facts))
    if criteria.assert_ == "atLeastOne":
        return any(results)
    if criteria.assert_ == "none":
        return not any(results)
    return all(results)


@dataclass(frozen=True)
class QualificationAtTime:
    """The outcome at one time, with the service it came from and why."""

    label: CertQualification
    service: ListedService | None = None
    notes: tuple[str, ...] = ()


def _qualified_status(status: ServiceStatus, moment: datetime) -> bool:
    if moment >= EIDAS_DATE:
        return status == ServiceStatus.GRANTED
    return status in _PRE_EIDAS_STATUSES or status == ServiceStatus.GRANTED


def _from_service(listed: ListedService, facts: CertFacts, cert: x509.Certificate, moment: datetime):
    """(qualified, type, qscd, notes) that one CA/QC service gives this certificate at `moment`."""
    state = listed.state_at(moment)
    if state is None or state.type != CA_QC:
        return None
    if not _qualified_status(state.status, moment):
        return False, None, False, (f"{listed.list_label}: the service was {state.status.value} then",)
    qualifiers: set[Qualifier] = set()
    for element in state.qualifications:
        if criteria_match(element.criteria, facts):
            qualifiers |= element.qualifiers
    notes: list[str] = []
    pre_eidas_cert = cert.not_valid_before < EIDAS_DATE
    claims_qc = facts.qc_compliance or (pre_eidas_cert and bool({QCP_PUBLIC, QCP_PUBLIC_WITH_SSCD} & facts.policies))
    qualified = (claims_qc or Qualifier.QC_STATEMENT in qualifiers) and Qualifier.NOT_QUALIFIED not in qualifiers
    if facts.qc_legislation and listed.territory not in facts.qc_legislation:
        qualified = False
        notes.append(
            f"qualified under the legislation of {', '.join(sorted(facts.qc_legislation))}, not of {listed.territory}"
        )
    type_ = _type(qualifiers, facts, state.additional_info, pre_eidas_cert)
    allowed = {
        AdditionalInfo.FOR_ESIGNATURES: "esig",
        AdditionalInfo.FOR_ESEALS: "eseal",
        AdditionalInfo.FOR_WEB_SITE_AUTHENTICATION: "wsa",
    }
    service_types = {allowed[a] for a in state.additional_info if a in allowed}
    if qualified and service_types and type_ is not None and type_ not in service_types:
        qualified = False
        notes.append(f"{listed.list_label}: the service does not issue qualified certificates for {type_}")
    return qualified, type_, _qscd(qualifiers, facts, pre_eidas_cert), tuple(notes)


def _type(qualifiers: set[Qualifier], facts: CertFacts, additional_info: Iterable[str], pre_eidas: bool) -> str | None:
    from_list = {q for q in (Qualifier.QC_FOR_ESIG, Qualifier.QC_FOR_ESEAL, Qualifier.QC_FOR_WSA) if q in qualifiers}
    if len(from_list) == 1:
        return {Qualifier.QC_FOR_ESIG: "esig", Qualifier.QC_FOR_ESEAL: "eseal", Qualifier.QC_FOR_WSA: "wsa"}[
            from_list.pop()
        ]
    if from_list:
        return None  # contradictory qualifiers
    if Qualifier.QC_FOR_LEGAL_PERSON in qualifiers:
        return "eseal"
    if len(facts.qc_types) == 1:
        return next(iter(facts.qc_types))
    if len(facts.qc_types) > 1:
        return None
    asi = {
        {"ForeSignatures": "esig", "ForeSeals": "eseal", "ForWebSiteAuthentication": "wsa"}[a]
        for a in additional_info
        if a in ("ForeSignatures", "ForeSeals", "ForWebSiteAuthentication")
    }
    if len(asi) == 1:
        return asi.pop()
    return "esig" if pre_eidas or not asi else None


def _qscd(qualifiers: set[Qualifier], facts: CertFacts, pre_eidas: bool) -> bool:
    no = {Qualifier.QC_NO_QSCD, Qualifier.QC_NO_SSCD} & qualifiers
    yes = {Qualifier.QC_WITH_QSCD, Qualifier.QC_WITH_SSCD, Qualifier.QC_QSCD_MANAGED_ON_BEHALF} & qualifiers
    if no and yes:
        return False  # contradictory: never assume a secure device
    if no:
        return False
    if yes:
        return True
    return facts.qc_sscd or (pre_eidas and QCP_PUBLIC_WITH_SSCD in facts.policies)


def qualification_at(
    registry: TrustRegistry, cert: x509.Certificate, issuers: Iterable[x509.Certificate], moment: datetime
) -> QualificationAtTime:
    """The certificate's qualification at `moment`, from the CA/QC services that issued it (or any of its CAs)."""
    facts = _facts(cert.dump())
    outcomes = []
    for issuer in issuers:
        for listed in registry.services_for_key(issuer):
            result = _from_service(listed, facts, cert, moment)
            if result is not None:
                outcomes.append((listed, result))
    if not outcomes:
        return QualificationAtTime(
            _label(False, _non_qc_type(facts, None), False),
            None,
            ("no qualified (CA/QC) service in the trusted lists issued this certificate",),
        )
    distinct = {(q, t, s) for _, (q, t, s, _) in outcomes}
    notes = tuple(n for _, (_, _, _, ns) in outcomes for n in ns)
    listed = outcomes[0][0]
    if len(distinct) > 1:
        return QualificationAtTime(
            _label(False, _non_qc_type(facts, None), False),
            listed,
            (*notes, "the trusted lists give conflicting qualifications for this certificate"),
        )
    qualified, type_, qscd = distinct.pop()
    if not qualified:
        return QualificationAtTime(_label(False, _non_qc_type(facts, type_), False), listed, notes)
    return QualificationAtTime(_label(True, type_, qscd), listed, notes)


def _non_qc_type(facts: CertFacts, type_: str | None) -> str | None:
    if type_ is not None:
        return type_
    if len(facts.qc_types) == 1:
        return next(iter(facts.qc_types))
    return "esig" if facts.natural_person else None


@dataclass(frozen=True)
class CertificateQualification:
    """Qualification at issuance, at the best signature time, and the combination of both."""

    at_issuance: QualificationAtTime
    at_signing: QualificationAtTime
    final: CertQualification
    notes: tuple[str, ...] = field(default=())


def qualify_certificate(
    registry: TrustRegistry, cert: x509.Certificate, issuers: Iterable[x509.Certificate], best_signature_time: datetime
) -> CertificateQualification:
    issuers = list(issuers)
    at_issuance = qualification_at(registry, cert, issuers, cert.not_valid_before)
    at_signing = qualification_at(registry, cert, issuers, best_signature_time)
    a, b = at_issuance.label, at_signing.label
    notes = tuple(dict.fromkeys(at_issuance.notes + at_signing.notes))
    if a.qualified and b.qualified:
        final = b if _kind(a) == _kind(b) else _label(True, None, b.qscd)
    elif b.qualified:
        final = _label(False, _kind(b), False)
        notes += ("not qualified when the certificate was issued",)
    else:
        final = b
    return CertificateQualification(at_issuance, at_signing, final, notes)


def _kind(label: CertQualification) -> str | None:
    for token, kind in (("ESIG", "esig"), ("ESEAL", "eseal"), ("WSA", "wsa")):
        if f"_FOR_{token}" in label.value:
            return kind
    return None


_SIGNATURE_LEVEL = {
    CertQualification.QC_FOR_ESIG_QSCD: "QESig",
    CertQualification.QC_FOR_ESIG: "AdESig-QC",
    CertQualification.QC_FOR_ESEAL_QSCD: "QESeal",
    CertQualification.QC_FOR_ESEAL: "AdESeal-QC",
    CertQualification.QC_FOR_UNKNOWN_QSCD: "UNKNOWN_QC_QSCD",
    CertQualification.QC_FOR_UNKNOWN: "UNKNOWN_QC",
    CertQualification.QC_FOR_WSA: "NOT_ADES",
    CertQualification.CERT_FOR_ESIG: "AdESig",
    CertQualification.CERT_FOR_ESEAL: "AdESeal",
    CertQualification.CERT_FOR_WSA: "NOT_ADES",
    CertQualification.CERT_FOR_UNKNOWN: "UNKNOWN",
    CertQualification.NA: "INDETERMINATE",
}


def signature_qualification(indication: str, final: CertQualification) -> str:
    """The signature's qualification (EU DSS's SignatureQualification matrix, contract spellings).

    A signature that did not pass gives INDETERMINATE (not established) or NOT_ADES (failed).
    """
    if indication == "TOTAL_FAILED":
        return "NOT_ADES"
    if indication != "TOTAL_PASSED":
        return "INDETERMINATE"
    return _SIGNATURE_LEVEL[final]


def timestamp_qualified(registry: TrustRegistry, tsa_cert: x509.Certificate, at: datetime) -> bool:
    """A qualified time-stamp: the TSA's own certificate is a TSA/QTST service granted at the time-stamp's time."""
    for listed in registry.services_for_key(tsa_cert):
        state = listed.state_at(at)
        if state is not None and state.type == TSA_QTST and _qualified_status(state.status, at):
            return True
    return False
