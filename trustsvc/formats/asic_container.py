"""What an ASiC container (ETSI EN 319 162-1) holds: its kind, data files, signatures, time-stamps and manifests.

This module only reads the container; validating the signatures is someone else's job. It sorts the entries by the
names EN 319 162-1 gives them, parses each ``META-INF/ASiCManifest*.xml`` (a CAdES signature or a time-stamp of
an ASiC-E container signs a manifest, which in turn lists the data files by digest), and says what is off without
refusing (``warnings``), so the report can show it. The ZIP underneath is opened by
:mod:`~trustsvc.formats.zip_safety` and the manifests are parsed by :mod:`~trustsvc.trust.xml_safety`, so a
hostile container is refused with an :class:`~trustsvc.errors.InputError` before it can hurt.

A container without any signature or time-stamp is returned as it is (empty tuples): the validator reports
NO_SIGNATURE_FOUND, which is an outcome, not an input error.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import re
import zipfile
from dataclasses import dataclass
from urllib.parse import unquote

from lxml import etree

from ..errors import InputError, UnsupportedFormatError
from ..trust.xml_safety import parse_xml
from .zip_safety import DEFAULT_LIMITS, SafeZip, ZipLimits, open_zip

__all__ = [
    "ASIC_E",
    "ASIC_E_MIMETYPE",
    "ASIC_S",
    "ASIC_S_MIMETYPE",
    "AsicContainer",
    "AsicManifest",
    "ManifestReference",
    "digest_algorithm_name",
    "read_container",
    "resolve_uri",
]

ASIC_S = "ASiC-S"
ASIC_E = "ASiC-E"
ASIC_S_MIMETYPE = "application/vnd.etsi.asic-s+zip"
ASIC_E_MIMETYPE = "application/vnd.etsi.asic-e+zip"
_KIND_BY_MIMETYPE = {ASIC_S_MIMETYPE: ASIC_S, ASIC_E_MIMETYPE: ASIC_E}

_ASIC_NS = "http://uri.etsi.org/02918/v1.2.1#"
_DS_NS = "http://www.w3.org/2000/09/xmldsig#"
_META = "META-INF/"
_MIMETYPE = "mimetype"
_MIMETYPE_MAX = 256  # the longest ASiC mimetype is 31 bytes; anything long is something else
_MANIFEST_MAX = 16 << 20  # a manifest of 1000 references is ~0.5 MB

# DigestMethod/@Algorithm -> hashlib name (XML-DSig, XML-Enc, RFC 6931 "xmldsig-more").
_DIGESTS = {
    "http://www.w3.org/2000/09/xmldsig#sha1": "sha1",
    "http://www.w3.org/2001/04/xmldsig-more#sha224": "sha224",
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
    "http://www.w3.org/2007/05/xmldsig-more#sha3-224": "sha3_224",
    "http://www.w3.org/2007/05/xmldsig-more#sha3-256": "sha3_256",
    "http://www.w3.org/2007/05/xmldsig-more#sha3-384": "sha3_384",
    "http://www.w3.org/2007/05/xmldsig-more#sha3-512": "sha3_512",
}
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# Names of META-INF entries per kind (EN 319 162-1, ASiC-S and ASiC-E clauses); the first pattern matching wins.
_MANIFEST_PATTERN = "ASiCManifest*.xml"
_ROLE_PATTERNS = {
    ASIC_S: (("xades", "signatures.xml"), ("cades", "*signature*.p7s"), ("timestamp", "*timestamp*.tst")),
    ASIC_E: (("xades", "*signatures*.xml"), ("cades", "*signature*.p7s"), ("timestamp", "*timestamp*.tst")),
}
_ASIC_S_NAMES = {"xades": "signatures.xml", "cades": "signature.p7s", "timestamp": "timestamp.tst"}


@dataclass(frozen=True)
class ManifestReference:
    """One asic:DataObjectReference: a file the manifest's signature covers, by digest."""

    uri: str
    digest_algorithm: str  # hashlib name ("sha256"), or the DigestMethod URI when it is not one we know
    digest: bytes
    mime_type: str | None
    root_file: bool  # @Rootfile="true": the main document of the container


