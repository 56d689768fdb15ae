"""The bidder pre-check: a certificate or a signed test document in, each pilot's decision with the reason and the
next step out; private keys refused and never kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from conftest import PEM, SAMPLES, T_VAL
from demo_lists import pilot_lists
from trustsvc.errors import InputError
from trustsvc.fetch import revocation_fetcher
from trustsvc.formats import ValidationSettings
from trustsvc.policy.catalogue import load_policy_set
from trustsvc.precheck import ADVICE, precheck_bytes, read_upload, result_to_dict
from trustsvc.trust.provider import TrustedListTrust
from trustsvc.trust.registry import TrustRegistry

TRUSTSVC = str(Path(sys.executable).parent / "trustsvc")
PRIVATE = (
    "This is a private key, not a certificate: it was refused and not kept. Never send your private key to anyone; "
    "upload your certificate (.cer, .crt or .pem) instead."
)


@pytest.fixture(scope="module")
def demo_trust() -> TrustedListTrust:
    return TrustedListTrust(TrustRegistry(pilot_lists(), snapshot_id=1))


async def check(path: Path, trust, *, online: bool = True):
    data = path.read_bytes()
    if not online:
        return await precheck_bytes(data, path.name, ValidationSettings(T_VAL, trust), load_policy_set())
    async with revocation_fetcher(5.0) as fetcher:
        settings = ValidationSettings(validation_time=T_VAL, trust=trust, fetcher_backend=fetcher)
        return await precheck_bytes(data, path.name, settings, load_policy_set())


def matrix(result) -> dict[str, str]:
    return {a.pilot: a.decision.value for a in result.pilots}


async def test_a_qualified_signature_on_a_qscd_is_accepted_everywhere(demo_trust, pki_proxy):
    result = await check(PEM / "ms-fr" / "signer-qscd.pem", demo_trust)
    assert result.kind == "certificate" and result.qualification == "QESig" and result.trusted_by == "TL FR #1"
    assert set(matrix(result).values()) == {"ACCEPT"} and len(result.pilots) == 6
    assert result.revocation_checked is True
    fr = next(a for a in result.pilots if a.pilot == "fr")
    assert fr.reason == "Accepted: a bid signed with this certificate meets the rules of France." and not fr.next_step


async def test_italy_says_what_to_do_without_a_qscd(demo_trust, pki_proxy):
    result = await check(PEM / "ms-es" / "signer-qscd.pem", demo_trust)
    assert result.qualification == "AdESig-QC"
    assert matrix(result) == {"cz": "ACCEPT", "es": "ACCEPT", "fr": "ACCEPT", "it": "REJECT", "procure": "ACCEPT",
                              "se": "ACCEPT"}  # fmt: skip
    italy = next(a for a in result.pilots if a.pilot == "it")
    assert (italy.rule, italy.advice_id) == ("R-QSCD", "R-QSCD")
    assert italy.reason == "The key was not on a qualified signature creation device (QC_FOR_ESIG)."
    assert italy.next_step == ADVICE["R-QSCD"].format(pilot="Italy")
    assert italy.legal_basis


@pytest.mark.parametrize(
    ("pem", "expected", "advice"),
    [
        ("ms-fr/signer-nq.pem", {"fr": "REJECT", "it": "REJECT", "se": "ACCEPT"}, {"fr": "R-QC-ISS"}),
        ("ms-fr/seal.pem", {"fr": "MANUAL_REVIEW", "it": "REJECT", "se": "MANUAL_REVIEW"}, {"se": "R-NP"}),
        ("ms-fr/auth-only.pem", {"fr": "REJECT", "se": "MANUAL_REVIEW"}, {"fr": "R-QC-ISS"}),
        ("ms-fr/expired.pem", {"fr": "MANUAL_REVIEW", "it": "REJECT"}, {"it": "R-VAL"}),
        ("ms-fr/revoked-before.pem", {"fr": "MANUAL_REVIEW", "it": "REJECT"}, {"it": "R-REV"}),
        ("ms-fr/weak-rsa1024.pem", {"fr": "REJECT", "se": "REJECT"}, {"fr": "R-CRYPTO"}),
        ("ms-cz/signer-qscd.pem", {"fr": "REJECT", "se": "MANUAL_REVIEW"}, {"se": "R-CHAIN"}),
    ],
    ids=["not-qualified", "seal", "authentication", "expired", "revoked", "weak-key", "ca-withdrawn"],
)
async def test_each_refusal_names_the_rule_and_the_next_step(demo_trust, pki_proxy, pem, expected, advice):
    result = await check(PEM / pem, demo_trust)
    decided = matrix(result)
    assert {pilot: decided[pilot] for pilot in expected} == expected
    for pilot, key in advice.items():
        (entry,) = [a for a in result.pilots if a.pilot == pilot]
        assert entry.advice_id == key and entry.next_step and entry.reason


async def test_offline_the_answer_assumes_no_revocation_and_says_so(demo_trust):
    result = await check(PEM / "ms-es" / "signer-qscd.pem", demo_trust, online=False)
    assert result.revocation_checked is False
    assert matrix(result)["it"] == "REJECT" and matrix(result)["fr"] == "ACCEPT"
    assert result_to_dict(result)["revocation_checked"] is False


async def test_a_signed_test_document_is_validated_as_a_bid(demo_trust, pki_proxy):
    result = await check(SAMPLES / "pades" / "b-lt.pdf", demo_trust)
    assert result.kind == "document" and result.subject.startswith("GN=Camille,SN=Dupont")
    assert set(matrix(result).values()) == {"ACCEPT"}
    assert result.report is not None and result.report.signatures[0].indication.value == "TOTAL_PASSED"


def _key_pem() -> bytes:
    return (PEM.parent / "keys" / "signer-qscd.key.pem").read_bytes()


def _private_forms() -> list[bytes]:
    key = serialization.load_pem_private_key(_key_pem(), password=None)
    cert_pem = (PEM / "ms-fr" / "signer-qscd.pem").read_bytes()
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(cert_pem)
    return [
        _key_pem(),
        cert_pem + _key_pem(),  # a certificate and its key in one file: still refused
        key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        pkcs12.serialize_key_and_certificates(b"bidder", key, cert, None, serialization.BestAvailableEncryption(b"x")),
    ]


@pytest.mark.parametrize("index", range(4), ids=["pem-key", "pem-cert-and-key", "pkcs8-der", "pkcs12"])
def test_a_private_key_is_refused_and_not_kept(index):
    with pytest.raises(InputError) as caught:
        read_upload(_private_forms()[index])
    assert (caught.value.code, caught.value.message) == ("private-key", PRIVATE)


@pytest.mark.parametrize(
    ("data", "code", "message"),
    [
        (b"", "empty-file", "The file is empty."),
        (b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not-a-certificate",
         "The PEM file holds no certificate."),
        (b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", "not-a-certificate",
         "The PEM certificate is not valid base64."),
        (b"-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n", "not-a-certificate",
         "The file is not an X.509 certificate."),
        (bytes(3 * 1024 * 1024), "too-large", "The file is larger than 2 MB."),
    ],
    ids=["empty", "public-key", "bad-base64", "not-x509", "too-large"],
)  # fmt: skip
def test_bad_uploads_say_why(data, code, message):
    with pytest.raises(InputError) as caught:
        read_upload(data)
    assert (caught.value.code, caught.value.message) == (code, message)


def test_the_cli_prints_the_matrix_and_exits_by_the_outcome(tmp_path):
    env = {**os.environ, "TRUSTSVC_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    env.pop("TRUSTSVC_TRUST_SOURCE", None)
    done = subprocess.run(
        [TRUSTSVC, "precheck", str(PEM / "ms-es" / "signer-qscd.pem"), "--output", "json"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    body = json.loads(done.stdout)
    assert {p["pilot"]: p["decision"] for p in body["pilots"]}["it"] == "REJECT"
    assert body["revocation_checked"] is False  # the demo trust is offline by default
    key = tmp_path / "mine.key"
    key.write_bytes(_key_pem())
    refused = subprocess.run([TRUSTSVC, "precheck", str(key)], env=env, capture_output=True, text=True, timeout=60)
    assert (refused.returncode, refused.stdout, refused.stderr) == (2, "", f"trustsvc: {PRIVATE}\n")
