"""Hashing by ASN.1 algorithm name, and streaming a file through several hash functions in one pass.

A detached document can be gigabytes: it is read once, in fixed-size chunks, into every digest the signature
and its time-stamps need. Memory stays constant whatever the file size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

__all__ = ["new_hash", "digest_bytes", "digest_file", "CHUNK_SIZE"]

CHUNK_SIZE = 1 << 20

_HASHLIB_NAMES = {
    "sha1": "sha1",
    "sha224": "sha224",
    "sha256": "sha256",
    "sha384": "sha384",
    "sha512": "sha512",
    "sha512_224": "sha512_224",
    "sha512_256": "sha512_256",
    "sha3_224": "sha3_224",
    "sha3_256": "sha3_256",
    "sha3_384": "sha3_384",
    "sha3_512": "sha3_512",
    "md5": "md5",
}


def new_hash(algorithm: str):
    """A hashlib object for an asn1crypto digest algorithm name; ValueError for algorithms we cannot compute."""
    name = _HASHLIB_NAMES.get(algorithm)
    if name is None:
        raise ValueError(f"unsupported digest algorithm {algorithm}")
    return hashlib.new(name)


def digest_bytes(algorithm: str, data: bytes) -> bytes:
    h = new_hash(algorithm)
    h.update(data)
    return h.digest()


def digest_file(path: Path, algorithms: Iterable[str]) -> dict[str, bytes]:
    """Digest a file with every algorithm in one sequential read (hashlib releases the GIL on large chunks)."""
    hashes = {}
    for algorithm in set(algorithms):
        try:
            hashes[algorithm] = new_hash(algorithm)
        except ValueError:
            continue
    buffer = bytearray(CHUNK_SIZE)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as f:
        while True:
            n = f.readinto(buffer)
            if not n:
                break
            chunk = view[:n]
            for h in hashes.values():
                h.update(chunk)
    return {name: h.digest() for name, h in hashes.items()}
