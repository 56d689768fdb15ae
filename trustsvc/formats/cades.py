"""CAdES: CMS signatures, detached (.p7s, content supplied separately) or enveloping (.p7m), B-B to B-LTA.

Each SignerInfo is a signature of its own (parallel signatures are common in CAdES). Revocation data in
``SignedData.crls`` and in the revocation-values attribute is used, which pyHanko does not do by itself; the
detached content is hashed as a stream, once, for every algorithm the signature and its time-stamps need.
"""

from __future__ import annotations

import logging

from asn1crypto import cms, core

from ..errors import InputError
from ..verdict import Finding, Indication, SignatureVerdict, SubIndication
from .cades_archive import ats_v3_imprint_input, check_archive_timestamp_v3
from .cms_process import AttachedTimestamp, CmsEvidence, TimestampKind, validate_cms_signature
from .cms_signer import attribute_values, signer_identity
from .content import DetachedContent
from .digests import digest_bytes
from .material import material_from_signed_data
from .parse_errors import ASN1_ERRORS
from .settings import ValidationSettings
from .tst import TimestampToken, TokenFormatError, parse_token

__all__ = ["validate_cms"]

#: Most SignerInfos validated in one CMS file (parallel signatures of one bid are a handful; each costs a validation).
MAX_SIGNER_INFOS = 100

logger = logging.getLogger(__name__)


async def validate_cms(
    der: bytes, contents: list[DetachedContent], settings: ValidationSettings
) -> list[SignatureVerdict]:
    """Validate every SignerInfo of a CMS ContentInfo given as DER (already recognised as signed data)."""
    signed_data = cms.ContentInfo.load(der)["content"]
    # Archive time-stamps hash parts of the signature exactly as encoded in the file. asn1crypto re-encodes a value
    # once anything below it was touched (a DEFAULT filled in, say), so those hashes come from an untouched parse.
    pristine = cms.ContentInfo.load(der)["content"]
    econtent = signed_data["encap_content_info"]["content"]
    enveloping = not isinstance(econtent, core.Void) and econtent is not None
    payload = bytes(econtent) if enveloping else None
    try:
        signer_infos = list(signed_data["signer_infos"])
    except ASN1_ERRORS as e:
        raise InputError(f"the CMS signer information is malformed ({str(e)[:120]})", code="malformed-cms") from e
    if not signer_infos:
        return []
    if len(signer_infos) > MAX_SIGNER_INFOS:
        raise InputError(
            f"The CMS holds {len(signer_infos)} signatures; at most {MAX_SIGNER_INFOS} are validated in one file",
            code="too-many-signatures",
        )
    if not enveloping:
        await _hash_contents(signed_data, signer_infos, contents)
    verdicts = []
    for index, signer_info in enumerate(signer_infos, start=1):
        untouched = (pristine, pristine["signer_infos"][index - 1])
        verdicts.append(
            await _validate_signer(signed_data, signer_info, untouched, f"sig-{index}", payload, contents, settings)
        )
    return verdicts


async def _hash_contents(signed_data, signer_infos, contents: list[DetachedContent]) -> None:
    algorithms = {"sha256"}
    for signer_info in signer_infos:
        try:
            algorithms.add(signer_info["digest_algorithm"]["algorithm"].native)
            for name in ("content_time_stamp",):
                for value in attribute_values(signer_info["signed_attrs"], name):
                    algorithms.add(parse_token(value).imprint_algorithm)
            for value in attribute_values(signer_info["unsigned_attrs"], "archive_time_stamp_v3"):
                algorithms.add(parse_token(value).imprint_algorithm)
        except (*ASN1_ERRORS, TokenFormatError):
            continue
    for content in contents:
        await content.ensure_digests(algorithms)


def _message_digest(signer_info: cms.SignerInfo) -> bytes | None:
    try:
        for value in attribute_values(signer_info["signed_attrs"], "message_digest"):
            return value.native
    except ASN1_ERRORS:  # malformed: the validation process reports it; here it only means "no match"
        return None
    return None


def _pick_content(signer_info: cms.SignerInfo, contents: list[DetachedContent]) -> DetachedContent | None:
    """The supplied file this signature signs: the one whose digest is the signed message-digest."""
    if not contents:
        return None
    try:
        md_algorithm = signer_info["digest_algorithm"]["algorithm"].native
    except ASN1_ERRORS:
        return contents[0] if len(contents) == 1 else None
    expected = _message_digest(signer_info)
    for content in contents:
        if expected is not None and content.digest(md_algorithm) == expected:
            return content
    return contents[0] if len(contents) == 1 else None


