"""Open ZIP data that comes from strangers (ASiC containers from bidders) without letting it hurt us.

The standard library's :mod:`zipfile` reads the central directory; everything else is checked here first, because
a bid must never make the service run out of memory, disk or time, nor let two unzip programs see different files:

* The end record and the central directory are walked by hand before :mod:`zipfile` sees them, so the number of
  entries is capped before any Python object is made for one (``zip-too-many-entries``).
* Every name is checked for what would escape or confuse an extraction folder (``zip-unsafe-path``), and two
  names that Windows or macOS would merge (case, Unicode normalisation) are refused (``zip-duplicate-entry``).
* Declared sizes are capped per entry and in total (``zip-too-large``), and an entry that claims to expand more
  than ``max_ratio`` times is a bomb (``zip-bomb``); encrypted entries (``zip-encrypted``) and compression other
  than stored or deflated (``zip-unsupported-compression``) are refused.
* The layout is checked against the central directory (``zip-malformed``): the local headers must follow one
  another from offset 0 to the central directory with nothing hidden between them, and say the same name, method,
  sizes and CRC. A ZIP that a streaming reader and a central-directory reader would read differently is refused,
  so the file a signature was verified on is the file a person will open.
* Entries are inflated here with :mod:`zlib` in chunks, never beyond their declared size (``zip-bomb`` if the data
  holds more than its header says: :mod:`zipfile` would quietly cut it short) and checked against their CRC.

Every problem is an :class:`~trustsvc.errors.InputError`; nothing else escapes for anything the data contains.
"""

from __future__ import annotations

import io
import pathlib
import re
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import InputError

__all__ = ["DEFAULT_LIMITS", "ZipLimits", "SafeZip", "open_zip"]

_CHUNK = 64 * 1024
_RATIO_FLOOR = 1 << 20  # entries up to 1 MiB may compress as well as they like (a page of blanks does)
_NAME_SHOWN = 100  # characters of a hostile name quoted in a message

_EOCD = struct.Struct("<4s4H2LH")  # end of central directory record: 22 bytes
_EOCD_SIG = b"PK\x05\x06"
_EOCD64 = struct.Struct("<4sQ2H2L4Q")  # ZIP64 end of central directory record: 56 bytes
_EOCD64_SIG = b"PK\x06\x06"
_EOCD64_LOC = struct.Struct("<4sLQL")  # ZIP64 end of central directory locator: 20 bytes
_EOCD64_LOC_SIG = b"PK\x06\x07"
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # central directory file header: 46 bytes
_CENTRAL_SIG = b"PK\x01\x02"
_LOCAL = struct.Struct("<4s5H3L2H")  # local file header: 30 bytes
_LOCAL_SIG = b"PK\x03\x04"
_DESCRIPTOR_SIG = b"PK\x07\x08"
_ZIP64_EXTRA = 0x0001

_FLAG_ENCRYPTED = 0x0001 | 0x0040  # traditional or strong encryption
_FLAG_DESCRIPTOR = 0x0008
_SUPPORTED_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc: C0, DEL and C1

# Everything a library may raise on hostile bytes; each is turned into an InputError.
_PARSE_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    OSError,
    EOFError,
    ValueError,  # UnicodeDecodeError included
    NotImplementedError,
    struct.error,
    IndexError,
    OverflowError,
)


@dataclass(frozen=True)
class ZipLimits:
    """How much one container may hold; the defaults fit any real bid with a wide margin."""

    max_entries: int = 1000
    max_total_uncompressed: int = 1 << 30  # declared sizes summed
    max_entry_uncompressed: int = 512 << 20
    max_ratio: float = 200.0  # uncompressed/compressed, for any entry larger than 1 MiB
    max_name_length: int = 1024


@dataclass(frozen=True)
class _Span:
    """Where one entry's compressed data lies in the file, and its local header's extra field."""

    data_start: int
    data_end: int
    local_extra: bytes


#: The limits used when none are given (frozen, so one instance serves every call).
DEFAULT_LIMITS = ZipLimits()