@dataclass(frozen=True)
class AsicManifest:
    """One ``META-INF/ASiCManifest*.xml``: what the signature or time-stamp it names covers."""

    name: str
    signature_uri: str  # asic:SigReference/@URI: the .p7s or .tst that signs this manifest
    signature_mime_type: str | None
    references: tuple[ManifestReference, ...]
    raw: bytes  # exactly as in the ZIP: a CAdES signature or a time-stamp signs these bytes


@dataclass(frozen=True)
class AsicContainer:
    """The entries of an ASiC container sorted by role, and what about it departs from EN 319 162-1."""

    kind: str  # ASIC_S or ASIC_E
    mimetype: str | None  # content of the "mimetype" entry (surrounding whitespace dropped)
    data_files: tuple[str, ...]  # every entry outside META-INF/ except "mimetype" and directories
    cades_signatures: tuple[str, ...]
    xades_signatures: tuple[str, ...]
    timestamps: tuple[str, ...]
    manifests: tuple[AsicManifest, ...]
    other_meta: tuple[str, ...]  # META-INF entries of no ASiC role (an ODF manifest.xml, ASiCArchiveManifest...)
    warnings: tuple[tuple[str, str], ...]  # (code, message)
    zip: SafeZip


def read_container(data: bytes, limits: ZipLimits = DEFAULT_LIMITS) -> AsicContainer:
    """Open `data` as an ASiC container and say what it holds.

    :raises InputError: the ZIP is refused (``zip-*`` codes of :func:`~trustsvc.formats.zip_safety.open_zip`),
        an ASiC-S holds several data files (``asic-s-several-files``), a manifest is not usable
        (``asic-manifest-malformed``, or the codes of :func:`~trustsvc.trust.xml_safety.parse_xml`).
    :raises UnsupportedFormatError: the mimetype names something other than ASiC (an OpenDocument file...).
    """
    archive = open_zip(data, limits)
    mimetype, warnings = _read_mimetype(archive)
    names = [name for name in archive.names() if not name.endswith("/")]
    data_files = tuple(name for name in names if not name.startswith(_META) and name != _MIMETYPE)
    meta = [name for name in names if name.startswith(_META)]
    kind = _kind(mimetype, data_files, meta, warnings)
    if kind == ASIC_S and len(data_files) > 1:
        raise InputError(
            f"The ASiC-S container holds {len(data_files)} data files; an ASiC-S container holds exactly one",
            code="asic-s-several-files",
        )
    roles = _sort_meta(meta, kind, warnings)
    return AsicContainer(
        kind=kind,
        mimetype=mimetype,
        data_files=data_files,
        cades_signatures=tuple(roles["cades"]),
        xades_signatures=tuple(roles["xades"]),
        timestamps=tuple(roles["timestamp"]),
        manifests=tuple(_parse_manifest(archive, name) for name in roles["manifest"]),
        other_meta=tuple(roles["other"]),
        warnings=tuple(warnings),
        zip=archive,
    )


def resolve_uri(container: AsicContainer, uri: str) -> str | None:
    """The entry a manifest or signature reference points at, or None if it points outside the container.

    References are URIs relative to the container's root: percent-encoding is undone, ``.`` segments dropped and
    ``..`` applied, but never above the root. A URI with a scheme, a query, a fragment, an absolute path, a
    backslash or a control character resolves to nothing, as does one naming a directory or a missing entry.
    """
    path = _uri_path(uri)
    if path is None or path.endswith("/") or path not in container.zip:
        return None
    return path


def digest_algorithm_name(uri: str) -> str:
    """The hashlib name of an XML-DSig DigestMethod URI, or the URI itself when it is not one we know."""
    return _DIGESTS.get(uri.strip(), uri)


# --- mimetype and kind ------------------------------------------------------------------------------------------


