"""What XAdES time-stamps time-stamp: the message-imprint inputs of SignatureTimeStamp and ArchiveTimeStamp.

A XAdES time-stamp does not say what it covers: the standard does. Its ``MessageImprint`` is the hash of an octet
stream the validator rebuilds from the signature, with the canonicalization method written in the time-stamp
container (``ds:CanonicalizationMethod``, C14N 1.0 when absent, ETSI EN 319 132-1 V1.1.1 clause 4.5). Get one
octet wrong and a good time-stamp looks forged (or a forged one looks good), so every step below cites its clause.

* :func:`signature_timestamp_input` - ``xades:SignatureTimeStamp`` (EN 319 132-1 clause 5.3): the
  ``ds:SignatureValue`` element, canonicalized in its document context.
* :func:`archive_timestamp_input` - ``xadesv141:ArchiveTimeStamp`` (EN 319 132-1 clause 5.5.2.2, the same text as
  ETSI TS 101 903 V1.4.1 clause 8.2.1) and the older ``xades:ArchiveTimeStamp`` of TS 101 903 V1.3.2 (clause 7.7),
  which differs in one step (see the function).
* :func:`canonicalize` - the c14n URIs of XML-DSig mapped to lxml, in document context.
* :func:`dereference_same_document` - a minimal XML-DSig reference processor for same-document references
  (``""`` and ``#id``) with the transforms XAdES signatures use (enveloped-signature, the c14n family, base64),
  enough to rebuild the reference inputs of an archive time-stamp. It refuses what it does not implement (XPath,
  XPath Filter 2, XSLT, external URIs) rather than guessing.

lxml has no document-subset canonicalizer, and its subtree c14n has two defects that matter here (measured with
lxml 6.1.3 / libxml2 2.14.6): inclusive c14n of an element emits a bogus ``xmlns=""`` on grandchildren when the
default namespace is declared on an ancestor, and it drops the ``xml:*`` attributes the element inherits. So
elements are serialised with their in-scope namespace declarations, re-parsed as a document of their own and
canonicalized as its root, with what the inclusive methods take from omitted ancestors put back on it (C14N 1.0
clause 2.4: every ``xml:*`` attribute; C14N 1.1 clause 2.4: ``xml:lang`` and ``xml:space``, and ``xml:base``
"fixed up" by joining the ancestors' values; a join that stays relative raises ``ValueError``). lxml has no C14N 1.1
serialiser either; once those attributes are handled, the 1.0 serialiser gives the same octets. The results agree
with libxml2's node-set canonicalizer as xmlsec uses it (tests/test_xades_archive.py checks every method).

Pure functions over lxml elements: nothing is modified, no I/O, no clock, no network. ``ValueError`` means the
input cannot be processed as the standard says (unknown algorithm, ambiguous or missing reference, wrong place).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from lxml import etree

__all__ = [
    "C14N_10",
    "C14N_10_WITH_COMMENTS",
    "C14N_11",
    "C14N_11_WITH_COMMENTS",
    "DEFAULT_C14N",
    "EXC_C14N",
    "EXC_C14N_WITH_COMMENTS",
    "NS",
    "archive_timestamp_input",
    "canonicalize",
    "dereference_same_document",
    "signature_timestamp_input",
    "timestamp_c14n",
]

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES_122 = "http://uri.etsi.org/01903/v1.2.2#"
XADES_132 = "http://uri.etsi.org/01903/v1.3.2#"
XADES_141 = "http://uri.etsi.org/01903/v1.4.1#"
EXC_NS = "http://www.w3.org/2001/10/xml-exc-c14n#"
XML_NS = "http://www.w3.org/XML/1998/namespace"
NS = {"ds": DS, "xades": XADES_132, "xades141": XADES_141, "xades122": XADES_122, "ec": EXC_NS}

C14N_10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_10_WITH_COMMENTS = C14N_10 + "#WithComments"
C14N_11 = "http://www.w3.org/2006/12/xml-c14n11"
C14N_11_WITH_COMMENTS = C14N_11 + "#WithComments"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
EXC_C14N_WITH_COMMENTS = EXC_C14N + "WithComments"
#: EN 319 132-1 clause 4.5: without ds:CanonicalizationMethod in a time-stamp container, C14N 1.0 applies.
DEFAULT_C14N = C14N_10

ENVELOPED_SIGNATURE = DS + "enveloped-signature"
BASE64_TRANSFORM = DS + "base64"


@dataclass(frozen=True)
class _C14nMethod:
    exclusive: bool
    with_comments: bool
    inherited_xml_attrs: tuple[str, ...]  # xml:* attributes an element subtree inherits from its ancestors


_XML_ATTRS_10 = ("lang", "space", "base", "id")  # C14N 1.0 clause 2.4: every xml:* attribute is inherited
_XML_ATTRS_11 = ("lang", "space")  # C14N 1.1 clause 2.4: xml:id is not inherited, xml:base is fixed up

_METHODS: dict[str, _C14nMethod] = {
    C14N_10: _C14nMethod(False, False, _XML_ATTRS_10),
    C14N_10_WITH_COMMENTS: _C14nMethod(False, True, _XML_ATTRS_10),
    C14N_11: _C14nMethod(False, False, _XML_ATTRS_11),
    C14N_11_WITH_COMMENTS: _C14nMethod(False, True, _XML_ATTRS_11),
    EXC_C14N: _C14nMethod(True, False, ()),  # exclusive c14n never imports xml:* attributes (Exc-C14N 3)
    EXC_C14N_WITH_COMMENTS: _C14nMethod(True, True, ()),
}

# Re-parsing our own serialisation of an already parsed (and size-checked) document: the text-node limit of
# libxml2 would only refuse large enveloping ds:Object contents that the first parse accepted.
_REPARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


# ---------------------------------------------------------------- canonicalization


def canonicalize(
    element: etree._Element, c14n_uri: str | None, inclusive_prefixes: Sequence[str] | None = None
) -> bytes:
    """The canonical form of `element` and its subtree, in its document context.

    :param c14n_uri: one of the six XML-DSig c14n URIs (C14N 1.0, 1.1, exclusive, each with or without comments);
        ``None`` means C14N 1.0, the default of EN 319 132-1 clause 4.5 for time-stamp containers.
    :param inclusive_prefixes: the ``ec:InclusiveNamespaces/@PrefixList`` of an exclusive method (``#default``
        names the default namespace); ignored by the inclusive methods, which render every in-scope namespace.
    :raises ValueError: unknown algorithm, or C14N 1.1 of an element that inherits ``xml:base``.
    """
    return _canonicalize_subset(element, c14n_uri, inclusive_prefixes, exclude=None, whole_document=False)


def timestamp_c14n(timestamp: etree._Element) -> tuple[str | None, list[str] | None]:
    """The canonicalization URI and InclusiveNamespaces prefixes of a XAdES time-stamp container.

    ``(None, None)`` when ``ds:CanonicalizationMethod`` is absent: C14N 1.0 then applies (EN 319 132-1 clause 4.5),
    which every function here takes ``None`` to mean.
    """
    method = timestamp.find("ds:CanonicalizationMethod", NS)
    if method is None:
        return None, None
    return method.get("Algorithm"), _prefix_list(method)


def _prefix_list(method: etree._Element) -> list[str] | None:
    inclusive = method.find("ec:InclusiveNamespaces", NS)
    if inclusive is None:
        return None
    return (inclusive.get("PrefixList") or "").split()


def _method(c14n_uri: str | None) -> _C14nMethod:
    try:
        return _METHODS[c14n_uri or DEFAULT_C14N]
    except KeyError:
        raise ValueError(f"unsupported canonicalization method {c14n_uri!r}") from None


def _canonicalize_subset(
    apex: etree._Element,
    c14n_uri: str | None,
    inclusive_prefixes: Sequence[str] | None,
    *,
    exclude: etree._Element | None,
    whole_document: bool,
    strip_comments: bool = False,
) -> bytes:
    """Canonicalize the subtree of `apex` (or its whole document) minus the subtree of `exclude`.

    The element is serialised with every namespace declaration in scope (lxml adds the ancestors' ones), re-parsed
    as a document of its own and canonicalized as that document's root: this sidesteps lxml's subtree c14n
    defects (see the module docstring) and lets `exclude` be cut out without touching the caller's tree.
    """
    method = _method(c14n_uri)
    with_comments = method.with_comments and not strip_comments
    if whole_document:
        source = etree.tostring(apex.getroottree())
    else:
        source = etree.tostring(apex, with_tail=False)
    copy = etree.fromstring(source, _REPARSER)
    if exclude is not None:
        _remove_keeping_tail(_locate(copy, apex if not whole_document else apex.getroottree().getroot(), exclude))
    if not whole_document and not method.exclusive:
        _import_inherited_xml_attributes(apex, copy, method)
    kwargs: dict = {"method": "c14n", "exclusive": method.exclusive, "with_comments": with_comments}
    if method.exclusive and inclusive_prefixes:
        kwargs["inclusive_ns_prefixes"] = list(inclusive_prefixes)
    target = copy.getroottree() if whole_document else copy
    return etree.tostring(target, **kwargs)


def _import_inherited_xml_attributes(original: etree._Element, copy: etree._Element, method: _C14nMethod) -> None:
    """Put on the apex the xml:* attributes it inherits from omitted ancestors (C14N 1.0/1.1 clause 2.4)."""
    for ancestor in original.iterancestors():  # nearest first: the nearest value wins
        for name in method.inherited_xml_attrs:
            qname = f"{{{XML_NS}}}{name}"
            value = ancestor.get(qname)
            if value is not None and copy.get(qname) is None:
                copy.set(qname, value)
    if "base" not in method.inherited_xml_attrs:  # C14N 1.1: xml:base fix-up instead of inheritance
        _fix_up_xml_base(original, copy)


def _fix_up_xml_base(original: etree._Element, copy: etree._Element) -> None:
    """C14N 1.1 clause 2.4 "xml:base fixup": the apex's xml:base becomes the ancestors' values joined in order.

    The join follows RFC 3986 (urllib's urljoin); C14N 1.1 has its own variant for results that stay relative,
    which is not implemented: such input raises ValueError rather than yield octets nobody else computes.
    """
    qname = f"{{{XML_NS}}}base"
    values = [a.get(qname) for a in reversed(list(original.iterancestors())) if a.get(qname) is not None]
    if not values:
        return
    if original.get(qname) is not None:
        values.append(original.get(qname))
    joined = values[0]
    for value in values[1:]:
        joined = urljoin(joined, value)
    if not urlsplit(joined).scheme:
        raise ValueError("C14N 1.1 xml:base fix-up with a relative result is not implemented")
    copy.set(qname, joined)


def _path_from(apex: etree._Element, node: etree._Element) -> list[int] | None:
    """Child indexes leading from `apex` down to `node`, or None when `node` is not inside `apex`."""
    path = []
    current = node
    while current is not apex:
        parent = current.getparent()
        if parent is None:
            return None
        path.append(parent.index(current))
        current = parent
    return list(reversed(path))


def _locate(copy_apex: etree._Element, apex: etree._Element, node: etree._Element) -> etree._Element:
    path = _path_from(apex, node)
    if path is None:
        raise ValueError("element to exclude is not inside the node set")
    current = copy_apex
    for index in path:
        current = current[index]
    return current


def _remove_keeping_tail(element: etree._Element) -> None:
    """Remove an element and its subtree but not the text that follows it (lxml keeps that text on the element)."""
    parent = element.getparent()
    if parent is None:
        raise ValueError("cannot remove the apex of a node set")
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


# ---------------------------------------------------------------- SignatureTimeStamp


def signature_timestamp_input(
    signature: etree._Element, c14n_uri: str | None, inclusive_prefixes: Sequence[str] | None = None
) -> bytes:
    """The octets a ``xades:SignatureTimeStamp`` time-stamps (EN 319 132-1 clause 5.3).

    Clause 5.3: the input of the message imprint is the ``ds:SignatureValue`` element, canonicalized with the
    time-stamp's ``ds:CanonicalizationMethod`` (clause 4.5: C14N 1.0 when absent, which `c14n_uri` None means).
    The element keeps its document context (its in-scope namespaces matter to the inclusive methods).

    :raises ValueError: no ``ds:SignatureValue`` child, or an unsupported method.
    """
    value = signature.find("ds:SignatureValue", NS)
    if value is None:
        raise ValueError("ds:Signature has no ds:SignatureValue")
    return canonicalize(value, c14n_uri, inclusive_prefixes)


# ---------------------------------------------------------------- ArchiveTimeStamp


def archive_timestamp_input(
    signature: etree._Element,
    archive_ts: etree._Element,
    c14n_uri: str | None,
    dereference: Callable[[etree._Element], bytes],
    inclusive_prefixes: Sequence[str] | None = None,
) -> bytes:
    """The octets an archive time-stamp time-stamps, in the order the standard lists them.

    ``xadesv141:ArchiveTimeStamp`` follows ETSI EN 319 132-1 V1.1.1 clause 5.5.2.2 ("not distributed case", the
    only one in use: the time-stamp and what it covers share one ``xades:UnsignedSignatureProperties``); TS 101 903
    V1.4.1 clause 8.2.1 has the same five steps. Step numbers are the standard's:

    1. start from an empty octet stream;
    2. every ``ds:Reference`` of ``ds:SignedInfo``, in order (the SignedProperties reference included): the
       reference's data after its transforms, as ``dereference(reference)`` returns it. The standard says to
       canonicalize the result with the time-stamp's method when the transforms end with a node-set; references
       that end with a c14n transform (or carry octets) are taken as they are. ``dereference_same_document`` with
       ``nodeset_c14n_uri`` set to the time-stamp's method does both;
    3. ``ds:SignedInfo``, ``ds:SignatureValue`` and ``ds:KeyInfo`` (if present), each canonicalized;
    4. every child element of ``xades:UnsignedSignatureProperties`` that precedes `archive_ts`, in document order,
       canonicalized (whatever its kind: earlier time-stamps, validation data, counter-signatures,
       TimeStampValidationData). The clause's rules about *adding* CertificateValues/RevocationValues concern the
       producer; a validator hashes what is there;
    5. every ``ds:Object`` child of the signature except the one holding ``xades:QualifyingProperties``,
       canonicalized - **including** ds:Objects that a ``ds:Reference`` already covers (an enveloping
       signature's data object is hashed twice: after its transforms in step 2, as an element here). The clause
       has no "not referenced" exception; that exception belongs to TS 101 903 V1.3.2 (below). The DSS sample
       ``xades-lta-valid.xml`` (enveloping, base64 ds:Object) only verifies with the object included.

    The older ``xades:ArchiveTimeStamp`` (namespace ``http://uri.etsi.org/01903/v1.3.2#``, TS 101 903 V1.3.2
    clause 7.7.1; the V1.2.2 namespace is treated the same way) differs in step 5 only: it takes "any ds:Object
    element in the signature that is not referenced by any ds:Reference within ds:SignedInfo, except that one
    containing the QualifyingProperties element"; an object counts as referenced when a reference's URI is
    ``#its-Id`` or ``#xpointer(id('its-Id'))``. Steps 2 to 4 are processed as for the newer form, as DSS does for
    both; only step 5 is known to differ (the V1.3.2 wording of step 4 was not checked against the document).

    Every canonicalization uses the time-stamp's ``ds:CanonicalizationMethod`` (`c14n_uri`; None: C14N 1.0,
    EN 319 132-1 clause 4.5) with its InclusiveNamespaces `inclusive_prefixes`.

    :param signature: the ``ds:Signature`` element, in its parsed document.
    :param archive_ts: the archive time-stamp element, a child of that signature's UnsignedSignatureProperties.
    :param dereference: returns the processed data of one ``ds:Reference`` (see step 2); it may raise ValueError
        when the data cannot be obtained, which propagates.
    :raises ValueError: `archive_ts` is not an unsigned signature property of `signature`, the signature lacks
        ds:SignedInfo or ds:SignatureValue, or a method is unsupported.
    """
    signed_info = signature.find("ds:SignedInfo", NS)
    signature_value = signature.find("ds:SignatureValue", NS)
    if signed_info is None or signature_value is None:
        raise ValueError("ds:Signature lacks ds:SignedInfo or ds:SignatureValue")
    unsigned_properties = archive_ts.getparent()
    if (
        unsigned_properties is None
        or etree.QName(unsigned_properties).localname != "UnsignedSignatureProperties"
        or _owning_signature(unsigned_properties) is not signature
    ):
        raise ValueError("the archive time-stamp is not an unsigned signature property of this signature")
    legacy = etree.QName(archive_ts).namespace in (XADES_132, XADES_122)

    def c14n(element: etree._Element) -> bytes:
        return canonicalize(element, c14n_uri, inclusive_prefixes)

    parts: list[bytes] = []  # step 1
    references = signed_info.findall("ds:Reference", NS)
    for reference in references:  # step 2
        parts.append(dereference(reference))
    parts.append(c14n(signed_info))  # step 3
    parts.append(c14n(signature_value))
    key_info = signature.find("ds:KeyInfo", NS)
    if key_info is not None:
        parts.append(c14n(key_info))
    for prop in unsigned_properties:  # step 4
        if prop is archive_ts:
            break
        if isinstance(prop.tag, str):  # elements only: comments and PIs are not properties
            parts.append(c14n(prop))
    referenced_ids = {_same_document_id(r.get("URI")) for r in references} - {None}
    for obj in signature.findall("ds:Object", NS):  # step 5
        if _holds_qualifying_properties(obj):
            continue
        if legacy and obj.get("Id") is not None and obj.get("Id") in referenced_ids:
            continue
        parts.append(c14n(obj))
    return b"".join(parts)


def _owning_signature(element: etree._Element) -> etree._Element | None:
    """The nearest ancestor ds:Signature (the USP of a counter-signature belongs to the counter-signature)."""
    for ancestor in element.iterancestors(f"{{{DS}}}Signature"):
        return ancestor
    return None


def _holds_qualifying_properties(obj: etree._Element) -> bool:
    for child in obj:
        if isinstance(child.tag, str):  # comments and PIs have no QName
            name = etree.QName(child)
            if name.localname == "QualifyingProperties" and name.namespace in (XADES_132, XADES_122, XADES_141):
                return True
    return False


def _same_document_id(uri: str | None) -> str | None:
    """The Id a same-document URI names: ``#id`` or ``#xpointer(id('id'))``; None for anything else."""
    if not uri or not uri.startswith("#"):
        return None
    fragment = uri[1:]
    if fragment.startswith("xpointer(id(") and fragment.endswith("))"):
        return fragment[len("xpointer(id(") : -2].strip("'\"")
    if fragment.startswith("xpointer("):
        return None
    return fragment


# ---------------------------------------------------------------- same-document reference processing


@dataclass(frozen=True)
class _NodeSet:
    """An XML-DSig node-set as this module needs it: a subtree (or the document) minus one subtree."""

    apex: etree._Element
    whole_document: bool
    exclude: etree._Element | None = None


_C14N_TRANSFORMS = frozenset(_METHODS)


def dereference_same_document(
    reference: etree._Element,
    root: etree._Element,
    nodeset_c14n_uri: str | None = None,
    inclusive_prefixes: Sequence[str] | None = None,
) -> bytes:
    """The data of a same-document ``ds:Reference`` after its transforms (XML-DSig clause 4.4.3.2 and 6.6).

    Supported: ``URI=""`` (the whole document without comments) and ``URI="#id"`` / ``#xpointer(id('id'))``
    (the element whose ``Id``, ``ID``, ``id`` or ``xml:id`` attribute matches, without comments; an Id that
    matches two elements is refused, as XML-DSig leaves it undefined and wrapping attacks exploit it); transforms
    enveloped-signature, the six c14n methods (InclusiveNamespaces honoured) and base64.

    When the transforms end with a node-set, it is canonicalized with `nodeset_c14n_uri` (None: C14N 1.0, what
    XML-DSig uses before digesting; an archive time-stamp passes its own method, EN 319 132-1 clause 5.5.2.2
    step 2).

    :param root: any element of the document that holds `reference` (its root is used).
    :raises ValueError: external or unsupported URI, an Id matching no or several elements, or an unsupported
        transform (XPath, XPath Filter 2, XSLT, ...).
    """
    uri = reference.get("URI")
    document_root = root.getroottree().getroot()
    signature = _owning_signature(reference)
    data: _NodeSet | bytes
    if uri == "":
        data = _NodeSet(document_root, whole_document=True)
    else:
        element_id = _same_document_id(uri)
        if element_id is None:
            raise ValueError(f"not a same-document reference: {uri!r}")
        data = _NodeSet(_element_by_id(document_root, element_id), whole_document=False)
    for transform in reference.findall("ds:Transforms/ds:Transform", NS):
        algorithm = transform.get("Algorithm")
        if algorithm == ENVELOPED_SIGNATURE:
            if not isinstance(data, _NodeSet) or signature is None:
                raise ValueError("enveloped-signature transform needs a node-set inside a ds:Signature")
            data = _without_signature(data, signature)
        elif algorithm in _C14N_TRANSFORMS:
            data = _to_octets(data, algorithm, _prefix_list(transform))
        elif algorithm == BASE64_TRANSFORM:
            data = _base64_decode(data)
        else:
            raise ValueError(f"unsupported transform {algorithm!r}")
    if isinstance(data, _NodeSet):
        data = _to_octets(data, nodeset_c14n_uri, inclusive_prefixes)
    return data


def _element_by_id(document_root: etree._Element, element_id: str) -> etree._Element:
    matches = document_root.xpath(
        "//*[@Id=$v or @ID=$v or @id=$v or @xml:id=$v]", v=element_id, namespaces={"xml": XML_NS}
    )
    if not matches:
        raise ValueError(f"no element with Id {element_id!r}")
    if len(matches) > 1:
        raise ValueError(f"Id {element_id!r} names {len(matches)} elements")
    return matches[0]


def _without_signature(data: _NodeSet, signature: etree._Element) -> _NodeSet | bytes:
    """Enveloped-signature transform: the node-set minus the ds:Signature that holds the reference."""
    apex = data.apex
    if any(a is signature for a in apex.iterancestors()) or apex is signature:
        return b""  # every node of the set is inside the signature: nothing is left
    if data.whole_document or _path_from(apex, signature) is not None:
        return _NodeSet(apex, data.whole_document, exclude=signature)
    return data


def _to_octets(data: _NodeSet | bytes, c14n_uri: str | None, prefixes: Sequence[str] | None) -> bytes:
    """Canonicalize a node-set; octets go through c14n by being parsed first (XML-DSig clause 4.4.3.2)."""
    if isinstance(data, bytes):
        if not data:
            return b""
        return canonicalize(etree.fromstring(data, _REPARSER), c14n_uri, prefixes)
    # Same-document URIs drop comments (XML-DSig clause 4.4.3.3), whatever the c14n method says.
    return _canonicalize_subset(
        data.apex,
        c14n_uri,
        prefixes,
        exclude=data.exclude,
        whole_document=data.whole_document,
        strip_comments=True,
    )


def _base64_decode(data: _NodeSet | bytes) -> bytes:
    """Base64 transform (XML-DSig clause 6.6.2): a node-set gives the text of its text nodes."""
    if isinstance(data, _NodeSet):
        if data.exclude is not None:
            raise ValueError("base64 transform after enveloped-signature is not supported")
        text = "".join(data.apex.xpath("descendant-or-self::text()"))
    else:
        text = data.decode("ascii", errors="replace")
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as e:
        raise ValueError(f"base64 transform: {e}") from e
