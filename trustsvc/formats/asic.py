"""ASiC-S and ASiC-E containers (ETSI EN 319 162-1) with CAdES or XAdES signatures, or time-stamp tokens.

The container is opened by :mod:`.asic_container` (ZIP bombs, traversal and duplicate names refused before
anything is inflated). Data files are streamed to a private temporary folder and hashed from there, like the
detached content of a .p7s. Then:

* a CAdES signature of an ASiC-S signs the data file; of an ASiC-E, an ASiCManifest whose listed digests must
  match the data files (a changed file is HASH_FAILURE of that signature, a missing one SIGNED_DATA_NOT_FOUND);
* a XAdES signature references the data files by name (the XAdES validator digests them);
* a time-stamp token (``timestamp.tst``) is reported as a signature of format RFC3161, like a standalone token;
* a data file that no signature or time-stamp covers is a document error (``UNSIGNED_FILE``), and the
  signatures that leave it out have a PARTIAL scope.
"""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import cms
from lxml import etree

from ..errors import InputError
from ..trust.xml_safety import parse_xml
from ..verdict import Finding, Indication, SignatureVerdict, SubIndication
from .asic_container import AsicContainer, AsicManifest, read_container, resolve_uri
from .cades import validate_cms
from .content import DetachedContent
from .detect import detect
from .parse_errors import ASN1_ERRORS
from .settings import ValidationSettings
from .timestamp import validate_timestamp_token
from .xades import validate_xades_root
from .xml_dsig import DS

__all__ = ["AsicResult", "validate_asic"]

#: Largest signature, manifest or time-stamp file read from a container.
MAX_META_BYTES = 32 * 1024 * 1024


@dataclass
class AsicResult:
    format: str
    signatures: list[SignatureVerdict] = field(default_factory=list)
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)


async def validate_asic(data: bytes, settings: ValidationSettings) -> AsicResult:
    container = read_container(data)
    result = AsicResult(container.kind, warnings=[Finding(code, message) for code, message in container.warnings])
    with tempfile.TemporaryDirectory(prefix="trustsvc-asic-") as folder:
        contents = _extract(container, Path(folder))
        coverage: dict[str, set[str]] = {}  # signature id -> data files it covers
        await _cades(container, contents, settings, result, coverage, Path(folder))
        await _xades(container, contents, settings, result, coverage)
        await _timestamps(container, contents, settings, result, coverage, Path(folder))
    _report_coverage(container, result, coverage)
    return result


def _extract(container: AsicContainer, folder: Path) -> dict[str, DetachedContent]:
    contents = {}
    for index, name in enumerate(container.data_files):
        path = folder / f"data-{index}"
        container.zip.extract_to(name, path)
        contents[name] = DetachedContent(name, path)
    return contents


def _read(container: AsicContainer, name: str) -> bytes:
    return container.zip.read(name, max_bytes=MAX_META_BYTES)


def _manifest_for(container: AsicContainer, signature_name: str) -> AsicManifest | None:
    for manifest in container.manifests:
        if resolve_uri(container, manifest.signature_uri) == signature_name:
            return manifest
    return None


def _numbered(verdicts: list[SignatureVerdict], result: AsicResult, prefix: str = "sig") -> list[SignatureVerdict]:
    first = sum(1 for v in result.signatures if v.id.startswith(prefix + "-") and "-counter-" not in v.id) + 1
    out = []
    number = first - 1
    for verdict in verdicts:
        if "-counter-" in verdict.id:
            out.append(dataclasses.replace(verdict, id=f"{prefix}-{number}-counter-{verdict.id.rsplit('-', 1)[1]}"))
        else:
            number += 1
            out.append(dataclasses.replace(verdict, id=f"{prefix}-{number}"))
    return out


# -- CAdES ------------------------------------------------------------------------------------------------------


async def _cades(container, contents, settings, result: AsicResult, coverage, folder: Path) -> None:
    for name in container.cades_signatures:
        der = _cms_bytes(_read(container, name), name)
        if der is None:
            result.errors.append(Finding("MALFORMED_SIGNATURE_FILE", f"{name} is not a CMS signature."))
            continue
        if container.kind == "ASiC-S":
            verdicts = await validate_cms(der, list(contents.values()), settings)
            covered = set(contents)
        else:
            manifest = _manifest_for(container, name)
            if manifest is None:
                result.errors.append(
                    Finding("NO_MANIFEST", f"No ASiCManifest names {name}: what it signs in the container is unknown.")
                )
                continue
            manifest_file = folder / f"manifest-{len(coverage)}"
            manifest_file.write_bytes(manifest.raw)
            verdicts = await validate_cms(der, [DetachedContent(manifest.name, manifest_file)], settings)
            problem, covered = await _check_manifest(container, manifest, contents)
            verdicts = [_with_problem(v, problem) for v in verdicts]
        for verdict in _numbered(verdicts, result):
            result.signatures.append(verdict)
            coverage[verdict.id] = covered


def _cms_bytes(data: bytes, name: str) -> bytes | None:
    try:
        detected = detect(data)
    except InputError:
        return None
    return detected.data if detected.content_info is not None else None