def _read_mimetype(archive: SafeZip) -> tuple[str | None, list[tuple[str, str]]]:
    """The mimetype entry's text and the warnings about how it is stored (first, uncompressed, no extra field)."""
    if _MIMETYPE not in archive:
        return None, []
    info = archive.info(_MIMETYPE)
    if info.file_size > _MIMETYPE_MAX:
        raise UnsupportedFormatError(f"not an ASiC container (mimetype entry of {info.file_size} bytes)")
    raw = archive.read(_MIMETYPE, max_bytes=_MIMETYPE_MAX)
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise UnsupportedFormatError(f"not an ASiC container (mimetype {raw[:64]!r})") from None
    return text.strip(), _mimetype_warnings(archive, info, text)


def _mimetype_warnings(archive: SafeZip, info: zipfile.ZipInfo, text: str) -> list[tuple[str, str]]:
    """EN 319 162-1 annex A (as in OCF/ODF): "mimetype" first, stored, no extra field, the media type alone."""
    warnings: list[tuple[str, str]] = []
    first = archive.first_entry()
    if first is None or first.filename != _MIMETYPE:
        warnings.append(("MIMETYPE_NOT_FIRST", "the mimetype entry is not the first entry of the ZIP"))
    if info.compress_type != zipfile.ZIP_STORED:
        warnings.append(("MIMETYPE_COMPRESSED", "the mimetype entry is compressed; it should be stored"))
    if info.extra or archive.local_extra(_MIMETYPE):
        warnings.append(("MIMETYPE_EXTRA_FIELD", "the mimetype entry has an extra field; it should have none"))
    if text != text.strip():
        warnings.append(("MIMETYPE_WHITESPACE", "the mimetype entry has whitespace around the media type"))
    return warnings


def _kind(mimetype: str | None, data_files: tuple[str, ...], meta: list[str], warnings: list[tuple[str, str]]) -> str:
    """ASiC-S or ASiC-E from the mimetype, or, without one, from what the container holds."""
    if mimetype is not None:
        kind = _KIND_BY_MIMETYPE.get(mimetype)
        if kind is None:
            raise UnsupportedFormatError(f"not an ASiC container (mimetype {mimetype[:80]!r})")
        return kind
    has_manifest = any(_meta_match(name, _MANIFEST_PATTERN) for name in meta)
    kind = ASIC_S if len(data_files) == 1 and not has_manifest else ASIC_E
    warnings.append(("MIMETYPE_MISSING", f"the container has no mimetype entry; read as {kind} from its contents"))
    return kind


# --- META-INF ---------------------------------------------------------------------------------------------------


def _sort_meta(meta: list[str], kind: str, warnings: list[tuple[str, str]]) -> dict[str, list[str]]:
    """META-INF entries by role: manifest, xades, cades, timestamp, other."""
    roles: dict[str, list[str]] = {role: [] for role in ("manifest", "xades", "cades", "timestamp", "other")}
    for name in meta:
        role = _role(name, kind)
        roles[role].append(name)
        _warn_nonstandard(name, role, kind, warnings)
    return roles


def _role(name: str, kind: str) -> str:
    """What a META-INF entry is, by its name; entries in subfolders of META-INF have no ASiC role."""
    if _meta_match(name, _MANIFEST_PATTERN):
        return "manifest"
    for role, pattern in _ROLE_PATTERNS[kind]:
        if _meta_match(name, pattern):
            return role
    return "other"


def _warn_nonstandard(name: str, role: str, kind: str, warnings: list[tuple[str, str]]) -> None:
    """ASiC-S names its one signature or time-stamp exactly; say so when it is named the ASiC-E way."""
    if kind != ASIC_S:
        return
    base = name.removeprefix(_META)
    if role in _ASIC_S_NAMES and base != _ASIC_S_NAMES[role]:
        warnings.append(("NONSTANDARD_NAME", f"{name} is not named {_META}{_ASIC_S_NAMES[role]} as ASiC-S requires"))
    elif role == "other" and _meta_match(name, _ROLE_PATTERNS[ASIC_E][0][1]):
        warnings.append(
            ("NONSTANDARD_NAME", f"{name} is not read as a signature: ASiC-S names it {_META}signatures.xml")
        )


