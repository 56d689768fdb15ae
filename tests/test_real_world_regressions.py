"""Regressions found on real files: each test names the defect of the wild it guards against."""

from __future__ import annotations

from datetime import datetime, timezone

from asn1crypto import keys

import testpki
from conftest import shared_path, validate
from trustsvc.formats.keys import has_negative_rsa_modulus, key_bits, repaired_public_key
from trustsvc.trust.anchors import AnchorSet


def _negative_modulus_copy(public_key: keys.PublicKeyInfo) -> keys.PublicKeyInfo:
    """Re-encode an RSA key the way ESTEID 2011 cards did: the modulus without its leading zero byte."""
    rsa = public_key["public_key"].parsed
    modulus = rsa["modulus"].native.to_bytes(256, "big")
    negative = keys.RSAPublicKey({"modulus": int.from_bytes(modulus, "big", signed=True), "public_exponent": 65537})
    return keys.PublicKeyInfo({"algorithm": public_key["algorithm"], "public_key": negative})


def test_negative_rsa_modulus_is_repaired():
    key = testpki.cert("fr", "signer-qc").public_key
    broken = _negative_modulus_copy(key)
    assert has_negative_rsa_modulus(broken) and not has_negative_rsa_modulus(key)
    assert repaired_public_key(broken).dump() == key.dump()
    assert key_bits(broken) == 2048


async def test_esteid_signature_with_negative_modulus_verifies():
    path = shared_path("corpus", "siva", "generic", "hellopades-pades-lt-sha256-sign.pdf")
    report = await validate(path, anchors=AnchorSet(), at=datetime(2015, 7, 9, 8, tzinfo=timezone.utc))
    (sig,) = report.signatures
    assert sig.subindication.value == "NO_CERTIFICATE_CHAIN_FOUND"  # intact; only trust is missing (no TL yet)
    assert "NON_DER_PUBLIC_KEY" in {w.code for w in sig.warnings}


async def test_dss_updates_of_vri_entries_are_not_modifications():
    """EU DSS rewrites /VRI entries when it adds validation data for later signatures (PAdES allows it)."""
    path = shared_path("corpus", "dss", "pades", "PAdES-LT.pdf")
    report = await validate(path, anchors=AnchorSet(), at=datetime(2021, 6, 1, tzinfo=timezone.utc))
    assert len(report.signatures) == 3
    assert all(s.subindication.value != "FORMAT_FAILURE" for s in report.signatures)
    assert all("MODIFIED_AFTER_SIGNING" not in {e.code for e in s.errors} for s in report.signatures)
