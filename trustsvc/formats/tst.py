"""Checking one RFC 3161 time-stamp token: structure, imprint, the TSA's signature, the TSA's certificate path.

Time-stamps are the only proofs of existence a signature carries, so every one is checked as thoroughly as a
signature. Integrity (`failure`) is a fact of the token; validity (`validity`) depends on the moment the TSA's
certificate is judged at, which the caller picks (now, or the time of a later archive time-stamp).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import algos, cms, core, tsp, x509
from pyhanko.sign.validation import errors as pyhanko_errors
from pyhanko.sign.validation.generic_cms import validate_sig_integrity
from pyhanko.sign.validation.settings import KeyUsageConstraints

from ..verdict import SubIndication
from .certpath import PathCheck, validate_certificate_path
from .cms_signer import find_signer_certificate, signing_certificate_reference
from .digests import digest_bytes
from .material import ValidationMaterial, material_from_signed_data
from .settings import ValidationSettings

__all__ = ["TimestampToken", "TokenCheck", "parse_token", "check_token_integrity", "check_token_validity"]

TSA_KEY_USAGE = KeyUsageConstraints(
    key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False, extd_key_usage={"time_stamping"}
)


@dataclass(frozen=True)
class TimestampToken:
    """A parsed token: its SignedData, its TSTInfo, and the validation material it carries."""

    content_info: cms.ContentInfo
    signed_data: cms.SignedData
    tst_info: tsp.TSTInfo
    material: ValidationMaterial

    @property
    def gen_time(self) -> datetime:
        return self.tst_info["gen_time"].native

    @property
    def imprint_algorithm(self) -> str:
        return self.tst_info["message_imprint"]["hash_algorithm"]["algorithm"].native

    @property
    def imprint(self) -> bytes:
        return self.tst_info["message_imprint"]["hashed_message"].native

    @property
    def signature_bytes(self) -> bytes:
        return self.signed_data["signer_infos"][0]["signature"].native


class TokenFormatError(ValueError):
    """The bytes are not a time-stamp token."""


def parse_token(content_info: cms.ContentInfo) -> TimestampToken:
    """Parse and sanity-check a TimeStampToken (a ContentInfo with SignedData around a TSTInfo)."""
    try:
        if content_info["content_type"].native != "signed_data":
            raise TokenFormatError("a time-stamp token must be CMS SignedData")
        signed_data = content_info["content"]
        eci = signed_data["encap_content_info"]
        if eci["content_type"].native != "tst_info":
            raise TokenFormatError("the SignedData does not encapsulate a TSTInfo")
        content = eci["content"]
        tst_info = content.parsed if isinstance(content, core.ParsableOctetString) else None
        if not isinstance(tst_info, tsp.TSTInfo):
            raise TokenFormatError("the TSTInfo is missing")
        tst_info.native  # noqa: B018  (force a full parse so that malformed fields fail here)
        if len(signed_data["signer_infos"]) != 1:
            raise TokenFormatError("a time-stamp token must have exactly one SignerInfo")
        material = material_from_signed_data(signed_data, signed_data["signer_infos"][0])
    except TokenFormatError:
        raise
    except (ValueError, TypeError, KeyError) as e:
        raise TokenFormatError(f"malformed time-stamp token ({e})") from e
    return TimestampToken(content_info, signed_data, tst_info, material)


@dataclass(frozen=True)
class TokenCheck:
    """Integrity of a token against what it is supposed to time-stamp."""

    failure: SubIndication | None
    message: str | None
    tsa_cert: x509.Certificate | None

    @property
    def intact(self) -> bool:
        return self.failure is None


def check_token_integrity(token: TimestampToken, expected_imprint: Callable[[str], bytes | None]) -> TokenCheck:
    """The imprint matches the data, and the TSA's signature over the TSTInfo verifies."""
    signer_info = token.signed_data["signer_infos"][0]
    try:
        tsa_cert = find_signer_certificate(signer_info, token.material.certs)
        reference = signing_certificate_reference(signer_info, tsa_cert) if tsa_cert is not None else None
    except (ValueError, TypeError, KeyError) as e:  # lazily parsed attributes that turn out malformed
        return TokenCheck(SubIndication.FORMAT_FAILURE, f"malformed time-stamp token ({e})", None)
    if tsa_cert is None:
        return TokenCheck(SubIndication.NO_SIGNING_CERTIFICATE_FOUND, "the TSA certificate is not in the token", None)
    if reference == "mismatch":
        return TokenCheck(
            SubIndication.NO_SIGNING_CERTIFICATE_FOUND, "the token's signing-certificate attribute does not match", None
        )
    expected = expected_imprint(token.imprint_algorithm)
    if expected is None:
        return TokenCheck(SubIndication.SIGNED_DATA_NOT_FOUND, "the time-stamped data is not available", tsa_cert)
    if expected != token.imprint:
        return TokenCheck(
            SubIndication.HASH_FAILURE,
            "the time-stamp's message imprint does not match the time-stamped data",
            tsa_cert,
        )
    md = signer_info["digest_algorithm"]["algorithm"].native
    econtent = bytes(token.signed_data["encap_content_info"]["content"])
    try:
        digest = digest_bytes(md, econtent)
        intact, valid = validate_sig_integrity(signer_info, tsa_cert, "tst_info", digest)
    except (pyhanko_errors.SignatureValidationError, ValueError, NotImplementedError, AssertionError, TypeError) as e:
        # AssertionError/TypeError: certvalidator's verdict on a signature algorithm that does not fit the TSA key
        return TokenCheck(SubIndication.FORMAT_FAILURE, f"malformed time-stamp token signature ({e})", tsa_cert)
    if not intact:
        return TokenCheck(SubIndication.HASH_FAILURE, "the TSTInfo does not match the token's message digest", tsa_cert)
    if not valid:
        return TokenCheck(SubIndication.SIG_CRYPTO_FAILURE, "the TSA's signature does not verify", tsa_cert)
    return TokenCheck(None, None, tsa_cert)


async def check_token_validity(
    token: TimestampToken,
    tsa_cert: x509.Certificate,
    material: ValidationMaterial,
    settings: ValidationSettings,
    moment: datetime,
    *,
    fetch: bool,
) -> PathCheck:
    """Whether the TSA certificate and the token's algorithms are acceptable as of `moment`."""
    signer_info = token.signed_data["signer_infos"][0]
    suite = settings.crypto_suite
    algo = suite.signature_algorithm_allowed(signer_info["signature_algorithm"], moment, tsa_cert.public_key)
    if algo.allowed:
        algo = suite.digest_algorithm_allowed(algos.DigestAlgorithm({"algorithm": token.imprint_algorithm}), moment)
    if not algo.allowed:
        sub = (
            SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE
            if algo.not_allowed_after
            else SubIndication.CRYPTO_CONSTRAINTS_FAILURE
        )
        return PathCheck(moment, sub, algo.failure_reason, algorithm_banned_since=algo.not_allowed_after)
    combined = ValidationMaterial()
    combined.extend(token.material)
    combined.extend(material)
    return await validate_certificate_path(tsa_cert, combined, settings, moment, key_usage=TSA_KEY_USAGE, fetch=fetch)
