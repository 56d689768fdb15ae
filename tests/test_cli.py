"""The `trustsvc validate` command: exit codes, JSON contract, text output, online and offline behaviour."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT_PEMS, SAMPLES

TRUSTSVC = str(Path(sys.executable).parent / "trustsvc")
AT = "2026-11-28T12:00:00Z"
# the roots alone, as ad-hoc anchors (the trusted lists have their own tests below)
ANCHOR_ARGS = ["--trust-source", "none", *[arg for pem in ROOT_PEMS for arg in ("--trust-anchor", str(pem))]]


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([TRUSTSVC, *args], capture_output=True, text=True, timeout=timeout)


def validate(sample: str, *extra: str) -> subprocess.CompletedProcess:
    return run("validate", str(SAMPLES / sample), "--at", AT, *ANCHOR_ARGS, *extra)


@pytest.mark.parametrize(
    ("sample", "extra", "code"),
    [
        ("pades/b-lta.pdf", ["--offline"], 0),
        ("pades/tampered-content-byte.pdf", ["--offline"], 1),
        ("pades/no-signature.pdf", ["--offline"], 1),
        ("pades/b-t.pdf", ["--offline"], 3),
        ("pades/second-signature-other-revision.pdf", [], 1),
        ("cades/detached-b-lt.p7s", ["--offline", "--content", str(SAMPLES / "content/bid.xml")], 0),
        ("cades/detached-b-lt.p7s", ["--offline"], 3),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_exit_codes(sample, extra, code, pki_proxy):
    result = validate(sample, *extra)
    assert result.returncode == code, result.stderr
    assert result.stderr == ""
    json.loads(result.stdout)


def test_json_follows_the_contract():
    result = validate("pades/b-lta.pdf", "--offline")
    report = json.loads(result.stdout)
    assert set(report) == {"document", "validation_time", "signatures", "policies", "timestamps", "trust"}
    assert report["trust"] == {"source": "ad-hoc", "snapshot_id": None, "lists": [], "stale": [], "anchors": 5}
    assert [t["type"] for t in report["timestamps"]] == ["document"]  # a PDF's document time-stamps, on their own
    assert report["validation_time"] == AT
    assert report["document"]["filename"] == "b-lta.pdf"
    assert report["document"]["format"] == "PDF"
    assert len(report["document"]["sha256"]) == 64
    (sig,) = report["signatures"]
    assert list(sig) == [
        "id", "format", "level", "indication", "subindication", "signer", "claimed_signing_time",
        "best_signature_time", "trust_anchor", "qualification", "timestamps", "scope", "errors", "warnings", "infos",
    ]  # fmt: skip
    assert sig["id"] == "sig-1" and sig["format"] == "PAdES" and sig["level"] == "PAdES-BASELINE-LTA"
    assert sig["indication"] == "TOTAL_PASSED" and sig["subindication"] is None
    assert set(sig["signer"]) == {"subject", "issuer", "serial", "country", "certificate_sha256"}
    assert sig["signer"]["subject"] == "GN=Camille,SN=Dupont,CN=Camille Dupont,O=BTP Dupont SARL,C=FR"
    assert sig["best_signature_time"] == "2026-11-02T10:00:00Z"
    assert sig["trust_anchor"] == {"subject": "CN=FR Test Root CA,O=Autorité de Test France,C=FR", "source": "ad-hoc"}
    assert [t["type"] for t in sig["timestamps"]] == ["signature", "document"]
    assert set(sig["timestamps"][0]) >= {"type", "time", "indication", "tsa", "qualified"}


def test_text_output_has_one_line_per_signature(pki_proxy):
    result = validate("pades/second-signature-other-revision.pdf", "--output", "text")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("second-signature-other-revision.pdf (PDF, sha256 ")
    assert lines[1].startswith("  sig-1: FAILED/FORMAT_FAILURE — Camille Dupont (FR), ")
    assert "PAdES-BASELINE-T — The PDF was changed after it was signed" in lines[1]
    assert lines[2] == (
        "  sig-2: PASSED — Giulia Rossi (IT), signed by 2026-11-02 10:30:00Z (time-stamped), PAdES-BASELINE-T"
    )
    assert lines[3] == "  trust: ad-hoc (0 lists, 5 anchors)"
    assert len(lines) == 4


def test_etsi_xml_output_is_the_ts_119_102_2_report():
    from lxml import etree

    result = validate("pades/tampered-content-byte.pdf", "--offline", "--output", "etsi-xml")
    assert result.returncode == 1 and result.stderr == ""
    root = etree.fromstring(result.stdout.encode())
    ns = {"vr": "http://uri.etsi.org/19102/v1.2.1#"}
    assert root.tag == "{http://uri.etsi.org/19102/v1.2.1#}ValidationReport"
    (status,) = root.xpath("vr:SignatureValidationReport/vr:SignatureValidationStatus", namespaces=ns)
    assert status.findtext("vr:MainIndication", namespaces=ns) == "urn:etsi:019102:mainindication:total-failed"
    assert status.findtext("vr:SubIndication", namespaces=ns) == "urn:etsi:019102:subindication:HASH_FAILURE"


def test_no_signature_is_reported_as_a_document_error():
    result = validate("pades/no-signature.pdf", "--offline")
    report = json.loads(result.stdout)
    assert report["signatures"] == []
    assert report["document"]["errors"] == [
        {"code": "NO_SIGNATURE_FOUND", "message": "The document carries no signature."}
    ]


def _no_network(monkeypatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens on the discard port: connection refused


def test_offline_never_uses_the_network(monkeypatch):
    """With the proxy pointing nowhere, an LT file still passes offline: only embedded data was used."""
    _no_network(monkeypatch)
    result = validate("pades/b-lt.pdf", "--offline")
    assert json.loads(result.stdout)["signatures"][0]["indication"] == "TOTAL_PASSED"


def test_unreachable_revocation_services_give_try_later_in_bounded_time(monkeypatch):
    _no_network(monkeypatch)
    started = time.monotonic()
    result = validate("pades/b-t.pdf", "--fetch-timeout", "2")
    sig = json.loads(result.stdout)["signatures"][0]
    assert (sig["indication"], sig["subindication"]) == ("INDETERMINATE", "TRY_LATER")
    assert result.returncode == 3
    assert time.monotonic() - started < 20


def test_online_fetching_settles_what_offline_cannot(pki_proxy):
    offline = json.loads(validate("pades/b-t.pdf", "--offline").stdout)["signatures"][0]
    online = json.loads(validate("pades/b-t.pdf").stdout)["signatures"][0]
    assert offline["subindication"] == "TRY_LATER"
    assert online["indication"] == "TOTAL_PASSED"


def test_version():
    result = run("--version")
    assert result.returncode == 0 and result.stdout.startswith("trustsvc, version ")
