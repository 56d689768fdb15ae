"""The XML-DSig core of one ds:Signature, verified with python-xmlsec (libxmlsec1), and what it really signed.

Why xmlsec and not signxml (../shared/reference/xades.md §0, §7): spec-complete C14N 1.0/1.1/exclusive, XPath and
XPath Filter 2 transforms, no re-serialisation of the document per reference. xmlsec has no notion of "what was
signed", so this module adds the defences against signature wrapping (§1.4):

* every Id attribute value must be unique in the document, else FORMAT_FAILURE (an attacker's duplicate would
  otherwise decide which element a ``#id`` reference covers);
* every same-document reference must resolve to exactly one element; one that resolves to nothing is
  SIGNED_DATA_NOT_FOUND; the elements the references cover are returned, so the report states the scope;
* only a whitelist of transforms runs (no XSLT, no XPointer), and the number of references is bounded;
* external references are served only from the files the caller supplied (xmlsec's default file and network
  handlers are removed at import), so a signature can never make the validator read a local path.

When the core does not verify, every reference digest is recomputed to say which one failed: a digest mismatch is
HASH_FAILURE (the signed data changed), an intact set of digests means the signature value itself is wrong
(SIG_CRYPTO_FAILURE).
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import hashlib
import threading
from dataclasses import dataclass, field
from urllib.parse import unquote

import xmlsec
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa, utils
from lxml import etree

from ..verdict import SubIndication
from .content import DetachedContent

__all__ = [
    "DS",
    "Reference",
    "CoreProblem",
    "CoreResult",
    "SIGNATURE_METHODS",
    "DIGEST_METHODS",
    "duplicate_ids",
    "find_content",
    "element_ids",
    "read_references",
    "verify_core",
]

DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"ds": DS}
MAX_REFERENCES = 2000

ENVELOPED = DS + "enveloped-signature"
C14N_10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_11 = "http://www.w3.org/2006/12/xml-c14n11"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
XPATH = "http://www.w3.org/TR/1999/REC-xpath-19991116"
XPATH_FILTER2 = "http://www.w3.org/2002/06/xmldsig-filter2"
BASE64 = DS + "base64"  # python-xmlsec cannot whitelist it: such references are digested by xades_archive

_TRANSFORMS = {
    ENVELOPED: xmlsec.constants.TransformEnveloped,
    C14N_10: xmlsec.constants.TransformInclC14N,
    C14N_10 + "#WithComments": xmlsec.constants.TransformInclC14NWithComments,
    C14N_11: xmlsec.constants.TransformInclC14N11,
    C14N_11 + "#WithComments": xmlsec.constants.TransformInclC14N11WithComments,
    EXC_C14N: xmlsec.constants.TransformExclC14N,
    EXC_C14N + "WithComments": xmlsec.constants.TransformExclC14NWithComments,
    XPATH: xmlsec.constants.TransformXPath,
    XPATH_FILTER2: xmlsec.constants.TransformXPath2,
}

#: DigestMethod URI -> hashlib name (RFC 6931 and XML-DSig 1.1).
DIGEST_METHODS = {
    DS + "sha1": "sha1",
    "http://www.w3.org/2001/04/xmldsig-more#sha224": "sha224",
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
    "http://www.w3.org/2007/05/xmldsig-more#sha3-256": "sha3_256",
    "http://www.w3.org/2007/05/xmldsig-more#sha3-384": "sha3_384",
    "http://www.w3.org/2007/05/xmldsig-more#sha3-512": "sha3_512",
}
_DIGEST_TRANSFORMS = [
    xmlsec.constants.TransformSha1,
    xmlsec.constants.TransformSha224,
    xmlsec.constants.TransformSha256,
    xmlsec.constants.TransformSha384,
    xmlsec.constants.TransformSha512,
]

#: SignatureMethod URI -> (mechanism as in asn1crypto's signature_algo, hash).
SIGNATURE_METHODS = {
    DS + "rsa-sha1": ("rsassa_pkcs1v15", "sha1"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha224": ("rsassa_pkcs1v15", "sha224"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": ("rsassa_pkcs1v15", "sha256"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": ("rsassa_pkcs1v15", "sha384"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": ("rsassa_pkcs1v15", "sha512"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1": ("ecdsa", "sha1"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha224": ("ecdsa", "sha224"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": ("ecdsa", "sha256"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": ("ecdsa", "sha384"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": ("ecdsa", "sha512"),
    DS + "dsa-sha1": ("dsa", "sha1"),
    "http://www.w3.org/2009/xmldsig11#dsa-sha256": ("dsa", "sha256"),
}
_ID_ATTRIBUTES = ("Id", "ID", "id")
_XML_ID = "{http://www.w3.org/XML/1998/namespace}id"


# -- external content: served only from what the caller supplied --------------------------------------------------

_served = threading.local()


def _match(name: str) -> bool:
    return _lookup(name) is not None


def _lookup(name: str) -> DetachedContent | None:
    return find_content(getattr(_served, "contents", None) or {}, name)


def find_content(contents: dict[str, DetachedContent], name: str) -> DetachedContent | None:
    """The supplied file an external reference names: as written, percent-decoded, or by its last segment."""
    return contents.get(name) or contents.get(unquote(name)) or contents.get(unquote(name).rsplit("/", 1)[-1])


def _open(name: str):
    content = _lookup(name)
    return content.path.open("rb") if content is not None else None


def _read(stream, buffer) -> int:
    return stream.readinto(buffer)


def _close(stream) -> None:
    stream.close()


xmlsec.cleanup_callbacks()  # no file:// or http:// handler: a reference must never read the validator's files
xmlsec.register_callbacks(_match, _open, _read, _close)


# -- references -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """One ds:Reference of SignedInfo and what it designates.

    :param target: the element a same-document ``#id`` reference covers (None for ``""``, the whole document,
        and for external references).
    """

    index: int
    element: etree._Element
    uri: str | None
    type: str | None
    transforms: tuple[str, ...]
    digest_method: str | None
    digest_value: bytes | None
    target: etree._Element | None = None

    @property
    def external(self) -> bool:
        return self.uri is not None and self.uri != "" and not self.uri.startswith("#")

    @property
    def whole_document(self) -> bool:
        return self.uri == "" or (self.uri is not None and self.uri.startswith("#xpointer(/)"))

    @property
    def digest_algorithm(self) -> str | None:
        return DIGEST_METHODS.get(self.digest_method or "")

    @property
    def xmlsec_can_digest(self) -> bool:
        return not self.external and BASE64 not in self.transforms


@dataclass(frozen=True)
class CoreProblem:
    subindication: SubIndication
    code: str
    message: str


@dataclass(frozen=True)
class CoreResult:
    """The outcome of the XML-DSig core: None problem when the signature value and every reference verify."""

    problem: CoreProblem | None
    failed_references: tuple[int, ...] = field(default=())


#: Every Id-like attribute of the document in one compiled XPath pass (a Python walk costs more than xmlsec's
#: verification of a 5 MB document).
_ID_XPATH = etree.XPath("//@Id | //@ID | //@id | //@xml:id")


def element_ids(root: etree._Element) -> list[tuple[str, etree._Element]]:
    """Every (Id value, element) of the document, for Id, ID, id and xml:id attributes, in document order."""
    return [(str(value), value.getparent()) for value in _ID_XPATH(root)]


def duplicate_ids(root: etree._Element, ids: list[tuple[str, etree._Element]] | None = None) -> list[str]:
    seen: set[str] = set()
    duplicates: list[str] = []
    for value, _ in element_ids(root) if ids is None else ids:
        if value in seen and value not in duplicates:
            duplicates.append(value)
        seen.add(value)
    return duplicates


def read_references(
    signature: etree._Element, ids: dict[str, etree._Element]
) -> tuple[list[Reference], CoreProblem | None]:
    """The references of SignedInfo in order, with the element each same-document reference designates."""
    signed_info = signature.find("ds:SignedInfo", NS)
    if signed_info is None:
        return [], CoreProblem(SubIndication.FORMAT_FAILURE, "NO_SIGNED_INFO", "The signature has no SignedInfo.")
    elements = signed_info.findall("ds:Reference", NS)
    if not elements:
        return [], CoreProblem(
            SubIndication.FORMAT_FAILURE, "NO_REFERENCE", "The signature has no reference: it signs nothing."
        )
    if len(elements) > MAX_REFERENCES:
        return [], CoreProblem(
            SubIndication.FORMAT_FAILURE,
            "TOO_MANY_REFERENCES",
            f"The signature has {len(elements)} references; at most {MAX_REFERENCES} are accepted.",
        )
    references = []
    for index, element in enumerate(elements):
        transforms = tuple(t.get("Algorithm") or "" for t in element.findall("ds:Transforms/ds:Transform", NS))
        method = element.find("ds:DigestMethod", NS)
        text = element.findtext("ds:DigestValue", namespaces=NS)
        value = _b64(text) if text is None or _b64(text) is not None else b""  # garbled: can match nothing
        uri = element.get("URI")
        reference = Reference(
            index,
            element,
            uri,
            element.get("Type"),
            transforms,
            method.get("Algorithm") if method is not None else None,
            value,
        )
        problem = _check_reference(reference)
        if problem is not None:
            return references, problem
        if uri is not None and uri.startswith("#") and not uri.startswith("#xpointer("):
            target = ids.get(unquote(uri[1:]))
            if target is None:
                return references, CoreProblem(
                    SubIndication.SIGNED_DATA_NOT_FOUND,
                    "REFERENCE_NOT_FOUND",
                    f"Reference {index + 1} designates {uri}, which is not in the document.",
                )
            reference = Reference(**{**reference.__dict__, "target": target})
        references.append(reference)
    return references, None


def _check_reference(reference: Reference) -> CoreProblem | None:
    unknown = [t for t in reference.transforms if t not in _TRANSFORMS and t != BASE64]
    if unknown:
        return CoreProblem(
            SubIndication.FORMAT_FAILURE,
            "UNSUPPORTED_TRANSFORM",
            f"Reference {reference.index + 1} uses a transform that is not accepted ({unknown[0]}).",
        )
    if reference.digest_algorithm is None:
        return CoreProblem(
            SubIndication.FORMAT_FAILURE,
            "UNSUPPORTED_DIGEST",
            f"Reference {reference.index + 1} uses an unknown digest method ({reference.digest_method}).",
        )
    if reference.digest_value is None:
        return CoreProblem(
            SubIndication.FORMAT_FAILURE, "MALFORMED_REFERENCE", f"Reference {reference.index + 1} has no digest value."
        )
    if reference.uri is not None and reference.uri.startswith("#xpointer(") and not reference.whole_document:
        return CoreProblem(
            SubIndication.FORMAT_FAILURE,
            "UNSUPPORTED_REFERENCE",
            f"Reference {reference.index + 1} uses an XPointer expression ({reference.uri[:80]}).",
        )
    return None


def _b64(text: str | None) -> bytes | None:
    if text is None:
        return None
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


# -- verification -----------------------------------------------------------------------------------------------


def verify_core(
    root: etree._Element,
    signature: etree._Element,
    cert_der: bytes,
    references: list[Reference],
    contents: dict[str, DetachedContent],
) -> CoreResult:
    """Verify SignedInfo's signature with the signer's key and every reference (blocking: call in a thread).

    `contents` maps the names external references use to the supplied files.
    """
    missing = [r for r in references if r.external and find_content(contents, r.uri or "") is None]
    if missing:
        names = ", ".join(r.uri or "" for r in missing[:3])
        return CoreResult(
            CoreProblem(
                SubIndication.SIGNED_DATA_NOT_FOUND,
                "SIGNED_DATA_NOT_FOUND",
                f"The signed file {names} was not supplied: send it with the signature.",
            ),
            tuple(r.index for r in missing),
        )
    if any(BASE64 in r.transforms for r in references):
        return _verify_piecewise(root, signature, cert_der, references, contents)
    try:
        _key(cert_der)
    except xmlsec.Error:
        return CoreResult(
            CoreProblem(
                SubIndication.FORMAT_FAILURE,
                "SIGNER_KEY_UNUSABLE",
                "The signer's public key cannot be loaded from its certificate (malformed key).",
            )
        )
    _served.contents = contents
    try:
        context = _context(cert_der)
        try:
            context.verify(signature)
            return CoreResult(None)
        except xmlsec.Error:
            pass
        return _diagnose(root, signature, references, contents)
    finally:
        _served.contents = None


def _verify_piecewise(
    root: etree._Element,
    signature: etree._Element,
    cert_der: bytes,
    references: list[Reference],
    contents: dict[str, DetachedContent],
) -> CoreResult:
    """Verification without xmlsec's verify: each reference digested on its own, SignedInfo checked with the key.
    Used when a reference has a transform xmlsec cannot be told to allow (base64: DSS's enveloping samples)."""
    result = _diagnose(root, signature, references, contents)
    if result.problem is not None and result.problem.subindication != SubIndication.SIG_CRYPTO_FAILURE:
        return result
    return CoreResult(None) if verify_signed_info(signature, cert_der) else result


def _context(cert_der: bytes) -> xmlsec.SignatureContext:
    """A verification context with the signer's key.

    The transform whitelist is enforced before xmlsec runs: :func:`read_references` refuses any reference whose
    transforms or digest method are not in ``_TRANSFORMS``/``DIGEST_METHODS`` (FORMAT_FAILURE), and xmlsec
    processes no other reference (no ds:Manifest, no KeyInfo retrieval with a key set). Enabling each transform
    on every context again cost more than the rest of the XAdES checks of a small document.
    """
    context = xmlsec.SignatureContext()
    context.key = _key(cert_der)
    return context


@functools.lru_cache(maxsize=256)
def _key(cert_der: bytes) -> xmlsec.Key:
    """The signer's public key, loaded once per certificate (the context takes a copy of it)."""
    return xmlsec.Key.from_memory(cert_der, xmlsec.constants.KeyDataFormatCertDer)


def _diagnose(
    root: etree._Element, signature: etree._Element, references: list[Reference], contents: dict[str, DetachedContent]
) -> CoreResult:
    """Recompute each reference's digest to tell altered data (HASH_FAILURE) from a wrong signature value."""
    failed = [r.index for r in references if r.external and not _external_digest_matches(r, contents)]
    computed = _recompute_same_document_digests(root, signature, [r for r in references if r.xmlsec_can_digest])
    if computed is not None:
        for reference in references:
            if not reference.external and not reference.xmlsec_can_digest:
                digest = _digest_with_transforms(reference, root)
                if digest is None:
                    computed = None
                    break
                computed[reference.index] = digest
    if computed is None:
        return CoreResult(
            CoreProblem(
                SubIndication.FORMAT_FAILURE,
                "REFERENCE_NOT_PROCESSABLE",
                "The signed data of a reference cannot be computed (its transforms fail on this document).",
            )
        )
    failed += [r.index for r in references if not r.external and computed.get(r.index) != r.digest_value]
    if failed:
        described = ", ".join(_describe(references[i]) for i in sorted(failed)[:3])
        return CoreResult(
            CoreProblem(
                SubIndication.HASH_FAILURE,
                "HASH_MISMATCH",
                f"The signed data does not match the signature; altered: {described}.",
            ),
            tuple(sorted(failed)),
        )
    return CoreResult(
        CoreProblem(
            SubIndication.SIG_CRYPTO_FAILURE,
            "SIGNATURE_INVALID",
            "The signature value does not verify with the signer's key.",
        )
    )


def _describe(reference: Reference) -> str:
    if reference.uri == "":
        return "the document"
    if reference.type and reference.type.endswith("#SignedProperties"):
        return "the signed properties"
    return f"reference {reference.index + 1} ({reference.uri})"


def _external_digest_matches(reference: Reference, contents: dict[str, DetachedContent]) -> bool:
    content = find_content(contents, reference.uri or "")
    if content is None or reference.transforms:
        return False
    algorithm = reference.digest_algorithm
    return algorithm is not None and content.digest(algorithm) == reference.digest_value


def _recompute_same_document_digests(
    root: etree._Element, signature: etree._Element, references: list[Reference]
) -> dict[int, bytes] | None:
    """Let xmlsec compute the digests by signing a copy of the signature with a throw-away HMAC key.

    The copy keeps the signature where it is (the enveloped-signature transform removes it, as it removes the
    original) and keeps its ds:Object and KeyInfo children (references into them); only SignedInfo changes:
    external references are left out and the signature method becomes HMAC.
    """
    position = _path_to(signature)
    document = copy.deepcopy(root.getroottree()).getroot()
    target = _follow(document, position)
    signed_info = target.find("ds:SignedInfo", NS)
    kept: dict[int, etree._Element] = {}
    wanted = {r.index for r in references}
    for index, element in enumerate(signed_info.findall("ds:Reference", NS)):
        if index in wanted:
            element.find("ds:DigestValue", NS).text = ""
            kept[index] = element
        else:
            signed_info.remove(element)
    if not kept:
        return {}
    method = signed_info.find("ds:SignatureMethod", NS)
    method.set("Algorithm", DS + "hmac-sha1")
    for child in list(method):
        method.remove(child)
    value = target.find("ds:SignatureValue", NS)
    value.text = ""
    xmlsec.tree.add_ids(document, list(_ID_ATTRIBUTES))
    context = xmlsec.SignatureContext()
    context.key = xmlsec.Key.from_binary_data(xmlsec.constants.KeyDataHmac, b"trustsvc-digest-only")
    for transform in (*_TRANSFORMS.values(), *_DIGEST_TRANSFORMS):
        context.enable_reference_transform(transform)
    try:
        context.sign(target)
    except xmlsec.Error:
        return None
    return {index: _b64(element.findtext("ds:DigestValue", namespaces=NS)) or b"" for index, element in kept.items()}


def _path_to(element: etree._Element) -> list[int]:
    path = []
    while element.getparent() is not None:
        parent = element.getparent()
        path.append(list(parent).index(element))
        element = parent
    return list(reversed(path))


def _follow(root: etree._Element, path: list[int]) -> etree._Element:
    element = root
    for index in path:
        element = element[index]
    return element


def _digest_with_transforms(reference: Reference, root: etree._Element) -> bytes | None:
    from .xades_archive import dereference_same_document

    try:
        data = dereference_same_document(reference.element, root)
    except ValueError:
        return None
    return hashlib.new(reference.digest_algorithm or "sha256", data).digest()


def verify_signed_info(signature: etree._Element, cert_der: bytes) -> bool:
    """The signature value over the canonical SignedInfo, with the signer's public key (RSA, ECDSA, DSA)."""
    from .xades_archive import canonicalize

    signed_info = signature.find("ds:SignedInfo", NS)
    method = signed_info.find("ds:CanonicalizationMethod", NS) if signed_info is not None else None
    algorithm = signed_info.find("ds:SignatureMethod", NS) if signed_info is not None else None
    value = _b64(signature.findtext("ds:SignatureValue", namespaces=NS))
    known = SIGNATURE_METHODS.get(algorithm.get("Algorithm") or "") if algorithm is not None else None
    if method is None or known is None or value is None:
        return False
    inclusive = method.find("{http://www.w3.org/2001/10/xml-exc-c14n#}InclusiveNamespaces")
    prefixes = (inclusive.get("PrefixList") or "").split() if inclusive is not None else None
    try:
        data = canonicalize(signed_info, method.get("Algorithm"), prefixes)
    except ValueError:
        return False
    mechanism, hash_name = known
    hash_algorithm = _HASHES[hash_name]()
    try:
        key = x509.load_der_x509_certificate(cert_der).public_key()
    except ValueError:
        return False
    try:
        if mechanism == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPublicKey):
            key.verify(value, data, padding.PKCS1v15(), hash_algorithm)
        elif mechanism == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(_raw_to_der(value), data, ec.ECDSA(hash_algorithm))
        elif mechanism == "dsa" and isinstance(key, dsa.DSAPublicKey):
            key.verify(_raw_to_der(value), data, hash_algorithm)
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


_HASHES = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def _raw_to_der(value: bytes) -> bytes:
    """XML-DSig carries ECDSA/DSA signatures as r || s of equal length; cryptography wants DER."""
    half = len(value) // 2
    return utils.encode_dss_signature(int.from_bytes(value[:half], "big"), int.from_bytes(value[half:], "big"))
