"""ETSI TS 119 612 trusted lists as plain, frozen Python values.

The parser (tsl_parse) turns XML into these; the store persists them; the registry indexes them; qualification
reads them. URIs are reduced here to the tokens the standard defines (``CA/QC``, ``granted``, ``QCWithQSCD``),
whatever namespace variant the list used (``eSigDir-1999-93-EC-TrustedList`` or ``TrustedList``, http or https),
so that nothing downstream compares URI strings.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "ServiceStatus",
    "Qualifier",
    "AdditionalInfo",
    "Criteria",
    "QualificationElement",
    "DigitalIdentity",
    "ServiceState",
    "TrustService",
    "TrustServiceProvider",
    "TslPointer",
    "TrustedList",
    "ListVerification",
    "CA_QC",
    "TSA_QTST",
]

#: Service type tokens (TS 119 612 § 5.5.1) that trustsvc acts on; others are kept as their token.
CA_QC = "CA/QC"
CA_PKC = "CA/PKC"
TSA_QTST = "TSA/QTST"
TSA = "TSA"
OCSP_QC = "Certstatus/OCSP/QC"
CRL_QC = "Certstatus/CRL/QC"
NATIONAL_ROOT_CA_QC = "NationalRootCA-QC"


class ServiceStatus(enum.StrEnum):
    """Service status (TS 119 612 § 5.5.4), with the pre-eIDAS values of TS 102 231 / TS 119 612 v1."""

    GRANTED = "granted"
    WITHDRAWN = "withdrawn"
    RECOGNISED_AT_NATIONAL_LEVEL = "recognisedatnationallevel"
    DEPRECATED_AT_NATIONAL_LEVEL = "deprecatedatnationallevel"
    UNDER_SUPERVISION = "undersupervision"
    SUPERVISION_IN_CESSATION = "supervisionincessation"
    SUPERVISION_CEASED = "supervisionceased"
    SUPERVISION_REVOKED = "supervisionrevoked"
    ACCREDITED = "accredited"
    ACCREDITATION_CEASED = "accreditationceased"
    ACCREDITATION_REVOKED = "accreditationrevoked"
    SET_BY_NATIONAL_LAW = "setbynationallaw"
    UNKNOWN = "unknown"

    @property
    def is_positive(self) -> bool:
        """A status under which a service is in good standing (qualified, or trusted at national level)."""
        return self in _POSITIVE


_POSITIVE = {
    ServiceStatus.GRANTED,
    ServiceStatus.RECOGNISED_AT_NATIONAL_LEVEL,
    ServiceStatus.UNDER_SUPERVISION,
    ServiceStatus.SUPERVISION_IN_CESSATION,
    ServiceStatus.ACCREDITED,
    ServiceStatus.SET_BY_NATIONAL_LAW,
}


class Qualifier(enum.StrEnum):
    """Sie qualifiers (TS 119 612 § 5.5.9.2), spelled as the standard spells them."""

    QC_STATEMENT = "QCStatement"
    NOT_QUALIFIED = "NotQualified"
    QC_WITH_SSCD = "QCWithSSCD"
    QC_NO_SSCD = "QCNoSSCD"
    QC_SSCD_STATUS_AS_IN_CERT = "QCSSCDStatusAsInCert"
    QC_WITH_QSCD = "QCWithQSCD"
    QC_NO_QSCD = "QCNoQSCD"
    QC_QSCD_STATUS_AS_IN_CERT = "QCQSCDStatusAsInCert"
    QC_QSCD_MANAGED_ON_BEHALF = "QCQSCDManagedOnBehalf"
    QC_FOR_LEGAL_PERSON = "QCForLegalPerson"
    QC_FOR_ESIG = "QCForESig"
    QC_FOR_ESEAL = "QCForESeal"
    QC_FOR_WSA = "QCForWSA"


class AdditionalInfo(enum.StrEnum):
    """additionalServiceInformation values (TS 119 612 § 5.5.9.4) that restrict the type of qualified certificates."""

    FOR_ESIGNATURES = "ForeSignatures"
    FOR_ESEALS = "ForeSeals"
    FOR_WEB_SITE_AUTHENTICATION = "ForWebSiteAuthentication"
    ROOT_CA_QC = "RootCA-QC"


@dataclass(frozen=True)
class Criteria:
    """A CriteriaList (TS 119 612 § 5.5.9.2.1): which certificates a qualification applies to.

    Each tuple holds one requirement per XML element; a requirement is met when the certificate satisfies it.

    :param assert_: ``all``, ``atLeastOne`` or ``none`` (the XML attribute ``assert``).
    :param key_usage: per KeyUsage element, bit name -> required value (``nonRepudiation`` -> True).
    :param policy_sets: per PolicySet element, the policy OIDs that must all be present.
    :param subject_dn_attributes: per CertSubjectDNAttribute element, the attribute OIDs that must all be present.
    :param extended_key_usages: per ExtendedKeyUsage element, the key purpose OIDs that must all be present.
    :param nested: nested CriteriaList elements.
    :param unknown: names of criteria this version does not understand (the criteria list then never matches).
    """

    assert_: str = "all"
    key_usage: tuple[tuple[tuple[str, bool], ...], ...] = ()
    policy_sets: tuple[frozenset[str], ...] = ()
    subject_dn_attributes: tuple[frozenset[str], ...] = ()
    extended_key_usages: tuple[frozenset[str], ...] = ()
    nested: tuple[Criteria, ...] = ()
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True)
class QualificationElement:
    """One Qualifications/QualificationElement: qualifiers that apply to certificates meeting the criteria."""

    qualifiers: frozenset[Qualifier]
    criteria: Criteria
    unknown_qualifiers: tuple[str, ...] = ()


@dataclass(frozen=True)
class DigitalIdentity:
    """ServiceDigitalIdentity: how a service is recognised (TS 119 612 § 5.5.3).

    :param certificates: DER certificates.
    :param subject_names: X509SubjectName values as written in the list (RFC 4514-like strings).
    :param skis: X509SKI values (subject key identifiers).
    """

    certificates: tuple[bytes, ...] = ()
    subject_names: tuple[str, ...] = ()
    skis: tuple[bytes, ...] = ()
    other: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServiceState:
    """A service as it stood from `start` on: the current information, or one ServiceHistoryInstance.

    :param type: the service type token, e.g. ``CA/QC`` (the part after ``.../Svctype/``).
    :param start: StatusStartingTime, UTC.
    :param critical_extension_not_understood: an extension marked critical that this parser does not know
        (TS 119 612 § 5.5.9: a relying party must then not use the service).
    """

    type: str
    name: str
    status: ServiceStatus
    start: datetime
    identity: DigitalIdentity
    qualifications: tuple[QualificationElement, ...] = ()
    additional_info: frozenset[str] = frozenset()
    expired_certs_revocation_info: datetime | None = None
    critical_extension_not_understood: bool = False
    status_uri: str = ""
    type_uri: str = ""


@dataclass(frozen=True)
class TrustService:
    """A TSPService: its current state and its history, newest first (the current state first of all)."""

    current: ServiceState
    history: tuple[ServiceState, ...] = ()

    @property
    def states(self) -> tuple[ServiceState, ...]:
        """Every known state, newest first."""
        return (self.current, *self.history)

    def state_at(self, moment: datetime) -> ServiceState | None:
        """The state in force at `moment` (the latest state that started at or before it), None before the first."""
        for state in sorted(self.states, key=lambda s: s.start, reverse=True):
            if state.start <= moment:
                return state
        return None


@dataclass(frozen=True)
class TrustServiceProvider:
    name: str
    trade_names: tuple[str, ...]
    services: tuple[TrustService, ...]


@dataclass(frozen=True)
class TslPointer:
    """PointersToOtherTSL/OtherTSLPointer: where another list lives and who may sign it (TS 119 612 § 5.3.13)."""

    location: str
    territory: str | None
    tsl_type: str | None
    mime_type: str | None
    signer_certificates: tuple[bytes, ...]
    operator_name: str | None = None


@dataclass(frozen=True)
class TrustedList:
    """A parsed TrustServiceStatusList.

    :param tsl_type: the TSLType token, e.g. ``EUgeneric`` or ``EUlistofthelists``.
    :param scheme_information_uris: SchemeInformationURI values; in the EU LOTL they name the Official Journal
        publication of the signer certificates and the previous (pivot) LOTLs.
    """

    version: int
    sequence: int
    tsl_type: str
    territory: str
    operator_name: str
    issued: datetime
    next_update: datetime | None
    pointers: tuple[TslPointer, ...] = ()
    providers: tuple[TrustServiceProvider, ...] = ()
    scheme_information_uris: tuple[str, ...] = ()
    distribution_points: tuple[str, ...] = ()
    namespace: str = field(default="", compare=False)

    @property
    def is_lotl(self) -> bool:
        return self.tsl_type.endswith("listofthelists")

    @property
    def label(self) -> str:
        """How reports name the list, e.g. ``TL FR #174`` or ``LOTL EU #332``."""
        return list_label(self.is_lotl, self.territory, self.sequence)

    def services(self):
        """Every (provider, service) pair of the list."""
        for provider in self.providers:
            for service in provider.services:
                yield provider, service


@dataclass(frozen=True)
class ListVerification:
    """The outcome of authenticating one list's XAdES signature against the signers allowed for it.

    :param verified: the signature is intact, covers the whole list, and is by an allowed signer.
    :param code: a stable reason code when not verified (``no-signature``, ``broken-signature``,
        ``signer-not-announced``, ``wrapped``, ``unparseable``, ...).
    :param signing_time: the XAdES SigningTime, if present.
    """

    verified: bool
    signer_certificate: bytes | None = None
    code: str | None = None
    reason: str | None = None
    signing_time: datetime | None = None


def list_label(is_lotl: bool, territory: str | None, sequence: int | None) -> str:
    """The name reports give a list version, whether it comes from the store or straight from a refresh."""
    kind = "LOTL" if is_lotl else "TL"
    return f"{kind} {territory or '?'} #{sequence if sequence is not None else '?'}"
