"""CAdES archive-time-stamp-v3 and ats-hash-index-v3 (ETSI EN 319 122-1 V1.1.1, § 5.5.2 and § 5.5.3).

An archive-time-stamp-v3 does not hash the whole signature. Its message imprint covers the content type, the hash of
the signed content, the signer info fields up to the signature value, and an *ats-hash-index-v3* stored as an
unsigned attribute of the time-stamp token itself. The index lists one hash per certificate, per revocation value and
per (attribute type, attribute value) pair of the unsigned attributes present when the time-stamp was requested.
Material added later (more revocation data, a newer archive time-stamp) does not break older time-stamps. The index
decides what an archive time-stamp covers, and a validator checks that every entry of the index still matches an
element of the signature.

Every "encoding" below means the octets as they appear in the file: tag, length and value, cut out of the parent's
contents without re-encoding (§ 5.5.3: "in their binary encoded form without any modification"). asn1crypto's
``dump()`` is avoided on purpose for parsed values: it re-encodes indefinite-length BER, and when a structure is
rebuilt it sorts SET OF elements and drops DEFAULT values. Either would change the hashes.

Pure functions over asn1crypto objects: no I/O, no clock, no network.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar

from asn1crypto import algos, cms, core, parser
from pyhanko.sign.ades.asn1_util import register_cms_attribute

__all__ = [
    "ARCHIVE_TIME_STAMP_V3_OID",
    "ATS_HASH_INDEX_V3_OID",
    "ATSHashIndexV3",
    "AtsV3Check",
    "ats_v3_imprint_input",
    "attach_archive_timestamp_v3",
    "build_ats_hash_index_v3",
    "check_archive_timestamp_v3",
    "encapsulated_content_digest",
    "prepare_archive_timestamp_v3",
]

ARCHIVE_TIME_STAMP_V3_OID = "0.4.0.1733.2.4"
"""id-aa-ets-archiveTimestampV3 (EN 319 122-1, § 5.5.3)."""

ATS_HASH_INDEX_V3_OID = "0.4.0.19122.1.5"
"""id-aa-ATSHashIndex-v3 (EN 319 122-1, § 5.5.2)."""

# Older hash index versions, recognised only to say why a token is not checked.
_OLDER_HASH_INDEX_OIDS = {
    "0.4.0.1733.2.5": "ats-hash-index (ETSI TS 101 733)",
    "0.4.0.19122.1.4": "ats-hash-index-v2 (EN 319 122-1 V1.0.0)",
}

_TAG_SEQUENCE = 0x30
_TAG_SET = 0x31
_TAG_CONTEXT_0 = 0xA0  # SignerInfo.signedAttrs, ContentInfo.content
_TAG_CONTEXT_1 = 0xA1  # SignerInfo.unsignedAttrs

# What asn1crypto raises on malformed input, reported in AtsV3Check.message rather than raised.
_MALFORMED = (ValueError, TypeError, KeyError, IndexError, AttributeError)


class _OctetStrings(core.SequenceOf):
    _child_spec = core.OctetString


class _ATSHashIndexV3WithoutAlgorithm(core.Sequence):
    """The three mandatory fields alone, used to parse an index whose hashIndAlgorithm was left at its default."""

    _fields: ClassVar[list[tuple]] = [
        ("certificates_hash_index", _OctetStrings),
        ("crls_hash_index", _OctetStrings),
        ("unsigned_attr_values_hash_index", _OctetStrings),
    ]


class ATSHashIndexV3(core.Sequence):
    """ATSHashIndexV3 (EN 319 122-1, § 5.5.2).

    The optional ``hashIndAlgorithm`` and ``certificatesHashIndex`` have the same tag (both SEQUENCE), so a generic
    parser takes the first hash list for an algorithm identifier when the default was omitted. An index with three
    elements is therefore parsed as "sha256 plus three lists", the way DSS does it.
    """

    _fields: ClassVar[list[tuple]] = [
        ("hash_ind_algorithm", algos.DigestAlgorithm, {"default": {"algorithm": "sha256"}}),
        ("certificates_hash_index", _OctetStrings),
        ("crls_hash_index", _OctetStrings),
        ("unsigned_attr_values_hash_index", _OctetStrings),
    ]

    def _parse_children(self, recurse: bool = False) -> None:
        if self._contents is not None and len(_split(self._contents)) == 3:
            rest = _ATSHashIndexV3WithoutAlgorithm(contents=self._contents)
            rest._parse_children(recurse)
            self.children = [algos.DigestAlgorithm({"algorithm": "sha256"}), *rest.children]
            return
        super()._parse_children(recurse)


def _register(dotted_oid: str, name: str, spec: type) -> None:
    """Register a CMS attribute once; a second import (or a reload) must not swap the value class under parsed data."""
    if dotted_oid not in cms.CMSAttributeType._map:
        register_cms_attribute(dotted_oid, name, spec)
    # asn1crypto builds the name -> OID map on first use and never refreshes it; names added later go in by hand.
    reverse = cms.CMSAttributeType._reverse_map
    registered_name = cms.CMSAttributeType._map[dotted_oid]
    if reverse is not None and registered_name not in reverse:
        reverse[registered_name] = dotted_oid


_register(ARCHIVE_TIME_STAMP_V3_OID, "archive_time_stamp_v3", cms.ContentInfo)
_register(ATS_HASH_INDEX_V3_OID, "ats_hash_index_v3", ATSHashIndexV3)


@dataclass(frozen=True)
class AtsV3Check:
    """Outcome of checking one archive-time-stamp-v3 against the signature it is attached to.

    The time-stamp token's own signature and its TSA certificate are validated elsewhere, like any time-stamp.
    """

    imprint_matches: bool
    """The token's messageImprint equals the hash of the § 5.5.3 input rebuilt from the signature as it is now."""
    hash_index_consistent: bool
    """Every hash listed in the token's ats-hash-index-v3 matches an element present in the signature now."""
    message: str | None
    """Why a flag is false; None when both are true."""
    md_algorithm: str
    """Hash algorithm of the token's messageImprint (asn1crypto name, e.g. 'sha256'); '' if unreadable."""


