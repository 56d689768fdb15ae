"""A JSON report read back into the verdict model gives the same JSON (the service renders its other reports
from the JSON it kept as evidence)."""

from __future__ import annotations

import pytest

from conftest import SAMPLES, validate
from demo_lists import pilot_lists
from trustsvc.policy.apply import apply_policies, resolve_requests
from trustsvc.policy.catalogue import load_policy_set
from trustsvc.reports.etsi_xml import render_etsi_xml
from trustsvc.reports.parse import report_from_dict
from trustsvc.trust.provider import TrustedListTrust
from trustsvc.trust.registry import TrustRegistry

SAMPLE_FILES = [
    "pades/b-lta.pdf",
    "pades/two-signatures.pdf",
    "pades/tampered-content-byte.pdf",
    "pades/no-signature.pdf",
    "pades/revoked-b-b.pdf",
    "cades/detached-b-lt.p7s",
    "timestamps/bid.xml.tsr",
]


@pytest.mark.parametrize("sample", SAMPLE_FILES)
async def test_round_trip(sample):
    trust = TrustedListTrust(TrustRegistry(pilot_lists(), snapshot_id=1))
    path = SAMPLES / sample
    contents = [SAMPLES / "content" / "bid.xml"] if path.suffix in (".p7s", ".tsr") else []
    report = await validate(path, anchors=trust, contents=contents)
    policies = load_policy_set()
    report = apply_policies(report, resolve_requests(["all"], policies), policies)
    data = report.to_dict()
    again = report_from_dict(data)
    assert again.to_dict() == data
    assert render_etsi_xml(again).startswith(b"<?xml")


def test_not_a_report():
    with pytest.raises(KeyError):
        report_from_dict({"signatures": []})
