"""Standalone RFC 3161 time-stamps (.tsr responses and .tst tokens), with the time-stamped data when given."""

from __future__ import annotations

from asn1crypto import cms

from ..verdict import Finding, Indication, SignatureVerdict, SubIndication
from .cms_process import AttachedTimestamp, TimestampKind, validate_timestamp_set
from .cms_signer import signer_identity
from .content import DetachedContent
from .material import ValidationMaterial
from .settings import ValidationSettings
from .tst import TokenFormatError, check_token_integrity, parse_token

__all__ = ["validate_timestamp_token"]


async def validate_timestamp_token(
    token_info: cms.ContentInfo, contents: list[DetachedContent], settings: ValidationSettings
) -> SignatureVerdict:
    """One verdict for the token: the TSA's signature and certificate, and the imprint against the data."""
    try:
        token = parse_token(token_info)
    except TokenFormatError as e:
        return SignatureVerdict(
            id="tst-1",
            format="RFC3161",
            level="TST",
            indication=Indication.TOTAL_FAILED,
            subindication=SubIndication.FORMAT_FAILURE,
            signer=None,
            claimed_signing_time=None,
            best_signature_time=None,
            errors=(Finding("MALFORMED_TIMESTAMP", str(e)),),
        )
    algorithm = token.imprint_algorithm
    for content in contents:
        await content.ensure_digests([algorithm])
    matching = [c for c in contents if c.digest(algorithm) == token.imprint]
    chosen = matching[0] if matching else (contents[0] if len(contents) == 1 else None)
    infos = [Finding("TIMESTAMPED_CONTENT", f"Time-stamped data: {chosen.name}.")] if chosen else []

    def expected(algo: str) -> bytes | None:
        return chosen.digest(algo) if chosen is not None else None

    attached = AttachedTimestamp(TimestampKind.DOCUMENT, 0, token, expected)
    (verdict,) = await validate_timestamp_set([attached], ValidationMaterial(), settings)
    tsa = check_token_integrity(token, lambda a: token.imprint).tsa_cert
    errors, warnings = [], []
    if verdict.indication != Indication.TOTAL_PASSED:
        code = "SIGNED_DATA_NOT_FOUND" if verdict.subindication == SubIndication.SIGNED_DATA_NOT_FOUND else "TIMESTAMP"
        errors.append(Finding(code, _sentence(verdict.message or verdict.subindication or "not valid")))
    return SignatureVerdict(
        id="tst-1",
        format="RFC3161",
        level="TST",
        indication=verdict.indication,
        subindication=verdict.subindication,
        signer=signer_identity(tsa) if tsa is not None else None,
        claimed_signing_time=token.gen_time,
        best_signature_time=token.gen_time if verdict.indication == Indication.TOTAL_PASSED else None,
        timestamps=(verdict,),
        scope="FULL" if chosen is not None else None,
        errors=tuple(errors),
        warnings=tuple(warnings),
        infos=tuple(infos),
    )


def _sentence(text: str) -> str:
    text = str(text).strip()
    text = text[0].upper() + text[1:] if text else text
    return text if text.endswith(".") else text + "."
