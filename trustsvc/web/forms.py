"""HTML forms read into memory, within a size limit: nothing a bidder or a curator sends is written to disk.

A page's form is small (a certificate is a few kilobytes, a test document should be small), so the whole body is
read into memory, refused beyond the limit (on the declared length before reading, and again while reading), and
parsed there: ``application/x-www-form-urlencoded`` or ``multipart/form-data``. The bytes go when the request
ends; nothing here logs a file's name or content.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

__all__ = ["PAGE_UPLOAD_LIMIT", "FormFile", "PageForm", "FormTooLarge", "BadForm", "read_page_form"]

#: The largest body a page's form may send (413 beyond).
PAGE_UPLOAD_LIMIT = 2 * 1024 * 1024
_MAX_PARTS = 32
_MAX_FIELD_BYTES = 64 * 1024


class FormTooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"the form exceeds {limit} bytes")
        self.limit = limit


class BadForm(Exception):
    """The body is not a form this page can read (wrong media type, malformed multipart, too many parts)."""


@dataclass
class FormFile:
    field: str
    filename: str
    data: bytes
    content_type: str | None = None


@dataclass
class PageForm:
    fields: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    files: list[FormFile] = field(default_factory=list)

    def value(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[-1] if values else default

    def file(self, name: str) -> FormFile | None:
        return next((f for f in self.files if f.field == name), None)

    def forget_files(self) -> None:
        """Drop the uploaded bytes now (the request may live on while the page renders)."""
        self.files.clear()


async def read_page_form(request: Request, *, max_bytes: int = PAGE_UPLOAD_LIMIT) -> PageForm:
    """The request's form. :raises FormTooLarge: beyond `max_bytes`. :raises BadForm: not a readable form."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise FormTooLarge(max_bytes)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise FormTooLarge(max_bytes)
    if not body:
        return PageForm()  # a bare POST: a form without fields (its checks then say what is missing)
    media, params = parse_options_header(request.headers.get("content-type", ""))
    if media == b"application/x-www-form-urlencoded":
        return _urlencoded(bytes(body))
    if media == b"multipart/form-data" and b"boundary" in params:
        return _multipart(bytes(body), params[b"boundary"])
    raise BadForm("send the form as a browser does (urlencoded or multipart)")


def _urlencoded(body: bytes) -> PageForm:
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=_MAX_PARTS)
    except (UnicodeDecodeError, ValueError) as e:
        raise BadForm("the form is not valid") from e
    form = PageForm()
    for name, values in parsed.items():
        form.fields[name].extend(values)
    return form


def _multipart(body: bytes, boundary: bytes) -> PageForm:
    form = PageForm()
    state: dict = {"headers": {}, "field": b"", "value": b"", "data": bytearray(), "parts": 0, "ended": False}

    def on_part_begin() -> None:
        state["parts"] += 1
        if state["parts"] > _MAX_PARTS:
            raise BadForm("the form has too many parts")
        state["headers"] = {}
        state["data"] = bytearray()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["field"].strip().lower()] = state["value"].strip()
        state["field"] = state["value"] = b""

    def on_part_data(data: bytes, start: int, end: int) -> None:
        state["data"] += data[start:end]

    def on_part_end() -> None:
        disposition, options = parse_options_header(state["headers"].get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if disposition != b"form-data" or not name:
            raise BadForm("a part of the form has no name")
        if b"filename" in options:
            filename = options[b"filename"].decode("utf-8", "replace").replace("\\", "/").rsplit("/", 1)[-1]
            content_type = state["headers"].get(b"content-type")
            form.files.append(
                FormFile(name, filename[:255], bytes(state["data"]), content_type.decode() if content_type else None)
            )
        else:
            if len(state["data"]) > _MAX_FIELD_BYTES:
                raise BadForm("a field of the form is too long")
            form.fields[name].append(state["data"].decode("utf-8", "replace"))
        state["data"] = bytearray()

    def on_end() -> None:
        state["ended"] = True

    callbacks = {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
        "on_end": on_end,
    }
    parser = MultipartParser(boundary, callbacks, max_header_count=16, max_header_size=8192)
    try:
        parser.write(body)
        parser.finalize()
    except MultipartParseError as e:
        raise BadForm("the form is malformed") from e
    if not state["ended"]:
        raise BadForm("the form ends before its closing boundary")
    return form
