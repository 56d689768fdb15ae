"""The dated algorithm suite (ETSI TS 119 312): acceptable until a date, judged at the proof-of-existence time."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from asn1crypto import algos

import testpki
from trustsvc.formats.crypto_suite import DEFAULT_SUITE


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("digest", "moment", "allowed"),
    [
        ("sha1", utc(2011, 1, 1), True),
        ("sha1", utc(2012, 8, 1), False),
        ("sha256", utc(2040, 1, 1), True),
        ("md5", utc(2003, 1, 1), True),
        ("md5", utc(2005, 1, 1), False),
        ("sha224", utc(2029, 1, 1), False),
    ],
)
def test_digest_sunsets(digest, moment, allowed):
    verdict = DEFAULT_SUITE.digest_algorithm_allowed(algos.DigestAlgorithm({"algorithm": digest}), moment)
    assert verdict.allowed is allowed
    if not allowed:
        assert verdict.not_allowed_after is not None and verdict.not_allowed_after <= moment


def test_unknown_digest_is_refused_outright():
    verdict = DEFAULT_SUITE.digest_algorithm_allowed(algos.DigestAlgorithm({"algorithm": "sha512_224"}), None)
    assert not verdict.allowed and verdict.not_allowed_after is None


@pytest.mark.parametrize(
    ("label", "moment", "allowed", "reason"),
    [
        ("weak-rsa1024", utc(2019, 9, 30), True, None),
        ("weak-rsa1024", utc(2019, 10, 1), False, "RSA-1024 key is not acceptable after 2019-10-01 (ETSI TS 119 312)"),
        ("signer-qc", utc(2028, 12, 31), True, None),  # RSA-2048 PKCS#1 v1.5: legacy until 2029
        ("signer-qc", utc(2029, 1, 1), False, "RSA-2048 key is not acceptable after 2029-01-01 (ETSI TS 119 312)"),
        ("signer-qscd", utc(2060, 1, 1), True, None),  # EC P-256: no end date
    ],
)
def test_key_sizes(label, moment, allowed, reason):
    cert = testpki.cert("fr", label)
    algo = algos.SignedDigestAlgorithm(
        {"algorithm": "sha256_rsa" if cert.public_key.algorithm == "rsa" else "sha256_ecdsa"}
    )
    verdict = DEFAULT_SUITE.signature_algorithm_allowed(algo, moment, cert.public_key)
    assert verdict.allowed is allowed
    assert verdict.failure_reason == reason