class SafeZip:
    """A ZIP whose central directory and layout passed :func:`open_zip`; reads never exceed declared sizes.

    Holds the bytes and the checked entries only (no open file), so it can be shared between threads.
    """

    def __init__(self, data: bytes, infos: list[zipfile.ZipInfo], spans: list[_Span]):
        self._data = data
        self._infos = infos
        self._by_name = {info.filename: (info, span) for info, span in zip(infos, spans, strict=True)}

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def names(self) -> list[str]:
        """Entry names in central-directory order (the order a listing shows)."""
        return [info.filename for info in self._infos]

    def size(self, name: str) -> int:
        """The declared uncompressed size: reads stop with ``zip-bomb`` rather than return more."""
        return self.info(name).file_size

    def info(self, name: str) -> zipfile.ZipInfo:
        """The central-directory record of `name` (``zip-no-such-entry`` if the container has none)."""
        return self._entry(name)[0]

    def first_entry(self) -> zipfile.ZipInfo | None:
        """The entry stored first in the file (local header at offset 0), where ASiC puts ``mimetype``."""
        return min(self._infos, key=lambda info: info.header_offset, default=None)

    def local_extra(self, name: str) -> bytes:
        """The extra field of the entry's local header (ASiC wants none on ``mimetype``)."""
        return self._entry(name)[1].local_extra

    def read(self, name: str, max_bytes: int = 64 << 20) -> bytes:
        """The entry's content, refused (``zip-too-large``) if it declares more than `max_bytes`."""
        info = self._refuse_larger(name, max_bytes)
        parts = list(self._chunks(info))
        return b"".join(parts)

    def extract_to(self, name: str, target: pathlib.Path) -> None:
        """Stream the entry's content into `target` chunk by chunk; a refused entry leaves no file behind.

        Capped like :meth:`read` at the entry's declared size (itself at most ``max_entry_uncompressed``). An
        ``OSError`` writing `target` (a full disk) is the server's trouble, not the bidder's, and propagates.
        """
        info = self.info(name)
        target = pathlib.Path(target)
        try:
            with open(target, "wb") as out:
                for chunk in self._chunks(info):
                    out.write(chunk)
        except InputError:
            target.unlink(missing_ok=True)
            raise

    def _entry(self, name: str) -> tuple[zipfile.ZipInfo, _Span]:
        try:
            return self._by_name[name]
        except KeyError:
            raise InputError(f"The ZIP container has no entry {_show(name)}", code="zip-no-such-entry") from None

    def _refuse_larger(self, name: str, max_bytes: int) -> zipfile.ZipInfo:
        info = self.info(name)
        if info.file_size > max_bytes:
            raise InputError(
                f"The ZIP entry {_show(name)} declares {info.file_size} bytes, more than the {max_bytes} accepted here",
                code="zip-too-large",
            )
        return info

    def _chunks(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """The entry's content in chunks of at most 64 KiB, its size and CRC checked as they come."""
        span = self._by_name[info.filename][1]
        raw = memoryview(self._data)[span.data_start : span.data_end]
        source = _pieces(raw) if info.compress_type == zipfile.ZIP_STORED else _inflated(raw, info)
        produced = 0
        crc = 0
        for chunk in source:
            produced += len(chunk)
            if produced > info.file_size:
                raise InputError(
                    f"The ZIP entry {_show(info.filename)} holds more than its declared {info.file_size} bytes",
                    code="zip-bomb",
                )
            crc = zlib.crc32(chunk, crc)
            yield chunk
        if produced != info.file_size:
            raise _malformed(f"entry {_show(info.filename)} holds {produced} bytes, not the {info.file_size} declared")
        if crc != info.CRC:
            raise _malformed(f"entry {_show(info.filename)} fails its CRC check")


def open_zip(data: bytes, limits: ZipLimits = DEFAULT_LIMITS) -> SafeZip:
    """Check the whole central directory and the layout of `data`, decompressing nothing, and return it readable.

    :raises InputError: codes ``zip-malformed``, ``zip-too-many-entries``, ``zip-too-large``, ``zip-bomb``,
        ``zip-unsafe-path``, ``zip-duplicate-entry``, ``zip-encrypted``, ``zip-unsupported-compression``.
    """
    data = bytes(data)
    cd_start, raw_names = _walk_central_directory(data, limits)
    infos = _zipfile_infos(data, len(raw_names))
    _check_entries(infos, limits)
    spans = _check_layout(data, infos, raw_names, cd_start)
    return SafeZip(data, infos, spans)


# --- the end record and the central directory, walked before zipfile builds anything -------------------------


def _walk_central_directory(data: bytes, limits: ZipLimits) -> tuple[int, list[bytes]]:
    """Where the central directory starts and each entry's raw name, capped at ``max_entries`` records."""
    eocd = _find_end_record(data)
    disk, cd_disk, _on_disk, declared, cd_size, cd_offset, _comment = _EOCD.unpack_from(data, eocd)[1:]
    end_of_cd = eocd
    if eocd >= _EOCD64_LOC.size and data.startswith(_EOCD64_LOC_SIG, eocd - _EOCD64_LOC.size):
        end_of_cd, disk, cd_disk, declared, cd_size, cd_offset = _zip64_end_record(data, eocd)
    if disk or cd_disk:
        raise _malformed("it spans several disks")
    if declared > limits.max_entries:
        raise _too_many(limits)
    cd_start = end_of_cd - cd_size
    if cd_start < 0 or cd_offset != cd_start:
        raise _malformed("its central directory is not where its end record says (bytes before or inside it)")
    names = _central_names(data, cd_start, end_of_cd, limits)
    if len(names) != declared:
        raise _malformed(f"its end record counts {declared} entries but its central directory holds {len(names)}")
    return cd_start, names


def _find_end_record(data: bytes) -> int:
    """Offset of the end record: the last one, followed by exactly its comment (no bytes appended)."""
    low = max(0, len(data) - _EOCD.size - 0xFFFF)
    pos = data.rfind(_EOCD_SIG, low)
    if pos < 0 or pos + _EOCD.size > len(data):
        raise _malformed("it has no end of central directory record (not a ZIP, or truncated)")
    comment_length = _EOCD.unpack_from(data, pos)[-1]
    if pos + _EOCD.size + comment_length != len(data):
        raise _malformed("its end of central directory record is not at its end (truncated, or bytes appended)")
    return pos


def _zip64_end_record(data: bytes, eocd: int) -> tuple[int, int, int, int, int, int]:
    """The ZIP64 end record, which must sit right before its locator (where zipfile looks for it)."""
    locator = eocd - _EOCD64_LOC.size
    _sig, _disk, record_offset, _disks = _EOCD64_LOC.unpack_from(data, locator)
    record = locator - _EOCD64.size
    if record < 0 or record_offset != record or not data.startswith(_EOCD64_SIG, record):
        raise _malformed("its ZIP64 end record is missing or misplaced")
    fields = _EOCD64.unpack_from(data, record)
    disk, cd_disk, _on_disk, declared, cd_size, cd_offset = fields[4:]
    return record, disk, cd_disk, declared, cd_size, cd_offset


def _central_names(data: bytes, start: int, end: int, limits: ZipLimits) -> list[bytes]:
    """Raw names of the central directory records between `start` and `end`, stopping past ``max_entries``."""
    names: list[bytes] = []
    pos = start
    while pos < end:
        if len(names) == limits.max_entries:
            raise _too_many(limits)
        if pos + _CENTRAL.size > end or not data.startswith(_CENTRAL_SIG, pos):
            raise _malformed(f"central directory record {len(names) + 1} is damaged")
        fields = _CENTRAL.unpack_from(data, pos)
        name_length, extra_length, comment_length = fields[12:15]
        name_start = pos + _CENTRAL.size
        pos = name_start + name_length + extra_length + comment_length
        if pos > end:
            raise _malformed(f"central directory record {len(names) + 1} runs past the directory")
        names.append(data[name_start : name_start + name_length])
    return names


def _zipfile_infos(data: bytes, expected: int) -> list[zipfile.ZipInfo]:
    """The records as zipfile reads them (names decoded, ZIP64 fields applied), now that their count is capped."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except _PARSE_ERRORS as e:
        raise _malformed(_short(e)) from e
    if len(infos) != expected:
        raise _malformed("its central directory reads differently from different ends")
    return infos


# --- each entry on its own, then all together ----------------------------------------------------------------


def _check_entries(infos: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    """Names, duplicates, encryption, compression and sizes of every entry, in central-directory order."""
    seen: dict[str, str] = {}
    total = 0
    for info in infos:
        _check_name(info, limits, seen)
        _check_method(info)
        _check_size(info, limits)
        total += info.file_size
    if total > limits.max_total_uncompressed:
        raise InputError(
            f"The ZIP container declares {total} bytes uncompressed in total, more than the limit of "
            f"{limits.max_total_uncompressed}",
            code="zip-too-large",
        )


def _check_name(info: zipfile.ZipInfo, limits: ZipLimits, seen: dict[str, str]) -> None:
    """Refuse names that escape or confuse a folder, and names another system would merge with an earlier one."""
    name = info.orig_filename  # zipfile cuts `filename` at a NUL; the original shows it
    reason = _unsafe_reason(name, limits)
    if reason is not None:
        raise InputError(f"The ZIP entry {_show(name)} has an unsafe name: {reason}", code="zip-unsafe-path")
    key = unicodedata.normalize("NFC", name).casefold().rstrip("/")
    if key in seen:
        same = "appears twice" if seen[key] == name else f"clashes with {_show(seen[key])} (case or Unicode form)"
        raise InputError(f"The ZIP entry {_show(name)} {same}", code="zip-duplicate-entry")
    seen[key] = name


def _unsafe_reason(name: str, limits: ZipLimits) -> str | None:
    """Why `name` is unsafe to use as a relative path on any system, or None."""
    if not name:
        return "it is empty"
    if len(name) > limits.max_name_length:
        return f"longer than {limits.max_name_length} characters"
    if _CONTROL.search(name):
        return "a NUL or control character"
    if "\\" in name:
        return "a backslash"
    if name.startswith("/"):
        return "an absolute path"
    if _DRIVE.match(name):
        return "a drive letter"
    segments = name.removesuffix("/").split("/")
    if ".." in segments:
        return "a '..' segment"
    if "." in segments or "" in segments:
        return "a '.' or empty segment"
    return None


def _check_method(info: zipfile.ZipInfo) -> None:
    """Only unencrypted stored and deflated entries: what ASiC writers produce and zlib reads in bounded steps."""
    if info.flag_bits & _FLAG_ENCRYPTED:
        raise InputError(f"The ZIP entry {_show(info.filename)} is encrypted", code="zip-encrypted")
    if info.compress_type not in _SUPPORTED_METHODS:
        raise InputError(
            f"The ZIP entry {_show(info.filename)} uses compression method {info.compress_type} "
            "(only stored and deflated are supported)",
            code="zip-unsupported-compression",
        )
    if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        raise _malformed(f"stored entry {_show(info.filename)} declares two different sizes")
    if info.filename.endswith("/") and info.file_size:
        raise _malformed(f"directory entry {_show(info.filename)} has content")


def _check_size(info: zipfile.ZipInfo, limits: ZipLimits) -> None:
    """The declared size against the limits, and the declared expansion against ``max_ratio``."""
    if info.file_size > limits.max_entry_uncompressed:
        raise InputError(
            f"The ZIP entry {_show(info.filename)} declares {info.file_size} bytes uncompressed, more than the "
            f"limit of {limits.max_entry_uncompressed}",
            code="zip-too-large",
        )
    if info.file_size > _RATIO_FLOOR and info.file_size > limits.max_ratio * max(info.compress_size, 1):
        ratio = info.file_size // max(info.compress_size, 1)
        raise InputError(
            f"The ZIP entry {_show(info.filename)} expands {ratio} times, more than the limit of "
            f"{limits.max_ratio:g} (a ZIP bomb)",
            code="zip-bomb",
        )


# --- the layout: local headers back to back, agreeing with the central directory -----------------------------


def _check_layout(data: bytes, infos: list[zipfile.ZipInfo], raw_names: list[bytes], cd_start: int) -> list[_Span]:
    """Each entry's data span, once the local headers are shown to tile the file up to the central directory."""
    spans: list[_Span | None] = [None] * len(infos)
    expected = 0
    for index in sorted(range(len(infos)), key=lambda i: infos[i].header_offset):
        info = infos[index]
        if info.header_offset != expected:
            raise _malformed(f"entry {_show(info.filename)} does not start where the entry before it ends")
        span, expected = _local_entry(data, info, raw_names[index], cd_start)
        spans[index] = span
    if expected != cd_start:
        raise _malformed("bytes lie between its last entry and its central directory")
    return [span for span in spans if span is not None]


def _local_entry(data: bytes, info: zipfile.ZipInfo, raw_name: bytes, cd_start: int) -> tuple[_Span, int]:
    """The entry's span and where the next entry must begin, from a local header that agrees with the central one."""
    shown = _show(info.filename)
    pos = info.header_offset
    if pos + _LOCAL.size > cd_start or not data.startswith(_LOCAL_SIG, pos):
        raise _malformed(f"entry {shown} has no local header where the central directory points")
    _sig, _version, flags, method, _time, _date, crc, csize, usize, name_length, extra_length = _LOCAL.unpack_from(
        data, pos
    )
    name_start = pos + _LOCAL.size
    data_start = name_start + name_length + extra_length
    data_end = data_start + info.compress_size
    if data_end > cd_start:
        raise _malformed(f"entry {shown} runs into the central directory")
    if data[name_start : name_start + name_length] != raw_name:
        raise _malformed(f"the local header of entry {shown} names another file")
    if flags & _FLAG_ENCRYPTED:
        raise InputError(f"The ZIP entry {shown} is encrypted", code="zip-encrypted")
    if method != info.compress_type:
        raise _malformed(f"the local and central headers of entry {shown} disagree on its compression")
    extra = data[name_start + name_length : data_start]
    zip64 = _zip64_sizes(extra)
    if flags & _FLAG_DESCRIPTOR:
        end = data_end + _descriptor_length(data, data_end, info, zip64 is not None, cd_start)
    else:
        _same_sizes(info, crc, csize, usize, zip64)
        end = data_end
    return _Span(data_start, data_end, extra), end


def _zip64_sizes(extra: bytes) -> tuple[int, int] | None:
    """(uncompressed, compressed) from a local ZIP64 extra field, or None when the header has none."""
    pos = 0
    while pos + 4 <= len(extra):
        header_id, size = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + size]
        if header_id == _ZIP64_EXTRA:
            if len(body) < 16:
                raise _malformed("a local ZIP64 extra field is too short")
            return struct.unpack_from("<QQ", body)
        pos += 4 + size
    return None


