"""Public keys as they occur in the wild, not only as DER says they should.

Estonian ID cards issued around 2011-2015 (ESTEID-SK 2011) encode their RSA modulus as a negative INTEGER: the
leading zero byte DER requires is missing. pyca/cryptography refuses such a key, so a valid signature looked
malformed; EU DSS and SiVa accept it. The modulus is read as the unsigned number it obviously is, and the repair
is reported as a warning on the signature.
"""

from __future__ import annotations

from asn1crypto import algos, keys
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_VALIDATION_CONTEXT,
    DefaultSignatureValidator,
    SignatureValidationContext,
)

__all__ = ["LENIENT_VALIDATOR", "has_negative_rsa_modulus", "repaired_public_key", "key_bits"]


def _rsa_modulus(public_key: keys.PublicKeyInfo):
    if public_key.algorithm not in ("rsa", "rsassa_pss"):
        return None
    return public_key["public_key"].parsed["modulus"]


def has_negative_rsa_modulus(public_key: keys.PublicKeyInfo) -> bool:
    modulus = _rsa_modulus(public_key)
    return modulus is not None and modulus.contents[:1] >= b"\x80"


def repaired_public_key(public_key: keys.PublicKeyInfo) -> keys.PublicKeyInfo:
    """The same key with its RSA modulus re-encoded as the positive number it stands for."""
    if not has_negative_rsa_modulus(public_key):
        return public_key
    rsa = public_key["public_key"].parsed
    fixed = keys.RSAPublicKey(
        {"modulus": int.from_bytes(rsa["modulus"].contents, "big"), "public_exponent": rsa["public_exponent"].native}
    )
    return keys.PublicKeyInfo({"algorithm": public_key["algorithm"], "public_key": fixed})


def key_bits(public_key: keys.PublicKeyInfo) -> int:
    """The key size in bits (asn1crypto's bit_size fails on a negative modulus)."""
    return repaired_public_key(public_key).bit_size


class LenientSignatureValidator(DefaultSignatureValidator):
    """pyHanko's signature verification, on a repaired key when the RSA modulus is negative."""

    def validate_signature(
        self,
        signature: bytes,
        signed_data: bytes,
        public_key_info: keys.PublicKeyInfo,
        signature_algorithm: algos.SignedDigestAlgorithm,
        context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT,
    ) -> None:
        super().validate_signature(
            signature, signed_data, repaired_public_key(public_key_info), signature_algorithm, context
        )


LENIENT_VALIDATOR = LenientSignatureValidator()
