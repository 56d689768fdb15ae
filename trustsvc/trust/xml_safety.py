"""Parse XML that comes from strangers: trusted lists from the network, XAdES signatures from bidders.

One parser configuration for every XML input of trustsvc. What it refuses, and why:

* any DOCTYPE (``dtd-forbidden``): no trusted list or XAdES signature needs one, and every entity trick (billion
  laughs, quadratic blow-up, XXE to files or URLs) needs one. We refuse before libxml2 sees the internal subset.
* no entity is ever resolved and the network is never used (``resolve_entities=False, no_network=True``);
  XInclude is never processed (lxml only does it on an explicit ``.xinclude()``, which we never call).
* size is capped before parsing (``too-large``; 64 MB by default, the largest national list is ~3 MB), and
  libxml2's own limits stay on (no ``huge_tree``): nesting depth 256 (``too-deep``), text nodes of 10 MB.

A UTF-8 byte order mark and whitespace before the XML declaration are accepted (several real lists start that
way); the signature does not cover the prolog, so dropping them changes nothing.
"""

from __future__ import annotations

import re
import threading

from lxml import etree

from ..errors import InputError

__all__ = ["XmlInputError", "hardened_parser", "parse_xml", "DEFAULT_MAX_BYTES"]

#: Default cap on one XML input: trusted lists are at most a few MB (DE ~12 MB); 64 MB leaves room without
#: letting a hostile server exhaust memory.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024

_BOM = b"\xef\xbb\xbf"
# The prolog before the root element: XML declaration, processing instructions, comments, whitespace.
_PROLOG_ITEM = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->", re.DOTALL)
# libxml2 messages (matched at their start; element names in other messages must not match) -> our codes.
_LIBXML_LIMITS = (
    (re.compile(r"excessive depth", re.IGNORECASE), "too-deep"),
    (re.compile(r"(resource limit exceeded|huge input lookup|xmlSAX2Characters: huge)", re.IGNORECASE), "too-large"),
    (re.compile(r"maximum entity amplification", re.IGNORECASE), "limit-exceeded"),
    (re.compile(r"(entity '[^']*' not defined|detected an entity reference loop)", re.IGNORECASE), "entity-forbidden"),
)
_local = threading.local()


class XmlInputError(InputError):
    """XML input refused before anything reads it; `code` says which rule it broke."""

    code = "invalid-xml"

    def __init__(self, code: str, message: str):
        super().__init__(message, code=code)


def hardened_parser() -> etree.XMLParser:
    """The parser every trustsvc XML input goes through (one per thread: lxml parsers are not thread-safe)."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            collect_ids=False,
        )
        _local.parser = parser
    return parser


def parse_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse `data` into its root element, or raise :class:`XmlInputError` saying why it was refused.

    :param max_bytes: inputs longer than this are refused unread (``too-large``).
    :raises XmlInputError: codes ``empty``, ``too-large``, ``dtd-forbidden``, ``not-well-formed``, ``too-deep``,
        ``limit-exceeded``, ``entity-forbidden``.
    """
    if len(data) > max_bytes:
        raise XmlInputError("too-large", f"XML input of {len(data)} bytes exceeds the limit of {max_bytes} bytes")
    start = _skip_bom_and_space(data)
    if start == len(data):
        raise XmlInputError("empty", "XML input is empty")
    if _has_doctype(data, start):
        raise XmlInputError("dtd-forbidden", "XML input declares a DOCTYPE (DTDs and entities are refused)")
    try:
        root = etree.fromstring(data[start:] if start else data, parser=hardened_parser())
    except etree.XMLSyntaxError as e:
        raise _syntax_error(e) from e
    _refuse_leftovers(root)
    return root


def _skip_bom_and_space(data: bytes) -> int:
    """Offset of the first byte that matters: after a UTF-8 BOM and leading whitespace."""
    start = len(_BOM) if data.startswith(_BOM) else 0
    while start < len(data) and data[start] in b" \t\r\n":
        start += 1
    return start


def _has_doctype(data: bytes, start: int) -> bool:
    """Whether a DOCTYPE comes before the root element (ASCII-compatible encodings; others are checked later)."""
    pos = start
    while True:
        match = _PROLOG_ITEM.match(data, pos)
        if match is None:
            return data.startswith(b"<!DOCTYPE", pos)
        pos = match.end()


def _refuse_leftovers(root: etree._Element) -> None:
    """Second line of defence for encodings the byte scan cannot read (UTF-16): a DTD that got through."""
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise XmlInputError("dtd-forbidden", "XML input declares a DOCTYPE (DTDs and entities are refused)")


def _syntax_error(error: etree.XMLSyntaxError) -> XmlInputError:
    """Map libxml2's message to a stable code, keeping its text (line and column) for people."""
    text = str(error)
    for pattern, code in _LIBXML_LIMITS:
        if pattern.match(text):
            return XmlInputError(code, f"XML input refused: {text}")
    if text.lower().startswith("document is empty"):
        return XmlInputError("empty", "XML input has no root element")
    return XmlInputError("not-well-formed", f"XML input is not well-formed: {text}")