def _same_sizes(info: zipfile.ZipInfo, crc: int, csize: int, usize: int, zip64: tuple[int, int] | None) -> None:
    """A streaming reader trusts the local header: it must say what the central directory says."""
    if zip64 is not None and (csize == 0xFFFFFFFF or usize == 0xFFFFFFFF):
        usize, csize = zip64
    if (crc, csize, usize) != (info.CRC, info.compress_size, info.file_size):
        raise _malformed(f"the local and central headers of entry {_show(info.filename)} disagree on its size or CRC")


def _descriptor_length(data: bytes, pos: int, info: zipfile.ZipInfo, zip64: bool, cd_start: int) -> int:
    """Length of the data descriptor at `pos` (signature optional), which must repeat the central CRC and sizes."""
    fmt = "<LQQ" if zip64 else "<LLL"
    expected = (info.CRC, info.compress_size, info.file_size)
    for skip in (4, 0) if data.startswith(_DESCRIPTOR_SIG, pos) else (0,):
        length = skip + struct.calcsize(fmt)
        if pos + length <= cd_start and struct.unpack_from(fmt, data, pos + skip) == expected:
            return length
    raise _malformed(f"the data descriptor of entry {_show(info.filename)} disagrees with the central directory")


# --- reading --------------------------------------------------------------------------------------------------