async def _check_manifest(
    container: AsicContainer, manifest: AsicManifest, contents: dict[str, DetachedContent]
) -> tuple[tuple[SubIndication, Finding] | None, set[str]]:
    """Each file the manifest lists must be in the container with the digest it lists."""
    covered: set[str] = set()
    missing, altered, unknown = [], [], []
    for reference in manifest.references:
        entry = resolve_uri(container, reference.uri)
        content = contents.get(entry) if entry is not None else None
        if content is None:
            missing.append(reference.uri)
            continue
        try:
            await content.ensure_digests([reference.digest_algorithm])
        except ValueError:
            unknown.append(reference.uri)
            continue
        digest = content.digest(reference.digest_algorithm)
        if digest is None:
            unknown.append(reference.uri)
        elif digest != reference.digest:
            altered.append(entry)
        else:
            covered.add(entry)
    if altered:
        return (
            SubIndication.HASH_FAILURE,
            Finding("MANIFEST_DIGEST_MISMATCH", f"{', '.join(altered[:3])} changed after signing ({manifest.name})."),
        ), covered
    if unknown:
        return (
            SubIndication.FORMAT_FAILURE,
            Finding("MANIFEST_DIGEST_UNSUPPORTED", f"{manifest.name} uses a digest method trustsvc does not know."),
        ), covered
    if missing:
        return (
            SubIndication.SIGNED_DATA_NOT_FOUND,
            Finding("SIGNED_FILE_MISSING", f"{', '.join(missing[:3])}, listed in {manifest.name}, is not there."),
        ), covered
    if not manifest.references:
        return (
            SubIndication.FORMAT_FAILURE,
            Finding("MANIFEST_EMPTY", f"{manifest.name} lists no data file: the signature covers nothing."),
        ), covered
    return None, covered


def _with_problem(verdict: SignatureVerdict, problem: tuple[SubIndication, Finding] | None) -> SignatureVerdict:
    """Fold a manifest problem into the verdict of the signature over that manifest (the worse one stays)."""
    if problem is None:
        return verdict
    sub, finding = problem
    errors = (*verdict.errors, finding)
    if verdict.indication == Indication.TOTAL_FAILED:
        return dataclasses.replace(verdict, errors=errors)
    failed = sub in (SubIndication.HASH_FAILURE, SubIndication.FORMAT_FAILURE)
    if not failed and verdict.indication == Indication.INDETERMINATE:
        return dataclasses.replace(verdict, errors=errors)
    indication = Indication.TOTAL_FAILED if failed else Indication.INDETERMINATE
    return dataclasses.replace(verdict, indication=indication, subindication=sub, errors=errors)


# -- XAdES ------------------------------------------------------------------------------------------------------


async def _xades(container, contents, settings, result: AsicResult, coverage) -> None:
    for name in container.xades_signatures:
        root = parse_xml(_read(container, name), max_bytes=MAX_META_BYTES)
        verdicts = await validate_xades_root(root, list(contents.values()), settings)
        covered = _xades_coverage(container, root)
        if not verdicts:
            result.errors.append(Finding("NO_SIGNATURE_IN_FILE", f"{name} holds no ds:Signature."))
        for verdict in _numbered(verdicts, result):
            result.signatures.append(verdict)
            coverage[verdict.id] = covered


def _xades_coverage(container: AsicContainer, root: etree._Element) -> set[str]:
    covered = set()
    for uri in root.xpath("//ds:Signature/ds:SignedInfo/ds:Reference/@URI", namespaces={"ds": DS}):
        entry = resolve_uri(container, uri) if uri and not uri.startswith("#") else None
        if entry is not None:
            covered.add(entry)
    return covered


# -- time-stamp tokens ------------------------------------------------------------------------------------------


async def _timestamps(container, contents, settings, result: AsicResult, coverage, folder: Path) -> None:
    for name in container.timestamps:
        try:
            token = cms.ContentInfo.load(_read(container, name))
            token["content_type"].native  # noqa: B018 - parse now
        except ASN1_ERRORS:
            result.errors.append(Finding("MALFORMED_TIMESTAMP_FILE", f"{name} is not a time-stamp token."))
            continue
        if container.kind == "ASiC-S":
            verdict = await validate_timestamp_token(token, list(contents.values()), settings)
            covered = set(contents) if verdict.scope == "FULL" else set()
        else:
            manifest = _manifest_for(container, name)
            if manifest is None:
                result.errors.append(Finding("NO_MANIFEST", f"No ASiCManifest names {name}."))
                continue
            manifest_file = folder / f"ts-manifest-{len(coverage)}"
            manifest_file.write_bytes(manifest.raw)
            verdict = await validate_timestamp_token(token, [DetachedContent(manifest.name, manifest_file)], settings)
            problem, covered = await _check_manifest(container, manifest, contents)
            verdict = _with_problem(verdict, problem)
        number = sum(1 for v in result.signatures if v.id.startswith("tst-")) + 1
        verdict = dataclasses.replace(verdict, id=f"tst-{number}")
        result.signatures.append(verdict)
        coverage[verdict.id] = covered


# -- coverage ---------------------------------------------------------------------------------------------------


def _report_coverage(container: AsicContainer, result: AsicResult, coverage: dict[str, set[str]]) -> None:
    everything = set(container.data_files)
    covered = set().union(*coverage.values()) if coverage else set()
    for name in container.data_files:
        if name not in covered and result.signatures:
            result.errors.append(
                Finding("UNSIGNED_FILE", f"{name} is in the container but no signature or time-stamp covers it.")
            )
    if not container.data_files and result.signatures:
        result.errors.append(Finding("NO_SIGNED_FILE", "The container holds no data file: nothing is signed."))
    for index, verdict in enumerate(result.signatures):
        files = coverage.get(verdict.id)
        if files is None or verdict.scope == "COUNTERSIGNATURE":
            continue
        if not container.data_files:
            result.signatures[index] = _with_problem(
                verdict, (SubIndication.FORMAT_FAILURE, Finding("NO_SIGNED_FILE", "The container holds no data file."))
            )
        elif files >= everything:
            result.signatures[index] = dataclasses.replace(verdict, scope="FULL")
        elif files:
            result.signatures[index] = dataclasses.replace(verdict, scope="PARTIAL")
