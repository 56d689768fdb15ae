"""Every generated sample bid gives its expected indication and sub-indication, online and offline."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import SAMPLES, validate
from trustsvc.verdict import exit_code

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "samples.yaml").read_text())


def _case_id(case: dict) -> str:
    suffix = "+" + "+".join(Path(c).name for c in case.get("content", [])) if case.get("content") else ""
    return case["file"] + suffix


def _expected(entry: str) -> tuple[str, str | None]:
    indication, _, sub = entry.partition("/")
    return indication, sub or None


@pytest.mark.parametrize("mode", ["online", "offline"])
@pytest.mark.parametrize("case", CASES, ids=_case_id)
async def test_sample_verdict(case, mode, anchors, pki_proxy):
    report = await validate(
        SAMPLES / case["file"],
        anchors=anchors,
        contents=[SAMPLES / c for c in case.get("content", [])],
        online=mode == "online",
    )
    got = [(s.indication.value, s.subindication.value if s.subindication else None) for s in report.signatures]
    assert got == [_expected(e) for e in case[mode]]
    levels = case["level"] if isinstance(case["level"], list) else [case["level"]] * len(report.signatures)
    assert [s.level for s in report.signatures] == levels
    assert [e.code for e in report.document.errors] == case.get("document_errors", [])
    if "scope" in case:
        assert report.signatures[0].scope == case["scope"]
    first = report.signatures[0]
    if mode == "online":
        assert {w.code for w in first.warnings} >= set(case.get("warnings", []))
    assert {e.code for e in first.errors} >= set(case.get("errors", []))
    if first.indication.value != "TOTAL_PASSED":
        assert first.errors, "a signature that did not pass must say why"


async def test_pdf_without_signature_is_a_failure(anchors):
    report = await validate(SAMPLES / "pades" / "no-signature.pdf", anchors=anchors)
    assert report.signatures == ()
    assert [e.code for e in report.document.errors] == ["NO_SIGNATURE_FOUND"]
    assert report.to_dict()["signatures"] == []
    assert exit_code(report) == 1


async def test_without_trust_anchor_no_chain_is_found(pki_proxy):
    from trustsvc.trust.anchors import AnchorSet

    report = await validate(SAMPLES / "pades" / "b-lta.pdf", anchors=AnchorSet(), online=True)
    (sig,) = report.signatures
    assert (sig.indication.value, sig.subindication.value) == ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")


async def test_lta_sample_reports_its_timestamps_and_anchor(anchors):
    report = await validate(SAMPLES / "pades" / "b-lta.pdf", anchors=anchors)
    (sig,) = report.signatures
    assert [(t.type, t.indication.value) for t in sig.timestamps] == [
        ("signature", "TOTAL_PASSED"),
        ("document", "TOTAL_PASSED"),
    ]
    assert sig.trust_anchor is not None and sig.trust_anchor.source == "ad-hoc"
    assert sig.trust_anchor.subject == "CN=FR Test Root CA,O=Autorité de Test France,C=FR"
    assert sig.signer is not None and sig.signer.country == "FR"
    assert sig.best_signature_time.isoformat() == "2026-11-02T10:00:00+00:00"
    assert sig.scope == "FULL"
    assert [t.type for t in report.timestamps] == ["document"]
