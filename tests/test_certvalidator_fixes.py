"""The two pyhanko-certvalidator corrections trusted-list validation relies on (trustsvc.formats.certvalidator_fixes).

Both are checked offline, with revocation data made by the test PKI: the trust anchor is the FR qualified CA as
its trusted-list service (not the root), the certificate was revoked on 2026-06-01 and is judged as of
2026-03-01, and the only revocation data is a CRL (fix 1) or an OCSP response (fix 2) issued after the revocation.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

import testpki
from demo_lists import pilot_lists
from regenerate import crl_for, ocsp_for
from trustsvc.formats.certpath import validate_certificate_path
from trustsvc.formats.material import ValidationMaterial
from trustsvc.formats.settings import ValidationSettings
from trustsvc.trust.provider import TrustedListTrust
from trustsvc.trust.registry import TrustRegistry
from trustsvc.verdict import SubIndication

BEFORE_REVOCATION = datetime(2026, 3, 1, 10, tzinfo=timezone.utc)
AFTER_REVOCATION = datetime(2026, 11, 28, 12, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def settings() -> ValidationSettings:
    trust = TrustedListTrust(TrustRegistry(pilot_lists(), snapshot_id=1))
    return ValidationSettings(validation_time=AFTER_REVOCATION, trust=trust, historical=True)


async def check(settings, *, crls=(), ocsps=(), at=BEFORE_REVOCATION):
    material = ValidationMaterial(certs=[testpki.cert("fr", "qca")], crls=list(crls), ocsps=list(ocsps))
    return await validate_certificate_path(testpki.cert("fr", "revoked-after"), material, settings, at)


async def test_a_crl_signed_by_a_listed_issuing_ca_is_usable(settings):
    result = await check(settings, crls=[crl_for("fr", "qca", AFTER_REVOCATION)])
    assert result.ok, result.message
    assert result.anchor.subject == testpki.cert("fr", "qca").subject


async def test_an_ocsp_revocation_after_the_control_time_means_good_then(settings):
    result = await check(settings, ocsps=[ocsp_for("fr", "revoked-after", "qca", AFTER_REVOCATION)])
    assert result.ok, result.message


async def test_the_same_data_still_says_revoked_after_the_revocation(settings):
    at = datetime(2026, 7, 1, tzinfo=timezone.utc)
    by_crl = await check(settings, crls=[crl_for("fr", "qca", AFTER_REVOCATION)], at=at)
    by_ocsp = await check(settings, ocsps=[ocsp_for("fr", "revoked-after", "qca", AFTER_REVOCATION)], at=at)
    for result in (by_crl, by_ocsp):
        assert result.subindication == SubIndication.REVOKED_NO_POE
        assert result.revocation_time == datetime(2026, 6, 1, tzinfo=timezone.utc)