# --- encoding helpers -------------------------------------------------------------------------------------------


def _split(contents: bytes) -> list[bytes]:
    """Cut the contents of a constructed value into its children's encodings, byte for byte."""
    parts: list[bytes] = []
    rest = contents
    while rest:
        size = parser.peek(rest)
        parts.append(rest[:size])
        rest = rest[size:]
    return parts


def _children(value: core.Asn1Value | None) -> list[bytes]:
    """The encodings of the children of a parsed constructed value, as in the file (an absent value has none)."""
    if value is None or isinstance(value, core.Void):
        return []
    return _split(value.contents or b"")


def _tlv(tag: int, content: bytes) -> bytes:
    """DER tag-length-value with a single-byte tag; used to rebuild containers around untouched children."""
    size = len(content)
    if size < 0x80:
        length = bytes([size])
    else:
        octets = size.to_bytes((size.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(octets)]) + octets
    return bytes([tag]) + length + content


def _hash(md_algorithm: str, data: bytes) -> bytes:
    """Hash with an asn1crypto algorithm name ('sha256', 'sha3_256', ...); ValueError if unsupported."""
    try:
        return hashlib.new(md_algorithm, data).digest()
    except (ValueError, TypeError) as exc:
        raise ValueError(f"unsupported hash algorithm {md_algorithm!r}") from exc


def _oid_tlv(dotted_oid: str) -> bytes:
    return core.ObjectIdentifier(dotted_oid).dump()


def _attribute_tlv(dotted_oid: str, value_encodings: Iterable[bytes]) -> bytes:
    """An Attribute with its values in the given order (one value in practice, so SET ordering is moot)."""
    return _tlv(_TAG_SEQUENCE, _oid_tlv(dotted_oid) + _tlv(_TAG_SET, b"".join(value_encodings)))


def _unsigned_attributes(signer_info: cms.SignerInfo) -> list[tuple[str, bytes, list[bytes]]]:
    """(dotted type, attrType encoding, [attrValue encodings]) of each unsigned attribute, in file order."""
    result = []
    for attribute in signer_info["unsigned_attrs"] or ():
        type_tlv, values_tlv = _children(attribute)
        values = _split(parser.parse(values_tlv)[4])
        result.append((attribute["type"].dotted, type_tlv, values))
    return result


# --- § 5.5.2 ats-hash-index-v3 ----------------------------------------------------------------------------------


