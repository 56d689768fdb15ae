"""Keys that identify a certificate, computed fast and tolerantly: for the store's index and the registry.

Every listed certificate (about 4,000 in the EU lists) is read at each ingest and at each registry load, so the
parts that matter (public key, key identifier, subject) are read at the TLV level with asn1crypto's parser:
decoding the typed certificate costs ten times more, and refuses names real listed certificates get wrong (a
UTF8String countryName).
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from functools import lru_cache

from asn1crypto import core, parser, x509

__all__ = ["certificate_keys", "certificate_parts", "subject_key", "name_key", "name_key_der"]

log = logging.getLogger(__name__)


@lru_cache(maxsize=16384)
def certificate_keys(der: bytes) -> tuple[str, ...]:
    """The ``certificate_index`` keys of a certificate, for indexing a listed one or looking one up.

    ``cert:`` SHA-256 of the DER; ``spki:`` SHA-256 of the SubjectPublicKeyInfo DER; ``ski:`` the key identifier
    computed from the key (RFC 5280 method 1) and, when it differs, the one the certificate declares;
    ``subject:`` the normalised subject name. Only ``cert:`` and ``spki:`` (and the computed ``ski:``) bind the key:
    a match on a declared SKI or a subject name says that names match, nothing more.
    Undecodable DER yields only the ``cert:`` key. Cached: successive versions of a list repeat most certificates.
    """
    keys = [f"cert:{hashlib.sha256(der).hexdigest()}"]
    try:
        spki, key_bits, declared_ski, subject = certificate_parts(der)
    except (ValueError, TypeError, IndexError) as exc:
        log.debug("listed certificate %s does not decode: %s", keys[0], exc)
        return tuple(keys)
    keys.append(f"spki:{hashlib.sha256(spki).hexdigest()}")
    keys.append(f"ski:{hashlib.sha1(key_bits).hexdigest()}")
    if declared_ski:
        keys.append(f"ski:{declared_ski.hex()}")
    try:
        subject_text = _subject_key_of(_name_pairs(subject))
    except (ValueError, TypeError, IndexError) as exc:
        log.debug("listed certificate %s has an undecodable subject: %s", keys[0], exc)
        subject_text = ""
    if subject_text:
        keys.append(subject_text)
    return tuple(dict.fromkeys(keys))


_SUBJECT_KEY_IDENTIFIER = "2.5.29.14"


@lru_cache(maxsize=16384)
def certificate_parts(der: bytes) -> tuple[bytes, bytes, bytes | None, bytes]:
    """(SubjectPublicKeyInfo DER, public key bits, declared SKI, subject Name DER) of a DER certificate.

    Read at the TLV level with asn1crypto's parser: decoding the typed certificate (every extension, every name
    attribute) costs ten times more, and each ingest reads every listed certificate (about 4,000 in the EU lists).
    """
    tbs = _tlv_children(parser.parse(der)[4])[0]
    fields = _tlv_children(tbs[4])
    if fields[0][0] == 2 and fields[0][2] == 0:  # [0] EXPLICIT version
        fields = fields[1:]
    # serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, then optional [1] [2] [3]
    subject, spki = fields[4], fields[5]
    bit_string = _tlv_children(spki[4])[1]
    if bit_string[2] != 3:
        raise ValueError("subjectPublicKey is not a BIT STRING")
    declared = None
    for field in fields[6:]:
        if field[0] == 2 and field[2] == 3:  # [3] EXPLICIT Extensions
            for extension in _tlv_children(_tlv_children(field[4])[0][4]):
                parts = _tlv_children(extension[4])
                if _oid(parts[0]) == _SUBJECT_KEY_IDENTIFIER:
                    declared = parser.parse(parts[-1][4])[4]
    return _encoded(spki), bit_string[4][1:], declared, _encoded(subject)


def _encoded(tlv: tuple[int, int, int, bytes, bytes, bytes]) -> bytes:
    return tlv[3] + tlv[4] + tlv[5]


def _oid(tlv: tuple[int, int, int, bytes, bytes, bytes]) -> str:
    return _dotted(_encoded(tlv))


@lru_cache(maxsize=1024)
def _dotted(encoded: bytes) -> str:
    """An encoded OID in dotted form (names use a few dozen OIDs over and over)."""
    return core.ObjectIdentifier.load(encoded).dotted


#: Attribute names seen in X509SubjectName values, mapped to the OIDs certificates carry.
_ATTRIBUTE_OIDS = {
    "cn": "2.5.4.3",
    "commonname": "2.5.4.3",
    "sn": "2.5.4.4",
    "surname": "2.5.4.4",
    "serialnumber": "2.5.4.5",
    "c": "2.5.4.6",
    "countryname": "2.5.4.6",
    "l": "2.5.4.7",
    "localityname": "2.5.4.7",
    "st": "2.5.4.8",
    "s": "2.5.4.8",
    "stateorprovincename": "2.5.4.8",
    "street": "2.5.4.9",
    "streetaddress": "2.5.4.9",
    "o": "2.5.4.10",
    "organizationname": "2.5.4.10",
    "ou": "2.5.4.11",
    "organizationalunitname": "2.5.4.11",
    "t": "2.5.4.12",
    "title": "2.5.4.12",
    "businesscategory": "2.5.4.15",
    "postalcode": "2.5.4.17",
    "g": "2.5.4.42",
    "gn": "2.5.4.42",
    "givenname": "2.5.4.42",
    "initials": "2.5.4.43",
    "generationqualifier": "2.5.4.44",
    "dnqualifier": "2.5.4.46",
    "pseudonym": "2.5.4.65",
    "organizationidentifier": "2.5.4.97",
    "uid": "0.9.2342.19200300.100.1.1",
    "dc": "0.9.2342.19200300.100.1.25",
    "e": "1.2.840.113549.1.9.1",
    "email": "1.2.840.113549.1.9.1",
    "emailaddress": "1.2.840.113549.1.9.1",
}
_DOTTED = re.compile(r"^\d+(\.\d+)+$")
_ESCAPE = re.compile(r"\\([0-9A-Fa-f]{2}|.)", re.DOTALL)


def subject_key(name: str | x509.Name) -> str:
    """The ``subject:`` key of a distinguished name, from a certificate or an X509SubjectName string.

    Lists write names in either order and with varying attribute labels and spacing, so the key is the sorted set of
    ``oid=value`` pairs, values folded as RFC 4518 string preparation does (case, width, spaces). Empty for an
    empty name.
    """
    if isinstance(name, str):
        return _text_subject_key(name)
    return _subject_key_of(_name_pairs(name.dump()))


@lru_cache(maxsize=16384)
def _text_subject_key(text: str) -> str:
    return _subject_key_of(_parse_dn(text))


def _subject_key_of(pairs: list[tuple[str, str]]) -> str:
    if not pairs:
        return ""
    rendered = ",".join(sorted(f"{oid}={_escape_value(_fold(value))}" for oid, value in pairs))
    if len(rendered) > _LONGEST_SUBJECT:  # beyond what a PostgreSQL index entry holds: a digest stands in
        return f"subject:sha256:{hashlib.sha256(rendered.encode()).hexdigest()}"
    return f"subject:{rendered}"


_LONGEST_SUBJECT = 1024


#: How each ASN.1 string type (universal tag) decodes; any other value type is rendered ``#hex`` as in RFC 4514.
_STRING_CODECS = {
    12: "utf-8",
    19: "latin-1",
    20: "latin-1",
    22: "latin-1",
    26: "latin-1",
    28: "utf-32-be",
    30: "utf-16-be",
}


def _name_pairs(der: bytes) -> list[tuple[str, str]]:
    """(oid, text) for each attribute of a DER Name, read at the TLV level.

    Reading the value by its actual tag, not the type the attribute's OID calls for, keeps names that real listed
    certificates get wrong (a UTF8String country name), which asn1crypto's typed decoding refuses; it is also
    several times faster, and the whole listed set of certificates goes through here at each ingest.
    """
    pairs = []
    for rdn in _tlv_children(parser.parse(der)[4]):
        for atv in _tlv_children(rdn[4]):
            oid_tlv, value_tlv = _tlv_children(atv[4])[:2]
            oid = _oid(oid_tlv)
            codec = _STRING_CODECS.get(value_tlv[2]) if value_tlv[0] == 0 else None
            if codec:
                pairs.append((oid, value_tlv[4].decode(codec, errors="replace")))
            else:
                pairs.append((oid, "#" + _encoded(value_tlv).hex()))
    return pairs


def _tlv_children(contents: bytes) -> list[tuple[int, int, int, bytes, bytes, bytes]]:
    """The elements encoded one after the other in `contents` (class, method, tag, header, contents, trailer)."""
    children = []
    while contents:
        child = parser.parse(contents)  # the first element; what follows is left for the next round
        children.append(child)
        contents = contents[len(child[3]) + len(child[4]) + len(child[5]) :]
    return children


def _fold(value: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def _escape_value(value: str) -> str:
    return re.sub(r"([\\,=+])", r"\\\1", value)


def _parse_dn(text: str) -> list[tuple[str, str]]:
    """RFC 4514-like text to (oid, value) pairs, tolerant of what real lists contain (unescaped commas, ``OID.``)."""
    pieces: list[str] = []
    token: list[str] = []
    quoted = False
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            token.append(text[i : i + 2])
            i += 2
            continue
        if char == '"':
            quoted = not quoted
        elif char in ",;+" and not quoted:
            pieces.append("".join(token))
            token = []
            i += 1
            continue
        token.append(char)
        i += 1
    pieces.append("".join(token))
    pairs: list[tuple[str, str]] = []
    for piece in pieces:
        label, sep, value = piece.partition("=")
        if not sep or not label.strip() or " " in label.strip():
            if pairs:  # a separator inside a value that the list did not escape
                oid, previous = pairs[-1]
                pairs[-1] = (oid, f"{previous},{piece}")
            continue
        pairs.append((_attribute_oid(label), value))
    return [(oid, _unescape(value)) for oid, value in pairs]


def _attribute_oid(label: str) -> str:
    label = label.strip().lower()
    if label.startswith("oid."):
        label = label[4:]
    if _DOTTED.match(label):
        return label
    return _ATTRIBUTE_OIDS.get(label, label)


def _unescape(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    out = bytearray()
    position = 0
    for match in _ESCAPE.finditer(value):
        out += value[position : match.start()].encode()
        escaped = match.group(1)
        out += bytes.fromhex(escaped) if len(escaped) == 2 else escaped.encode()
        position = match.end()
    out += value[position:].encode()
    return out.decode("utf-8", errors="replace")


def name_key(name: x509.Name) -> str:
    """The ``subject:`` key of a parsed name (a certificate's subject or issuer, an OCSP responder id); empty if
    it cannot be read. A name inside an explicit tag (OCSP's ResponderID) is keyed without the tag."""
    return name_key_der(name.untag().dump() if name.explicit else name.dump())


@lru_cache(maxsize=16384)
def name_key_der(der: bytes) -> str:
    """The ``subject:`` key of a DER-encoded Name; empty if it cannot be read."""
    try:
        return _subject_key_of(_name_pairs(der))
    except (ValueError, TypeError, IndexError):
        return ""