def _meta_match(name: str, pattern: str) -> bool:
    """Whether `name` is directly in META-INF/ and its file name matches `pattern` (case-sensitive)."""
    if not name.startswith(_META):
        return False
    base = name[len(_META) :]
    return "/" not in base and fnmatch.fnmatchcase(base, pattern)


# --- ASiCManifest -----------------------------------------------------------------------------------------------


def _parse_manifest(archive: SafeZip, name: str) -> AsicManifest:
    """One ASiCManifest: its SigReference and DataObjectReferences, and its bytes as signed."""
    raw = archive.read(name, max_bytes=_MANIFEST_MAX)
    root = parse_xml(raw)
    if root.tag != _asic("ASiCManifest"):
        raise _manifest_error(name, f"its root element is {_local_name(root.tag)}, not asic:ASiCManifest")
    sig_refs = root.findall(_asic("SigReference"))
    if len(sig_refs) != 1:
        raise _manifest_error(name, f"it has {len(sig_refs)} asic:SigReference elements instead of one")
    signature_uri = sig_refs[0].get("URI")
    if not signature_uri:
        raise _manifest_error(name, "its asic:SigReference has no URI")
    references = tuple(_reference(name, element) for element in root.findall(_asic("DataObjectReference")))
    return AsicManifest(
        name=name,
        signature_uri=signature_uri,
        signature_mime_type=sig_refs[0].get("MimeType"),
        references=references,
        raw=raw,
    )


def _reference(manifest: str, element: etree._Element) -> ManifestReference:
    """One asic:DataObjectReference, its digest decoded."""
    uri = element.get("URI")
    if not uri:
        raise _manifest_error(manifest, "an asic:DataObjectReference has no URI")
    method = element.find(f"{{{_DS_NS}}}DigestMethod")
    algorithm = method.get("Algorithm") if method is not None else None
    if not algorithm:
        raise _manifest_error(manifest, f"the reference to {uri!r} has no ds:DigestMethod/@Algorithm")
    return ManifestReference(
        uri=uri,
        digest_algorithm=digest_algorithm_name(algorithm),
        digest=_digest_value(manifest, uri, element.find(f"{{{_DS_NS}}}DigestValue")),
        mime_type=element.get("MimeType"),
        root_file=(element.get("Rootfile") or "").strip() in ("true", "1"),
    )


def _digest_value(manifest: str, uri: str, element: etree._Element | None) -> bytes:
    """The bytes of a ds:DigestValue: strict base64, whitespace allowed between characters."""
    text = "".join((element.text or "").split()) if element is not None else ""
    try:
        digest = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if not digest:
        raise _manifest_error(manifest, f"the reference to {uri!r} has no valid base64 ds:DigestValue")
    return digest


def _asic(local: str) -> str:
    return f"{{{_ASIC_NS}}}{local}"


def _local_name(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else repr(tag)


def _manifest_error(name: str, detail: str) -> InputError:
    return InputError(f"The ASiC manifest {name!r} is malformed: {detail}", code="asic-manifest-malformed")


# --- URIs -------------------------------------------------------------------------------------------------------


def _uri_path(uri: str) -> str | None:
    """A relative reference as an entry name, or None if it cannot name an entry of the container."""
    if not uri or _SCHEME.match(uri) or "?" in uri or "#" in uri:
        return None
    try:
        path = unquote(uri, errors="strict")
    except UnicodeDecodeError:
        return None
    if path.startswith("/") or "\\" in path or _CONTROL.search(path):
        return None
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == ".":
            continue
        if segment == "..":
            if not segments:
                return None  # above the root
            segments.pop()
            continue
        segments.append(segment)
    return "/".join(segments) if segments else None