def _index_hashes(
    signed_data: cms.SignedData, signer_info: cms.SignerInfo, md_algorithm: str, skip_value: bytes | None = None
) -> tuple[list[bytes], list[bytes], list[bytes]]:
    """The three hash lists of § 5.5.2 for the signature as it is now.

    ``skip_value`` leaves out one archive-time-stamp-v3 value: the one whose index is being checked, which cannot
    be covered by itself.
    """
    certificates = [_hash(md_algorithm, tlv) for tlv in _children(signed_data["certificates"])]
    crls = [_hash(md_algorithm, tlv) for tlv in _children(signed_data["crls"])]
    attr_values = []
    for dotted, type_tlv, values in _unsigned_attributes(signer_info):
        for value in values:
            if skip_value is not None and dotted == ARCHIVE_TIME_STAMP_V3_OID and value == skip_value:
                skip_value = None
                continue
            attr_values.append(_hash(md_algorithm, type_tlv + value))
    return certificates, crls, attr_values


def build_ats_hash_index_v3(
    signed_data: cms.SignedData, signer_info: cms.SignerInfo, md_algorithm: str = "sha256"
) -> ATSHashIndexV3:
    """Build the ats-hash-index-v3 for the signature as it is now (EN 319 122-1, § 5.5.2).

    One hash per CertificateChoices in ``SignedData.certificates``, per RevocationInfoChoice in ``SignedData.crls``
    and per (attrType, one attrValue) pair of the signer's unsigned attributes, each over the encoding in the file.

    ``hashIndAlgorithm`` is written even when it is the default sha256, with absent parameters (RFC 5754). DER would
    omit a default value, but DSS always writes it and, when validating, re-inserts it into an index that lacks it,
    so an index without it fails there. Hashes are listed in file order; the standard sets no order.

    :param md_algorithm: should be the hash algorithm of the archive time-stamp's message imprint.
    :raises ValueError: if ``md_algorithm`` is not supported by hashlib.
    """
    certificates, crls, attr_values = _index_hashes(signed_data, signer_info, md_algorithm)
    encoded = _tlv(
        _TAG_SEQUENCE,
        _tlv(_TAG_SEQUENCE, _oid_tlv(algos.DigestAlgorithmId(md_algorithm).dotted))
        + _OctetStrings([core.OctetString(h) for h in certificates]).dump()
        + _OctetStrings([core.OctetString(h) for h in crls]).dump()
        + _OctetStrings([core.OctetString(h) for h in attr_values]).dump(),
    )
    # Loaded from bytes rather than built from a dict: asn1crypto would drop the DEFAULT-valued algorithm.
    return ATSHashIndexV3.load(encoded)


# --- § 5.5.3 archive-time-stamp-v3 message imprint ----------------------------------------------------------------


def _imprint_input(
    signed_data: cms.SignedData, signer_info: cms.SignerInfo, content_digest: bytes, hash_index_encoding: bytes
) -> bytes:
    econtent_type = _children(signed_data["encap_content_info"])[0]
    # version, sid, digestAlgorithm, [0] signedAttrs, signatureAlgorithm, signature: all but [1] unsignedAttrs.
    signer_fields = [tlv for tlv in _children(signer_info) if tlv[0] != _TAG_CONTEXT_1]
    return econtent_type + content_digest + b"".join(signer_fields) + hash_index_encoding


def ats_v3_imprint_input(
    signed_data: cms.SignedData, signer_info: cms.SignerInfo, content_digest: bytes, hash_index: ATSHashIndexV3
) -> bytes:
    """The octets an archive-time-stamp-v3's messageImprint hashes (EN 319 122-1, § 5.5.3).

    In this order: the eContentType encoding; the hash of the signed content; the encodings of the SignerInfo fields
    version, sid, digestAlgorithm, signedAttrs (with its ``[0]`` IMPLICIT tag, i.e. starting with 0xA0, not the 0x31
    the signature is computed over), signatureAlgorithm and signature; and the ats-hash-index-v3 attribute value.

    :param content_digest: hash of the signed content, with the time-stamp's hash algorithm: of the eContent
        octets (value only, chunks joined) for an enveloping signature, of the detached file otherwise.
    :param hash_index: the index as stored (or to be stored) in the token; a parsed index keeps its file bytes.
    """
    return _imprint_input(signed_data, signer_info, content_digest, hash_index.dump())


def encapsulated_content_digest(signed_data: cms.SignedData, md_algorithm: str) -> bytes | None:
    """Hash of the eContent value octets, or None for a detached signature (the caller has to hash the file).

    Usable as ``content_digest_for`` via ``functools.partial(encapsulated_content_digest, signed_data)``.
    """
    content = signed_data["encap_content_info"]["content"]
    if isinstance(content, core.Void) or content is None:
        return None
    # bytes() joins the chunks of a constructed (BER) OCTET STRING; the tag and length are not hashed (RFC 5652, 5.4).
    return _hash(md_algorithm, bytes(content))