async def _validate_signer(
    signed_data: cms.SignedData,
    signer_info: cms.SignerInfo,
    untouched: tuple[cms.SignedData, cms.SignerInfo],
    sig_id: str,
    payload: bytes | None,
    contents: list[DetachedContent],
    settings: ValidationSettings,
) -> SignatureVerdict:
    infos: list[Finding] = []
    if payload is not None:
        cache: dict[str, bytes] = {}

        def content_digest(algorithm: str) -> bytes | None:
            if algorithm not in cache:
                cache[algorithm] = digest_bytes(algorithm, payload)
            return cache[algorithm]

        if contents:
            infos.append(
                Finding("CONTENT_IGNORED", "The signature envelops its content; the supplied files were not used.")
            )
        scope = "FULL"
    else:
        chosen = _pick_content(signer_info, contents)
        if chosen is not None:
            infos.append(Finding("DETACHED_CONTENT", f"Signed content: {chosen.name}."))

        def content_digest(algorithm: str) -> bytes | None:
            return chosen.digest(algorithm) if chosen is not None else None

        scope = "FULL" if chosen is not None else None

    try:
        evidence = CmsEvidence(
            signed_data=signed_data,
            signer_info=signer_info,
            content_digest=content_digest,
            material=material_from_signed_data(signed_data, signer_info),
            timestamps=_attached_timestamps(untouched, signer_info, content_digest),
            findings_infos=infos,
        )
        if _countersignatures(signer_info):
            evidence.findings_infos.append(
                Finding("COUNTERSIGNATURE_NOT_VALIDATED", "The signature carries a counter-signature, not validated.")
            )
        outcome = await validate_cms_signature(evidence, settings)
        level = _level(signer_info, evidence)
    except ASN1_ERRORS as e:
        return SignatureVerdict(
            id=sig_id,
            format="CAdES",
            level=None,
            indication=Indication.TOTAL_FAILED,
            subindication=SubIndication.FORMAT_FAILURE,
            signer=None,
            claimed_signing_time=None,
            best_signature_time=None,
            errors=(Finding("MALFORMED_SIGNATURE", f"The signature structure is malformed ({str(e)[:200]})."),),
        )
    return SignatureVerdict(
        id=sig_id,
        format="CAdES",
        level=level,
        indication=outcome.indication,
        subindication=outcome.subindication,
        signer=signer_identity(outcome.signer_cert) if outcome.signer_cert else None,
        claimed_signing_time=outcome.claimed_signing_time,
        best_signature_time=outcome.best_signature_time,
        trust_anchor=outcome.trust_anchor,
        qualification=outcome.qualification,
        timestamps=outcome.timestamps,
        scope=scope,
        errors=outcome.errors,
        warnings=outcome.warnings,
        infos=outcome.infos,
        facts=outcome.facts,
    )


def _countersignatures(signer_info: cms.SignerInfo) -> bool:
    return any(True for _ in attribute_values(signer_info["unsigned_attrs"], "counter_signature"))


def _parse(value) -> tuple[TimestampToken | None, str | None]:
    try:
        return parse_token(value), None
    except TokenFormatError as e:
        return None, str(e)


def _attached_timestamps(untouched, signer_info, content_digest) -> list[AttachedTimestamp]:
    """Signature, content and archive time-stamps; `untouched` is the (SignedData, SignerInfo) parsed afresh."""
    signature_value = signer_info["signature"].native
    attached: list[AttachedTimestamp] = []
    for value in attribute_values(signer_info["unsigned_attrs"], "signature_time_stamp_token"):
        token, error = _parse(value)
        attached.append(
            AttachedTimestamp(TimestampKind.SIGNATURE, 0, token, lambda a: digest_bytes(a, signature_value), error)
        )
    for value in attribute_values(signer_info["signed_attrs"], "content_time_stamp"):
        token, error = _parse(value)
        attached.append(AttachedTimestamp(TimestampKind.CONTENT, 0, token, content_digest, error))
    for order, value in enumerate(attribute_values(signer_info["unsigned_attrs"], "archive_time_stamp_v3"), start=1):
        token, error = _parse(value)
        attached.append(_archive_timestamp(*untouched, order, value, token, error, content_digest))
    return attached


def _archive_timestamp(signed_data, signer_info, order, value, token, error, content_digest) -> AttachedTimestamp:
    """An archive-time-stamp-v3: its imprint covers the signature, its content and the listed validation data."""
    if token is None:
        return AttachedTimestamp(TimestampKind.ARCHIVE, order, None, lambda a: None, error)
    hash_index = None
    for index_value in attribute_values(token.signed_data["signer_infos"][0]["unsigned_attrs"], "ats_hash_index_v3"):
        hash_index = index_value
    if hash_index is None:
        return AttachedTimestamp(
            TimestampKind.ARCHIVE,
            order,
            token,
            lambda a: None,
            None,
            coverage_failure="the archive time-stamp has no ats-hash-index-v3",
        )

    def expected(algorithm: str) -> bytes | None:
        digest = content_digest(algorithm)
        if digest is None:
            return None
        return digest_bytes(algorithm, ats_v3_imprint_input(signed_data, signer_info, digest, hash_index))

    check = check_archive_timestamp_v3(signed_data, signer_info, value, content_digest)
    coverage_failure = None
    if not check.hash_index_consistent:
        coverage_failure = check.message or "validation data listed by the archive time-stamp is missing or altered"
    return AttachedTimestamp(TimestampKind.ARCHIVE, order, token, expected, None, coverage_failure)


def _level(signer_info: cms.SignerInfo, evidence: CmsEvidence) -> str:
    signed_attrs = signer_info["signed_attrs"]
    etsi = any(
        True for name in ("signing_certificate_v2", "signing_certificate") for _ in attribute_values(signed_attrs, name)
    )
    prefix = "CAdES-BASELINE" if etsi else "CMS"
    kinds = {t.kind for t in evidence.timestamps}
    if TimestampKind.SIGNATURE not in kinds:
        return f"{prefix}-B"
    if evidence.material.revocation_count == 0:
        return f"{prefix}-T"
    if TimestampKind.ARCHIVE in kinds:
        return f"{prefix}-LTA"
    return f"{prefix}-LT"
