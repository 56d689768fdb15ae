"""The agreement as a trust source: a CA the legal teams agreed on anchors bids signed under it for the cross-pilot
policy, from the moment the last pilot approved, as the agreement stood at the validation time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from conftest import PEM, SAMPLES, T_VAL
from demo_lists import pilot_lists
from trustsvc.db import make_engine, migrate
from trustsvc.engine import Submission, validate_submission
from trustsvc.fetch import revocation_fetcher
from trustsvc.formats import ValidationSettings
from trustsvc.policy.apply import apply_policies, resolve_requests
from trustsvc.policy.catalogue import load_policy_set
from trustsvc.trust.agreement import PILOTS, Agreement, EntryDraft, read_ca_certificate
from trustsvc.trust.agreement_trust import with_agreement
from trustsvc.trust.provider import CombinedTrust, TrustedListTrust
from trustsvc.trust.registry import TrustRegistry

CZ_BID = SAMPLES / "pades" / "b-lt-cz.pdf"  # signed under the CZ qualified CA, withdrawn from the demo CZ list


@pytest.fixture()
def agreement(tmp_path) -> Agreement:
    engine = make_engine(f"sqlite:///{tmp_path / 'agreement.db'}")
    migrate(engine)
    return Agreement(engine)


def draft(quality: int = 4) -> EntryDraft:
    return EntryDraft(
        ca_certificate=read_ca_certificate((PEM / "ms-cz" / "qca.pem").read_bytes()),
        name="CZ Test Qualified CA",
        country="CZ",
        justification="Assessed by the five legal teams: equivalent to a qualified CA.",
        quality_level=quality,
        valid_from=datetime(2025, 1, 1, tzinfo=timezone.utc),
        valid_to=None,
        source_document="https://procure.example/assessments/cz-qca",
    )


def agree_on_all_pilots(agreement: Agreement, entry_id: int, at: datetime, skip: str | None = None) -> None:
    for index, pilot in enumerate(PILOTS[1:], start=1):
        if pilot != skip:
            agreement.approve(entry_id, curator=f"curator-{pilot}", pilot=pilot, now=at + timedelta(minutes=index))


async def procure_decision(agreement: Agreement, at: datetime) -> tuple[str, str | None]:
    trust = with_agreement(TrustedListTrust(TrustRegistry(pilot_lists(), snapshot_id=1)), agreement.engine, at)
    async with revocation_fetcher(5.0) as fetcher:
        settings = ValidationSettings(validation_time=at, trust=trust, fetcher_backend=fetcher, historical=True)
        report = await validate_submission(Submission(document=CZ_BID), settings)
    policies = load_policy_set()
    report = apply_policies(report, resolve_requests(["procure", "fr"], policies), policies)
    (signature,) = report.signatures
    decisions = {p.pilot: p.decision.value for p in report.policies}
    return decisions["procure"] + "/" + decisions[
        "fr"
    ], signature.trust_anchor.source if signature.trust_anchor else None


async def test_a_ca_counts_only_once_every_pilot_approved(agreement, pki_proxy):
    proposed = T_VAL - timedelta(days=2)
    entry = agreement.propose(draft(), curator="curator-fr", pilot="fr", reason="bidders from CZ", now=proposed)
    agree_on_all_pilots(agreement, entry.id, proposed, skip="es")
    assert await procure_decision(agreement, T_VAL) == ("REJECT/REJECT", None)  # four of five: not in force
    agreement.approve(entry.id, curator="curator-es", pilot="es", now=proposed + timedelta(hours=1))
    # in force: the cross-pilot policy accepts the bid; France still wants an EU-qualified certificate
    assert await procure_decision(agreement, T_VAL) == ("ACCEPT/REJECT", "agreement: CZ Test Qualified CA")


async def test_a_validation_uses_the_agreement_as_it_stood_then(agreement, pki_proxy):
    proposed = T_VAL - timedelta(days=10)
    entry = agreement.propose(draft(), curator="curator-fr", pilot="fr", reason="bidders from CZ", now=proposed)
    agree_on_all_pilots(agreement, entry.id, proposed)
    withdrawn = T_VAL - timedelta(days=1)
    agreement.propose_withdrawal(entry.id, curator="curator-it", pilot="it", reason="assessment expired", now=withdrawn)
    for index, pilot in enumerate(("fr", "cz", "se", "es"), start=1):
        agreement.approve_withdrawal(
            entry.id, curator=f"curator-{pilot}", pilot=pilot, now=withdrawn + timedelta(minutes=index)
        )
    assert (await procure_decision(agreement, T_VAL))[0] == "REJECT/REJECT"  # withdrawn before the validation
    before = T_VAL - timedelta(days=2)  # the bid was signed on 2026-11-02, the entry in force from 2026-11-18
    assert (await procure_decision(agreement, before))[0] == "ACCEPT/REJECT"


def test_only_entries_of_quality_four_or_more_anchor(agreement):
    entry = agreement.propose(
        draft(quality=3), curator="curator-fr", pilot="fr", reason="r", now=T_VAL - timedelta(days=1)
    )
    agree_on_all_pilots(agreement, entry.id, T_VAL - timedelta(days=1))
    lists = TrustedListTrust(TrustRegistry(pilot_lists(), snapshot_id=1))
    assert with_agreement(lists, agreement.engine, T_VAL) is lists
    assert agreement.entry(entry.id).in_force_at(T_VAL)


def test_ad_hoc_trust_alone_is_left_as_asked(agreement):
    from trustsvc.trust.anchors import AnchorSet

    entry = agreement.propose(draft(), curator="curator-fr", pilot="fr", reason="r", now=T_VAL - timedelta(days=1))
    agree_on_all_pilots(agreement, entry.id, T_VAL - timedelta(days=1))
    anchors = AnchorSet()
    assert with_agreement(anchors, agreement.engine, T_VAL) is anchors
    combined = with_agreement(TrustedListTrust(TrustRegistry(pilot_lists(), snapshot_id=1)), agreement.engine, T_VAL)
    assert isinstance(combined, CombinedTrust)