# --- validation ---------------------------------------------------------------------------------------------------


def _find_hash_index(token_signer: cms.SignerInfo) -> tuple[bytes | None, str | None]:
    """(encoding of the ats-hash-index-v3 value, None) or (None, why it cannot be used)."""
    found: list[list[bytes]] = []
    older: list[str] = []
    for dotted, _type_tlv, values in _unsigned_attributes(token_signer):
        if dotted == ATS_HASH_INDEX_V3_OID:
            found.append(values)
        elif dotted in _OLDER_HASH_INDEX_OIDS:
            older.append(_OLDER_HASH_INDEX_OIDS[dotted])
    if not found:
        if older:
            return None, f"time-stamp carries {older[0]}, only ats-hash-index-v3 is supported"
        return None, "time-stamp has no ats-hash-index-v3 unsigned attribute"
    if len(found) > 1 or len(found[0]) != 1:
        return None, "time-stamp has more than one ats-hash-index-v3 value"
    return found[0][0], None


def _unmatched(listed: Iterable[bytes], present: Iterable[bytes]) -> int:
    """How many listed hashes have no counterpart (as a multiset: one present element answers one entry)."""
    return sum((Counter(listed) - Counter(present)).values())


def check_archive_timestamp_v3(
    signed_data: cms.SignedData,
    signer_info: cms.SignerInfo,
    ats_token: cms.ContentInfo,
    content_digest_for: Callable[[str], bytes | None],
) -> AtsV3Check:
    """Check an archive-time-stamp-v3 against the signature it time-stamps (EN 319 122-1, § 5.5.2 and § 5.5.3).

    The imprint is rebuilt with the index stored in the token, so attributes added after the time-stamp (revocation
    data, later archive time-stamps) do not affect it; the index decides what was covered. The index is consistent
    when each entry matches an element present now; unlisted elements are fine. The attribute value holding this
    token is left out of the candidates, as it cannot have been present when the token was requested.

    :param content_digest_for: returns the hash of the signed content for an algorithm name, or None when the
        content is not available (a detached signature validated without its file).
    """
    try:
        token_data = ats_token["content"]
        tst_info = token_data["encap_content_info"]["content"].parsed
        imprint = tst_info["message_imprint"]
        md_algorithm = imprint["hash_algorithm"]["algorithm"].native
        expected_imprint = imprint["hashed_message"].native
        token_signers = list(token_data["signer_infos"])
    except _MALFORMED as exc:
        return AtsV3Check(False, False, f"archive time-stamp is not a readable time-stamp token: {exc}", "")
    if len(token_signers) != 1:
        return AtsV3Check(False, False, "archive time-stamp token does not have exactly one signer", md_algorithm)

    try:
        index_encoding, problem = _find_hash_index(token_signers[0])
    except _MALFORMED as exc:
        index_encoding, problem = None, f"unsigned attributes of the time-stamp are malformed: {exc}"
    if index_encoding is None:
        return AtsV3Check(False, False, problem, md_algorithm)

    problems: list[str] = []
    hash_index_consistent = False
    try:
        index = ATSHashIndexV3.load(index_encoding)
        index_algorithm = index["hash_ind_algorithm"]["algorithm"].native
        listed = (
            [h.native for h in index["certificates_hash_index"]],
            [h.native for h in index["crls_hash_index"]],
            [h.native for h in index["unsigned_attr_values_hash_index"]],
        )
        present = _index_hashes(signed_data, signer_info, index_algorithm, skip_value=ats_token.dump())
    except _MALFORMED as exc:
        problems.append(f"ats-hash-index-v3 cannot be evaluated: {exc}")
    else:
        where = ("SignedData.certificates", "SignedData.crls", "unsigned attribute values")
        for name, wanted, have in zip(where, listed, present, strict=True):
            missing = _unmatched(wanted, have)
            if missing:
                entries = "entry matches" if missing == 1 else "entries match"
                problems.append(f"{missing} ats-hash-index-v3 {entries} nothing in {name}")
        hash_index_consistent = not problems

    imprint_matches = False
    content_digest = content_digest_for(md_algorithm)
    if content_digest is None:
        problems.append("signed content not available, message imprint not computed")
    else:
        try:
            computed = _hash(md_algorithm, _imprint_input(signed_data, signer_info, content_digest, index_encoding))
        except _MALFORMED as exc:
            problems.append(f"message imprint cannot be computed: {exc}")
        else:
            imprint_matches = computed == expected_imprint
            if not imprint_matches:
                problems.append("message imprint does not match the signature and content")

    return AtsV3Check(imprint_matches, hash_index_consistent, "; ".join(problems) or None, md_algorithm)


