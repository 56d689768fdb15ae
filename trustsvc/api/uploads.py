"""Multipart uploads streamed to a private temporary folder, within limits, and removed when the request ends.

A bid's files are confidential: they are written only to a folder readable by the service alone, and the folder
is deleted as soon as the request is answered, whatever happened. The whole request body is bounded (413 beyond
the configured limit, checked on the declared length and again while streaming), as are the number of parts,
the size of plain fields and of part headers.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from .problems import Problem

__all__ = ["UploadedFile", "UploadedForm", "read_form"]

MAX_FIELD_BYTES = 64 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._+@=-]+")


@dataclass
class UploadedFile:
    field: str
    filename: str
    """The client's file name without any directory part (what reports show and bids pair files by)."""
    path: Path
    """Where it is stored: a private folder, under a name of our making."""
    size: int = 0
    content_type: str | None = None


@dataclass
class UploadedForm:
    files: list[UploadedFile] = field(default_factory=list)
    fields: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    folder: Path | None = None
    total_bytes: int = 0

    def files_named(self, name: str) -> list[UploadedFile]:
        return [f for f in self.files if f.field == name]

    def values(self, name: str) -> list[str]:
        return list(self.fields.get(name, []))

    def value(self, name: str) -> str | None:
        """The first value of a text field, stripped; None when absent or blank."""
        values = self.values(name)
        return values[0].strip() or None if values else None

    def cleanup(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


async def read_form(request: Request, *, max_bytes: int, max_files: int, max_parts: int = 200) -> UploadedForm:
    """Parse a multipart/form-data body into files on disk and text fields. Raises Problem (400, 413, 415)."""
    content_type = request.headers.get("content-type", "")
    media, params = parse_options_header(content_type)
    if media != b"multipart/form-data" or b"boundary" not in params:
        raise Problem(415, "unsupported-media-type", "Send the files as multipart/form-data.")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    form = UploadedForm(folder=Path(tempfile.mkdtemp(prefix="trustsvc-upload-")))
    os.chmod(form.folder, 0o700)
    state = _PartState(form, max_files, max_parts)
    parser = MultipartParser(params[b"boundary"], state.callbacks(), max_header_count=16, max_header_size=8192)
    try:
        async for chunk in request.stream():
            form.total_bytes += len(chunk)
            if form.total_bytes > max_bytes:
                raise _too_large(max_bytes)
            parser.write(chunk)
            if state.problem is not None:
                raise state.problem
        parser.finalize()
        if state.problem is not None:
            raise state.problem
        if not state.ended:
            raise Problem(400, "malformed-multipart", "The multipart body ends before its closing boundary.")
    except MultipartParseError as e:
        form.cleanup()
        raise Problem(400, "malformed-multipart", f"The multipart body is malformed ({str(e)[:120]}).") from None
    except BaseException:
        state.close()
        form.cleanup()
        raise
    finally:
        state.close()
    return form


def _too_large(limit: int) -> Problem:
    return Problem(413, "upload-too-large", f"The request body exceeds the limit of {limit} bytes.", limit=limit)


class _PartState:
    """Callbacks of the streaming parser: one part at a time, straight to its file."""

    def __init__(self, form: UploadedForm, max_files: int, max_parts: int):
        self.form = form
        self.max_files = max_files
        self.max_parts = max_parts
        self.parts = 0
        self.problem: Problem | None = None
        self.ended = False
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._file = None
        self._upload: UploadedFile | None = None
        self._field_name: str | None = None
        self._field_value = bytearray()

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._begin,
            "on_header_field": lambda data, start, end: self._append("_header_field", data[start:end]),
            "on_header_value": lambda data, start, end: self._append("_header_value", data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _append(self, name: str, data: bytes) -> None:
        setattr(self, name, getattr(self, name) + data)

    def _begin(self) -> None:
        self.parts += 1
        if self.parts > self.max_parts and self.problem is None:
            self.problem = Problem(400, "too-many-parts", f"The form has more than {self.max_parts} parts.")
        self._headers = {}

    def _header_end(self) -> None:
        self._headers[self._header_field.strip().lower()] = self._header_value.strip()
        self._header_field = self._header_value = b""

    def _headers_finished(self) -> None:
        disposition, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = params.get(b"name", b"").decode("utf-8", "replace")
        if disposition != b"form-data" or not name:
            self.problem = self.problem or Problem(400, "malformed-multipart", "A part has no form-data name.")
            return
        if b"filename" in params:
            if len(self.form.files) >= self.max_files:
                self.problem = self.problem or Problem(
                    400, "too-many-files", f"At most {self.max_files} files may be sent in one request."
                )
                return
            filename = _base_name(params[b"filename"].decode("utf-8", "replace"))
            path = self.form.folder / f"{len(self.form.files):03d}-{_safe_name(filename)}"
            content_type = self._headers.get(b"content-type")
            self._upload = UploadedFile(name, filename, path, 0, content_type.decode() if content_type else None)
            self._file = open(path, "xb")  # noqa: SIM115 - closed at the end of the part
            os.chmod(path, 0o600)
        else:
            self._field_name = name
            self._field_value = bytearray()

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self.problem is not None:
            return
        if self._file is not None and self._upload is not None:
            self._file.write(data[start:end])
            self._upload.size += end - start
        elif self._field_name is not None:
            self._field_value += data[start:end]
            if len(self._field_value) > MAX_FIELD_BYTES:
                self.problem = Problem(400, "field-too-large", f"The field {self._field_name!r} is too long.")

    def _part_end(self) -> None:
        if self._file is not None and self._upload is not None:
            self._file.close()
            self.form.files.append(self._upload)
        elif self._field_name is not None and self.problem is None:
            self.form.fields[self._field_name].append(self._field_value.decode("utf-8", "replace"))
        self._file = None
        self._upload = None
        self._field_name = None

    def _end(self) -> None:
        self.ended = True

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _base_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip().replace("\x00", "")
    return base[:255] or "upload"


def _safe_name(name: str) -> str:
    return _UNSAFE.sub("_", name)[:120].lstrip(".") or "upload"
