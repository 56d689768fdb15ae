"""A detached signature over a large file: the file is hashed as a stream, never read into memory."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from asn1crypto import keys
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

import regenerate
import testpki
from conftest import ROOT_PEMS

T_SIGN = regenerate.T_SIGN
SIZE = 300 * 1024 * 1024


def _sign_detached(content: Path) -> bytes:
    signer = signers.SimpleSigner(
        signing_cert=testpki.cert("fr", "signer-qscd"),
        signing_key=keys.PrivateKeyInfo.load(testpki.private_key_der("fr", "signer-qscd")),
        cert_registry=SimpleCertificateStore.from_certs([testpki.cert("fr", "qca")]),
    )

    async def sign():
        with content.open("rb") as f:
            return await signer.async_sign_general_data(f, "sha256", detached=True, use_cades=True)

    signature = asyncio.run(sign())
    return regenerate.add_long_term_data(signature, "fr", "signer-qscd", T_SIGN).dump()


@pytest.mark.slow
def test_large_detached_content_is_streamed(tmp_path):
    content = tmp_path / "offer.bin"
    with content.open("wb") as f:
        f.truncate(SIZE)  # sparse: cheap to create, still SIZE bytes to hash
    (tmp_path / "offer.bin.p7s").write_bytes(_sign_detached(content))
    at = (T_SIGN + timedelta(hours=1)).astimezone(timezone.utc).isoformat()
    command = [
        str(Path(sys.executable).parent / "trustsvc"), "validate", str(tmp_path / "offer.bin.p7s"),
        "--content", str(content), "--offline", "--at", at, *[a for p in ROOT_PEMS for a in ("--trust-anchor", str(p))],
    ]  # fmt: skip
    probe = (
        "import json, resource, subprocess, sys\n"
        "r = subprocess.run(json.loads(sys.argv[1]), capture_output=True, text=True)\n"
        "print(json.dumps({'rc': r.returncode, 'out': r.stdout, 'err': r.stderr,"
        " 'maxrss_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))\n"
    )
    measured = json.loads(
        subprocess.run([sys.executable, "-c", probe, json.dumps(command)], capture_output=True, text=True).stdout
    )
    assert measured["rc"] == 0, measured["err"]
    sig = json.loads(measured["out"])["signatures"][0]
    assert sig["indication"] == "TOTAL_PASSED"
    assert measured["maxrss_kb"] < 150 * 1024, f"peak RSS {measured['maxrss_kb']} kB for a {SIZE >> 20} MB file"


def test_signing_times_are_fixed():
    assert T_SIGN == datetime(2026, 11, 2, 10, 0, tzinfo=timezone.utc)