# --- production -----------------------------------------------------------------------------------------------------


def prepare_archive_timestamp_v3(
    signed_data: cms.SignedData, signer_info: cms.SignerInfo, content_digest: bytes, md_algorithm: str = "sha256"
) -> tuple[ATSHashIndexV3, bytes]:
    """The hash index to store in the token and the message imprint to send to the TSA, for the signature as it is now.

    :param content_digest: hash of the signed content with ``md_algorithm``.
    :return: (index, digest); request the time-stamp on ``digest`` with ``md_algorithm``, then call
        :func:`attach_archive_timestamp_v3` with the same index and an unchanged signature.
    """
    index = build_ats_hash_index_v3(signed_data, signer_info, md_algorithm)
    return index, _hash(md_algorithm, ats_v3_imprint_input(signed_data, signer_info, content_digest, index))


def _with_unsigned_attribute(signer_info: cms.SignerInfo, attribute: bytes) -> bytes:
    """The signer info re-assembled from its untouched field encodings, with one unsigned attribute appended last.

    Done on bytes: asn1crypto would re-sort the SET OF unsigned attributes when re-encoding it.
    """
    fields = [tlv for tlv in _children(signer_info) if tlv[0] != _TAG_CONTEXT_1]
    unsigned = [*_children(signer_info["unsigned_attrs"]), attribute]
    return _tlv(_TAG_SEQUENCE, b"".join(fields) + _tlv(_TAG_CONTEXT_1, b"".join(unsigned)))


def _with_signer_info(signed_data: cms.SignedData, index: int, new_signer_info: bytes) -> bytes:
    """The signed data re-assembled with one signer info replaced, the others and their order untouched."""
    fields = _children(signed_data)
    if not fields or fields[-1][0] != _TAG_SET:
        raise ValueError("SignedData does not end with signerInfos")
    signer_infos = _children(signed_data["signer_infos"])
    signer_infos[index] = new_signer_info
    return _tlv(_TAG_SEQUENCE, b"".join(fields[:-1]) + _tlv(_TAG_SET, b"".join(signer_infos)))


def attach_archive_timestamp_v3(
    signed_data: cms.SignedData, signer_index: int, tst: cms.ContentInfo, hash_index: ATSHashIndexV3
) -> cms.SignedData:
    """A new SignedData whose signer ``signer_index`` carries ``tst`` as an archive-time-stamp-v3.

    The index goes into the token's own SignerInfo as an unsigned attribute (outside what the TSA signed), then the
    token is appended as the signer's last unsigned attribute. Every other encoding is kept byte for byte, so
    existing signatures and time-stamps stay valid.

    :raises ValueError: if ``hash_index`` no longer describes the signature (it changed after preparation), or
        ``tst`` is not a time-stamp token with one signer.
    """
    signer_info = signed_data["signer_infos"][signer_index]
    algorithm = hash_index["hash_ind_algorithm"]["algorithm"].native
    if build_ats_hash_index_v3(signed_data, signer_info, algorithm).dump() != hash_index.dump():
        raise ValueError("hash index does not describe the signature as it is now; prepare the time-stamp again")
    token_data = tst["content"]
    if token_data["encap_content_info"]["content_type"].native != "tst_info":
        raise ValueError("not a time-stamp token")
    if len(token_data["signer_infos"]) != 1:
        raise ValueError("time-stamp token does not have exactly one signer")

    index_attribute = _attribute_tlv(ATS_HASH_INDEX_V3_OID, [hash_index.dump()])
    token_signer = _with_unsigned_attribute(token_data["signer_infos"][0], index_attribute)
    content_type_tlv = _children(tst)[0]
    token = _tlv(_TAG_SEQUENCE, content_type_tlv + _tlv(_TAG_CONTEXT_0, _with_signer_info(token_data, 0, token_signer)))

    ats_attribute = _attribute_tlv(ARCHIVE_TIME_STAMP_V3_OID, [token])
    new_signer = _with_unsigned_attribute(signer_info, ats_attribute)
    return cms.SignedData.load(_with_signer_info(signed_data, signer_index, new_signer))