def _inflated(raw: memoryview, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """A deflated entry's bytes, never more than 64 KiB at a time whatever the stream holds.

    Bytes after the end of the deflate stream (inside the declared compressed size) are ignored, as every unzip
    program ignores them: they cannot change what the entry holds.
    """
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    feed = _pieces(raw)
    while not inflater.eof:
        piece = inflater.unconsumed_tail or next(feed, b"")
        try:
            chunk = inflater.decompress(piece, _CHUNK)
        except zlib.error as e:
            raise _malformed(f"entry {_show(info.filename)} has broken compressed data ({_short(e)})") from e
        if not chunk and len(inflater.unconsumed_tail) == len(piece):
            raise _malformed(f"entry {_show(info.filename)} has truncated compressed data")
        if chunk:
            yield chunk


def _pieces(raw: memoryview) -> Iterator[bytes]:
    """Raw bytes of an entry in chunks (copies of 64 KiB, never of the whole entry)."""
    for pos in range(0, len(raw), _CHUNK):
        yield bytes(raw[pos : pos + _CHUNK])


# --- messages -------------------------------------------------------------------------------------------------


def _show(name: str) -> str:
    """A name as quoted in a message: escaped, and cut short if a hostile archive made it long."""
    return repr(name if len(name) <= _NAME_SHOWN else name[:_NAME_SHOWN] + "...")


def _short(error: BaseException) -> str:
    """A library's error text for a message, or its type when it has none."""
    return str(error).strip() or type(error).__name__


def _malformed(detail: str) -> InputError:
    return InputError(f"The ZIP container is malformed: {detail}", code="zip-malformed")


def _too_many(limits: ZipLimits) -> InputError:
    return InputError(f"The ZIP container has more than {limits.max_entries} entries", code="zip-too-many-entries")
