"""Trusted lists for tests, built directly as model values from the test PKI (no XML involved).

Each scenario of the issue is one service: granted, withdrawn after / before signing, QSCD given or denied by a
qualifier, a national-level (non-qualified) CA, qualified and non-qualified TSAs.
"""

from __future__ import annotations

from datetime import datetime, timezone

import testpki
from trustsvc.trust.tsl_model import (
    CA_PKC,
    CA_QC,
    TSA,
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
)

LISTED_SINCE = datetime(2020, 1, 1, tzinfo=timezone.utc)
QCP_N = "0.4.0.194112.1.0"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def state(country: str, label: str, type_: str, status: ServiceStatus, start: datetime, **extra) -> ServiceState:
    cert = testpki.cert(country, label)
    return ServiceState(
        type=type_,
        name=cert.subject.native["common_name"],
        status=status,
        start=start,
        identity=DigitalIdentity(certificates=(cert.dump(),)),
        **extra,
    )


def service(*states: ServiceState) -> TrustService:
    newest_first = sorted(states, key=lambda s: s.start, reverse=True)
    return TrustService(current=newest_first[0], history=tuple(newest_first[1:]))


def qualified_ca(country: str, *history: tuple[ServiceStatus, datetime], **extra) -> TrustService:
    states = [state(country, "qca", CA_QC, status, start, **extra) for status, start in history]
    return service(*states)


def national_list(country: str, qca: TrustService, sequence: int = 1) -> TrustedList:
    """A member state's list: its qualified CA as given, its national-level CA, its qualified and plain TSA."""
    services = (
        qca,
        service(state(country, "ca", CA_PKC, ServiceStatus.RECOGNISED_AT_NATIONAL_LEVEL, LISTED_SINCE)),
        service(state(country, "qtsa", TSA_QTST, ServiceStatus.GRANTED, LISTED_SINCE)),
        service(state(country, "tsa", TSA, ServiceStatus.RECOGNISED_AT_NATIONAL_LEVEL, LISTED_SINCE)),
    )
    provider = TrustServiceProvider(
        name=f"{country.upper()} Test Trust Service Provider", trade_names=(), services=services
    )
    return TrustedList(
        version=6,
        sequence=sequence,
        tsl_type="EUgeneric",
        territory=country.upper(),
        operator_name=f"{country.upper()} supervisory body (test)",
        issued=utc(2026, 8, 1),
        next_update=utc(2027, 2, 1),
        providers=(provider,),
    )


def pilot_lists() -> list[tuple[TrustedList, str]]:
    """The five pilot lists of the demo, one scenario each (see trust_lists/README)."""
    esig_and_eseal = frozenset({AdditionalInfo.FOR_ESIGNATURES, AdditionalInfo.FOR_ESEALS})
    qscd_for_qcp_n = QualificationElement(
        qualifiers=frozenset({Qualifier.QC_WITH_QSCD}), criteria=Criteria(policy_sets=(frozenset({QCP_N}),))
    )
    no_qscd = QualificationElement(
        qualifiers=frozenset({Qualifier.QC_NO_QSCD}), criteria=Criteria(key_usage=((("nonRepudiation", True),),))
    )
    lists = {
        # FR: granted; the list says QCP-n certificates are on a QSCD (the certificate does not)
        "fr": national_list(
            "fr",
            qualified_ca(
                "fr",
                (ServiceStatus.GRANTED, LISTED_SINCE),
                additional_info=esig_and_eseal,
                qualifications=(qscd_for_qcp_n,),
            ),
        ),
        # IT: withdrawn on 2026-11-10, after the samples were signed (2026-11-02)
        "it": national_list(
            "it",
            qualified_ca(
                "it",
                (ServiceStatus.GRANTED, LISTED_SINCE),
                (ServiceStatus.WITHDRAWN, utc(2026, 11, 10)),
                additional_info=esig_and_eseal,
            ),
        ),
        # CZ: withdrawn on 2026-10-01, before the samples were signed
        "cz": national_list(
            "cz",
            qualified_ca(
                "cz",
                (ServiceStatus.GRANTED, LISTED_SINCE),
                (ServiceStatus.WITHDRAWN, utc(2026, 10, 1)),
                additional_info=esig_and_eseal,
            ),
        ),
        # SE: granted, nothing special
        "se": national_list(
            "se", qualified_ca("se", (ServiceStatus.GRANTED, LISTED_SINCE), additional_info=esig_and_eseal)
        ),
        # ES: granted, but the list denies QSCD to signing certificates although they claim it
        "es": national_list(
            "es",
            qualified_ca(
                "es", (ServiceStatus.GRANTED, LISTED_SINCE), additional_info=esig_and_eseal, qualifications=(no_qscd,)
            ),
        ),
    }
    return [(tl, f"TL {country.upper()} #{tl.sequence}") for country, tl in lists.items()]
