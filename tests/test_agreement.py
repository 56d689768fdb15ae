"""The cross-pilot CA agreement: unanimity, effective dating, the audit chain, concurrency, the signed list, the CLI.

Every database test runs on SQLite and on PostgreSQL (``conftest_db``). Tampering is done with SQL straight on the
tables, as someone with database access would. The concurrency tests race one engine per thread (each its own
connection pool, as separate processes would have), and the CLI test races processes.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from lxml import etree
from pyhanko.generated.etsi import ts_119612
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.qualified import eutl_parse
from sqlalchemy import Engine, insert, select, text
from xsdata.formats.dataclass.parsers import XmlParser
from xsdata.formats.dataclass.parsers.config import ParserConfig

from conftest import PEM, ROOT
from trustsvc.db import make_engine, migrate
from trustsvc.db.tables import AgreementApprovalRow, AgreementAuditRow
from trustsvc.trust import agreement as agreement_module
from trustsvc.trust.agreement import (
    PILOTS,
    Agreement,
    AgreementError,
    Entry,
    EntryDraft,
    EntryStatus,
)
from trustsvc.trust.agreement_list import AGREEMENT_TSL_TYPE, export_list, import_list, load_signer
from trustsvc.trust.tsl_model import CA_PKC, ServiceStatus, TrustedList
from trustsvc.trust.tsl_parse import parse_trusted_list_element
from trustsvc.trust.tsl_signature import verify_list_signature
from trustsvc.trust.tsl_write import signed_list_bytes

pytest_plugins = ["conftest_db"]

UTC = timezone.utc
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DEMO = ROOT / "trust_lists" / "demo"
OPERATOR_KEY = DEMO / "report-signer.key.pem"
OPERATOR_CERT = DEMO / "report-signer.pem"
TRUSTSVC = str(Path(sys.executable).parent / "trustsvc")
OTHERS = tuple(p for p in PILOTS if p != "fr")


def ca_pem(country: str) -> bytes:
    """A non-qualified CA of the test PKI: what the agreement is for."""
    return (PEM / f"ms-{country}" / "ca.pem").read_bytes()


def ca_der(country: str) -> bytes:
    return x509.load_pem_x509_certificate(ca_pem(country)).public_bytes(serialization.Encoding.DER)


def draft(pki: str = "se", **changes: Any) -> EntryDraft:
    """The non-qualified CA of a member state of the test PKI, as a curator would propose it."""
    base = EntryDraft(
        ca_certificate=ca_pem(pki),
        name=f"{pki.upper()} Test Non-Qualified CA",
        country=pki,
        justification="Registered and supervised CA; policy assessed against the agreement's minimum requirements.",
        quality_level=4,
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_to=None,
        source_document=f"https://procure.example.org/assessments/{pki}-2026.pdf",
    )
    return replace(base, **changes)


def enact(agreement: Agreement, the_draft: EntryDraft, start: datetime) -> Entry:
    """Propose (fr) and approve (every other pilot, a minute apart): in force from the last approval."""
    entry = agreement.propose(the_draft, curator="Camille", pilot="fr", reason="assessed", now=start)
    for minute, pilot in enumerate(OTHERS, 1):
        entry = agreement.approve(
            entry.id, curator=f"curator-{pilot}", pilot=pilot, now=start + timedelta(minutes=minute)
        )
    assert entry.status == EntryStatus.IN_FORCE
    return entry


def withdraw_all(agreement: Agreement, entry_id: int, start: datetime) -> Entry:
    entry = agreement.propose_withdrawal(entry_id, curator="Camille", pilot="fr", reason="CA ceased", now=start)
    for minute, pilot in enumerate(OTHERS, 1):
        entry = agreement.approve_withdrawal(
            entry_id, curator=f"curator-{pilot}", pilot=pilot, now=start + timedelta(minutes=minute)
        )
    assert entry.status == EntryStatus.WITHDRAWN
    return entry


@pytest.fixture
def agreement(db_engine: Engine) -> Agreement:
    return Agreement(db_engine)


@pytest.fixture
def sqlite_agreement(tmp_path: Path) -> Iterator[Agreement]:
    """SQLite only: for rules that do not depend on the database."""
    engine = make_engine(f"sqlite:///{tmp_path / 'agreement.db'}")
    migrate(engine)
    yield Agreement(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def operator() -> tuple[Any, bytes]:
    return load_signer(OPERATOR_KEY, OPERATOR_CERT)


# -- unanimity and effective dating ------------------------------------------------------------------------------


def test_an_entry_comes_in_force_when_the_last_pilot_approves(agreement: Agreement) -> None:
    entry = agreement.propose(draft(), curator="Camille", pilot="fr", reason="assessed", now=T0)
    assert (entry.status, entry.approvals, entry.effective_from) == ("proposed", {"fr": "Camille"}, None)
    assert entry.missing_pilots == OTHERS
    assert entry.draft.ca_certificate == ca_der("se")  # PEM in, DER kept
    assert entry.draft.country == "SE"
    for hours, pilot in enumerate(("it", "cz", "se"), 1):
        entry = agreement.approve(entry.id, curator=f"c-{pilot}", pilot=pilot, now=T0 + timedelta(hours=hours))
        assert entry.status == "proposed" and entry.effective_from is None
    assert agreement.in_force(T0 + timedelta(days=30)) == []
    last = T0 + timedelta(hours=4)
    entry = agreement.approve(entry.id, curator="c-es", pilot="ES", reason="ok", now=last)
    assert entry.status == "in_force" and entry.effective_from == last and entry.effective_to is None
    assert entry.approvals == {"fr": "Camille", "it": "c-it", "cz": "c-cz", "se": "c-se", "es": "c-es"}
    assert agreement.in_force(last - timedelta(seconds=1)) == []
    assert agreement.in_force(last) == [entry] == agreement.entries()
    assert agreement.entry(entry.id) == entry


def test_effective_times_are_whole_seconds_never_before_the_last_approval(agreement: Agreement) -> None:
    entry = enact(agreement, draft(), T0 + timedelta(microseconds=250))
    assert entry.effective_from == T0 + timedelta(minutes=4, seconds=1)


def test_a_withdrawal_needs_every_pilot_and_the_past_stays_as_it_was(agreement: Agreement) -> None:
    entry = enact(agreement, draft(), T0)
    since = entry.effective_from
    assert since is not None
    start = T0 + timedelta(days=10)
    with pytest.raises(AgreementError) as nothing:
        agreement.approve_withdrawal(entry.id, curator="Giulia", pilot="it", now=start)
    assert (nothing.value.code, nothing.value.message) == (
        "nothing-pending",
        "entry 1 has no pending withdrawal to approve (it is in_force)",
    )
    pending = agreement.withdraw(entry.id, curator="Giulia", pilot="it", reason="CA ceased operations", now=start)
    assert (pending.status, pending.approvals) == ("withdrawal_proposed", {"it": "Giulia"})
    with pytest.raises(AgreementError) as twice:
        agreement.propose_withdrawal(entry.id, curator="Camille", pilot="fr", reason="same", now=start)
    assert (twice.value.code, twice.value.message) == (
        "withdrawal-pending",
        "a withdrawal of entry 1 is already proposed: approve it instead",
    )
    with pytest.raises(AgreementError) as wrong_kind:
        agreement.approve(entry.id, curator="Camille", pilot="fr", now=start)
    assert wrong_kind.value.code == "nothing-pending"
    assert agreement.in_force(start + timedelta(days=1)) == [agreement.entry(entry.id)]  # still in force meanwhile
    for minute, pilot in enumerate(("fr", "cz", "se"), 1):
        pending = agreement.withdraw(entry.id, curator=f"c-{pilot}", pilot=pilot, reason="agreed", now=start)
        assert pending.status == "withdrawal_proposed" and len(pending.approvals) == minute + 1
    end = start + timedelta(hours=2)
    done = agreement.approve_withdrawal(entry.id, curator="c-es", pilot="es", now=end)
    assert (done.status, done.effective_from, done.effective_to) == ("withdrawn", since, end)
    assert set(done.approvals) == set(PILOTS)
    assert agreement.in_force(end) == []
    assert [e.id for e in agreement.in_force(end - timedelta(seconds=1))] == [entry.id]
    assert [e.id for e in agreement.in_force(since)] == [entry.id]
    with pytest.raises(AgreementError, match="is not in force") as gone:
        agreement.withdraw(entry.id, curator="c", pilot="fr", reason="again", now=end)
    assert gone.value.code == "not-in-force"

    again = agreement.propose(draft(), curator="Camille", pilot="fr", reason="re-assessed", now=end)
    assert again.id != entry.id and again.status == "proposed"
    assert agreement.entry(entry.id).effective_to == end  # the old entry keeps its history


def test_a_proposal_is_not_withdrawn_before_it_is_in_force(agreement: Agreement) -> None:
    entry = agreement.propose(draft(), curator="Camille", pilot="fr", reason="assessed", now=T0)
    with pytest.raises(AgreementError) as refused:
        agreement.propose_withdrawal(entry.id, curator="Giulia", pilot="it", reason="no", now=T0)
    assert (refused.value.code, refused.value.message) == (
        "not-in-force",
        "entry 1 is not in force (it is proposed): only an entry in force is withdrawn",
    )
    with pytest.raises(AgreementError, match="a withdrawal needs a reason") as no_reason:
        agreement.withdraw(entry.id, curator="Giulia", pilot="it", reason=" ", now=T0)
    assert no_reason.value.code == "empty-reason"


# -- what is refused ------------------------------------------------------------------------------------------------


def _pkcs12() -> bytes:
    key = serialization.load_pem_private_key((ROOT / "fixtures/certs/keys/fr-ca.key.pem").read_bytes(), None)
    cert = x509.load_pem_x509_certificate(ca_pem("fr"))
    return pkcs12.serialize_key_and_certificates(b"ca", key, cert, None, serialization.NoEncryption())


def _key_der(encrypted: bool = False) -> bytes:
    key = serialization.load_pem_private_key((ROOT / "fixtures/certs/keys/fr-ca.key.pem").read_bytes(), None)
    protection = serialization.BestAvailableEncryption(b"secret") if encrypted else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, protection)


PRIVATE_KEY = "a private key was sent by mistake instead of the CA certificate; nothing was kept"
NOT_A_CERTIFICATE = "the CA certificate does not parse as an X.509 certificate (DER or PEM)"


@pytest.mark.parametrize(
    ("changes", "code", "message"),
    [
        pytest.param(
            {"ca_certificate": (ROOT / "fixtures/certs/keys/fr-ca.key.pem").read_bytes()},
            "private-key",
            PRIVATE_KEY,
            id="pem-key",
        ),
        pytest.param({"ca_certificate": _key_der()}, "private-key", PRIVATE_KEY, id="der-key"),
        pytest.param({"ca_certificate": _key_der(encrypted=True)}, "private-key", PRIVATE_KEY, id="encrypted-key"),
        pytest.param({"ca_certificate": _pkcs12()}, "private-key", PRIVATE_KEY, id="pkcs12"),
        pytest.param(
            {"ca_certificate": ca_pem("fr") + (ROOT / "fixtures/certs/keys/fr-ca.key.pem").read_bytes()},
            "private-key",
            PRIVATE_KEY,
            id="certificate-and-key",
        ),
        pytest.param(
            {"ca_certificate": b"not a certificate at all"}, "not-a-certificate", NOT_A_CERTIFICATE, id="junk"
        ),
        pytest.param({"ca_certificate": b""}, "not-a-certificate", NOT_A_CERTIFICATE, id="empty"),
        pytest.param({"ca_certificate": ca_der("fr")[:-20]}, "not-a-certificate", NOT_A_CERTIFICATE, id="truncated"),
        pytest.param(
            {"ca_certificate": ca_pem("fr") + ca_pem("it")},
            "not-a-certificate",
            "the file holds 2 certificates; give the one CA certificate alone",
            id="two-certificates",
        ),
        pytest.param(
            {"ca_certificate": (PEM / "ms-fr" / "signer-nq.pem").read_bytes()},
            "not-a-ca",
            '"Léa Petit" is not a CA certificate (no basicConstraints cA=true)',
            id="end-entity",
        ),
        pytest.param({"quality_level": 0}, "bad-quality-level", "quality level 0 is not one of 1 to 5", id="q0"),
        pytest.param({"quality_level": 6}, "bad-quality-level", "quality level 6 is not one of 1 to 5", id="q6"),
        pytest.param({"quality_level": True}, "bad-quality-level", "quality level True is not one of 1 to 5", id="qb"),
        pytest.param(
            {"valid_to": datetime(2026, 1, 1, tzinfo=UTC)},
            "bad-validity",
            "valid_to 2026-01-01T00:00:00.000000Z is not after valid_from 2026-01-01T00:00:00.000000Z",
            id="empty-validity",
        ),
        pytest.param({"valid_to": datetime(2025, 1, 1, tzinfo=UTC)}, "bad-validity", None, id="reversed-validity"),
        pytest.param(
            {"valid_from": datetime(2026, 1, 1)},
            "bad-validity",
            "valid_from must be a date and time with a time zone",
            id="naive",
        ),
        pytest.param(
            {"justification": "  \n"},
            "empty-justification",
            "the justification is empty: say why this CA meets the agreement's requirements",
            id="justification",
        ),
        pytest.param(
            {"country": "FRA"}, "bad-country", "country 'FRA' is not an ISO 3166 alpha-2 code such as FR", id="country"
        ),
        pytest.param({"name": " "}, "empty-name", "the CA's name is empty", id="name"),
        pytest.param(
            {"source_document": ""},
            "empty-source",
            "the source document is empty: give the URL or reference of the assessment",
            id="source",
        ),
    ],
)
def test_a_bad_proposal_is_refused_and_nothing_is_kept(
    sqlite_agreement: Agreement, changes: dict[str, Any], code: str, message: str | None
) -> None:
    with pytest.raises(AgreementError) as refused:
        sqlite_agreement.propose(draft("fr", **changes), curator="Camille", pilot="fr", reason="r", now=T0)
    assert refused.value.code == code
    if message is not None:
        assert refused.value.message == message
    assert "PRIVATE" not in str(refused.value) and refused.value.__cause__ is None
    assert sqlite_agreement.entries() == [] and sqlite_agreement.audit_trail() == []
    assert isinstance(refused.value, agreement_module.InputError)


def test_an_unknown_pilot_or_entry_is_refused(sqlite_agreement: Agreement) -> None:
    with pytest.raises(AgreementError) as pilot:
        sqlite_agreement.propose(draft(), curator="Hans", pilot="de", reason="r", now=T0)
    assert (pilot.value.code, pilot.value.message) == (
        "unknown-pilot",
        "unknown pilot 'de': the pilots are fr, it, cz, se, es",
    )
    with pytest.raises(AgreementError) as entry:
        sqlite_agreement.approve(99, curator="Camille", pilot="fr", now=T0)
    assert (entry.value.code, entry.value.message) == ("unknown-entry", "no agreement entry 99")
    with pytest.raises(AgreementError, match="no agreement entry 7"):
        sqlite_agreement.entry(7)


def test_the_same_ca_is_proposed_once_while_proposed_or_in_force(agreement: Agreement) -> None:
    agreement.propose(draft(), curator="Camille", pilot="fr", reason="r", now=T0)
    der = replace(draft(), ca_certificate=ca_der("se"))  # same certificate, DER this time
    with pytest.raises(AgreementError) as twice:
        agreement.propose(der, curator="Giulia", pilot="it", reason="r", now=T0)
    assert (twice.value.code, twice.value.message) == (
        "already-in-agreement",
        "this CA is already in the agreement as entry 1 (proposed)",
    )
    enact(agreement, draft("it"), T0)
    with pytest.raises(AgreementError, match=r"already in the agreement as entry 2 \(in_force\)"):
        agreement.propose(draft("it"), curator="Sven", pilot="se", reason="r", now=T0)
    assert len(agreement.entries()) == 2


def test_a_pilot_approves_a_change_once(agreement: Agreement) -> None:
    entry = agreement.propose(draft(), curator="Camille", pilot="fr", reason="r", now=T0)
    audit = agreement.audit_trail()
    with pytest.raises(AgreementError) as own:
        agreement.approve(entry.id, curator="Camille", pilot="fr", now=T0)
    assert (own.value.code, own.value.message) == (
        "already-approved",
        "fr already approved the addition of entry 1 (Camille); a pilot approves once",
    )
    with pytest.raises(AgreementError, match="fr already approved the addition of entry 1") as colleague:
        agreement.approve(entry.id, curator="Another French curator", pilot="fr", now=T0)
    assert colleague.value.code == "already-approved"
    agreement.approve(entry.id, curator="Giulia", pilot="it", now=T0)
    with pytest.raises(AgreementError, match="it already approved"):
        agreement.approve(entry.id, curator="Giulia", pilot="it", now=T0)
    assert agreement.entry(entry.id).approvals == {"fr": "Camille", "it": "Giulia"}
    assert len(agreement.audit_trail()) == len(audit) + 1


def test_moments_must_be_timezone_aware(sqlite_agreement: Agreement) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sqlite_agreement.propose(draft(), curator="c", pilot="fr", reason="r", now=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        sqlite_agreement.in_force(datetime(2026, 1, 1))


# -- the audit trail --------------------------------------------------------------------------------------------------


def test_every_change_is_an_audit_record_chained_to_the_one_before(agreement: Agreement) -> None:
    entry = enact(agreement, draft(), T0)
    withdraw_all(agreement, entry.id, T0 + timedelta(days=1))
    trail = agreement.audit_trail()
    assert [r.action for r in trail] == [
        "propose",
        *["approve"] * 4,
        "in_force",
        "propose_withdrawal",
        *["approve_withdrawal"] * 4,
        "withdrawn",
    ]
    assert [r.id for r in trail] == list(range(1, 13))
    assert trail[0].prev_hash == agreement_module.GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(trail, trail[1:], strict=False))
    digest = entry.certificate_sha256
    assert all(r.data["certificate_sha256"] == digest for r in trail)
    assert trail[0].data["quality_level"] == 4 and trail[0].pilot == "fr" and trail[0].curator == "Camille"
    assert trail[5].data["effective_from"] == "2026-11-02T09:04:00.000000Z"
    assert trail[5].data["approvals"] == {p: ("Camille" if p == "fr" else f"curator-{p}") for p in PILOTS}
    assert trail[6].reason == "CA ceased"
    check = agreement.verify_audit()
    assert (check.ok, check.rows, check.message) == (True, 12, "audit trail intact: 12 rows")


def _forge(engine: Engine, *, computed: bool) -> None:
    """Append a record behind trustsvc's back: with a made-up hash, or with the right one (the algorithm is public)."""
    with engine.begin() as connection:
        last = connection.execute(select(AgreementAuditRow).order_by(AgreementAuditRow.id.desc()).limit(1)).one()
        at = datetime(2026, 12, 1, tzinfo=UTC)
        payload = '{"certificate_sha256":"00","change":"addition"}'
        digest = "f" * 64
        if computed:
            digest = agreement_module._record_hash(
                last.hash, last.id + 1, at, "Mallory", "fr", "approve", last.entry_id, "", payload
            )
        row = dict(
            id=last.id + 1,
            at=at,
            curator="Mallory",
            pilot="fr",
            action="approve",
            entry_id=last.entry_id,
            reason="",
            payload=payload,
            prev_hash=last.hash,
            hash=digest,
        )
        connection.execute(insert(AgreementAuditRow), row)


TAMPERING: dict[str, tuple[Callable[[Engine], None], int | None, int | None, str]] = {
    "edited": (
        lambda e: _sql(e, "UPDATE agreement_audit SET reason = 'nothing to see' WHERE id = 2"),
        2,
        None,
        "audit trail broken at row 2: its content does not match its hash (the row was edited or forged)",
    ),
    "edited-payload": (
        lambda e: _sql(
            e, "UPDATE agreement_audit SET payload = replace(payload, '\"approvals\"\\:5', '\"approvals\"\\:4')"
        ),
        5,
        None,
        "audit trail broken at row 5: its content does not match its hash (the row was edited or forged)",
    ),
    "deleted": (
        lambda e: _sql(e, "DELETE FROM agreement_audit WHERE id = 3"),
        3,
        None,
        "audit trail broken at row 3: missing: the trail jumps from row 2 to row 4 (rows were deleted)",
    ),
    "deleted-and-renumbered": (
        lambda e: _sql(
            e,
            "DELETE FROM agreement_audit WHERE id = 3",
            *(f"UPDATE agreement_audit SET id = {n - 1} WHERE id = {n}" for n in (4, 5, 6)),
            "UPDATE agreement_audit_head SET seq = 5",
        ),
        3,
        None,
        "audit trail broken at row 3: its link does not match the row before it (a row was removed, replaced or "
        "inserted)",
    ),
    "deleted-last": (
        lambda e: _sql(e, "DELETE FROM agreement_audit WHERE id = (SELECT max(id) FROM agreement_audit)"),
        6,
        None,
        "audit trail broken at row 6: missing: the trail ends at row 5, the audit head at row 6 (rows were deleted)",
    ),
    "forged": (
        lambda e: _forge(e, computed=False),
        7,
        None,
        "audit trail broken at row 7: its content does not match its hash (the row was edited or forged)",
    ),
    "forged-with-a-valid-hash": (
        lambda e: _forge(e, computed=True),
        7,
        None,
        "audit trail broken at row 7: not appended by trustsvc: the audit head ends at row 6 (the row was forged)",
    ),
    "entry-quality-raised": (
        lambda e: _sql(e, "UPDATE agreement_entry SET quality_level = 5"),
        None,
        1,
        "audit trail does not explain entry 1: its assessment (name, country, quality level, validity, "
        "justification or source) is not what the trail records",
    ),
    "entry-withdrawn-without-a-record": (
        lambda e: _sql(e, "UPDATE agreement_entry SET status = 'withdrawn' WHERE id = 1"),
        None,
        1,
        "audit trail does not explain entry 1: its status is not what the trail records",
    ),
    "approval-slipped-in": (
        lambda e: _sql(
            e, "UPDATE agreement_approval SET curator = 'Mallory' WHERE pilot = 'it' AND change = 'addition'"
        ),
        None,
        1,
        "audit trail does not explain entry 1: its approvals are not the ones the trail records",
    ),
}


def _sql(engine: Engine, *statements: str) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


@pytest.mark.parametrize("how", list(TAMPERING))
def test_tampering_with_the_tables_is_caught(agreement: Agreement, db_engine: Engine, how: str) -> None:
    enact(agreement, draft(), T0)
    assert agreement.verify_audit().ok
    tamper, broken_id, entry_id, message = TAMPERING[how]
    tamper(db_engine)
    check = agreement.verify_audit()
    assert not check.ok
    assert (check.broken_id, check.entry_id, check.message) == (broken_id, entry_id, message)


# -- concurrency ----------------------------------------------------------------------------------------------------


def race(db_url: str, calls: list[Callable[[Agreement], Any]]) -> list[Any]:
    """Run each call in its own thread with its own engine, released together; results or exceptions, in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        engine = make_engine(db_url)
        try:
            agreement = Agreement(engine)
            agreement.entries()  # connect before the start, so the race is about the change itself
            barrier.wait()
            results[index] = calls[index](agreement)
        except Exception as e:  # noqa: BLE001 - the test looks at what each thread got
            results[index] = e
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def test_five_pilots_approving_at_the_same_moment(agreement: Agreement, db_url: str, db_engine: Engine) -> None:
    for country in ("fr", "it", "cz"):
        entry = agreement.propose(draft(country), curator="Camille", pilot="fr", reason="r", now=T0)
        calls = [
            lambda a, pilot=pilot, entry_id=entry.id: a.approve(entry_id, curator=f"c-{pilot}", pilot=pilot)
            for pilot in PILOTS
        ]
        results = race(db_url, calls)
        # fr approved by proposing: refused, as already approved, or as nothing pending if it came last
        (refused,) = [r for r in results if isinstance(r, AgreementError)]
        assert results[PILOTS.index("fr")] is refused
        assert refused.code in ("already-approved", "nothing-pending")
        approved = [r for r in results if isinstance(r, Entry)]
        assert len(approved) == 4, results
        assert sorted(len(r.approvals) for r in approved) == [2, 3, 4, 5]  # each saw the ones before it
        assert [r.status for r in approved].count("in_force") == 1
        final = agreement.entry(entry.id)
        assert final.status == "in_force" and set(final.approvals) == set(PILOTS)
        with db_engine.connect() as connection:
            rows = connection.execute(
                select(AgreementApprovalRow.pilot).where(AgreementApprovalRow.entry_id == entry.id)
            ).scalars()
            assert sorted(rows) == sorted(PILOTS)
    actions = Counter(r.action for r in agreement.audit_trail())
    assert actions == {"propose": 3, "approve": 12, "in_force": 3}
    assert agreement.verify_audit().ok


def test_the_same_ca_proposed_at_the_same_moment_is_one_entry(agreement: Agreement, db_url: str) -> None:
    calls = [
        lambda a, pilot=pilot: a.propose(draft(), curator=f"c-{pilot}", pilot=pilot, reason="r") for pilot in PILOTS
    ]
    results = race(db_url, calls)
    assert sum(isinstance(r, Entry) for r in results) == 1, results
    assert [r.code for r in results if isinstance(r, AgreementError)] == ["already-in-agreement"] * 4
    assert len(agreement.entries()) == 1 and agreement.verify_audit() == agreement_module.AuditCheck(True, 1)


def test_concurrent_changes_to_many_entries_keep_one_chain(agreement: Agreement, db_url: str) -> None:
    entries = [
        agreement.propose(draft(country), curator="Camille", pilot="fr", reason="r", now=T0)
        for country in ("fr", "it", "cz", "se", "es")
    ]
    calls = [
        lambda a, pilot=pilot, entry_id=entry.id: a.approve(entry_id, curator=f"c-{pilot}", pilot=pilot)
        for entry in entries
        for pilot in OTHERS
    ]
    results = race(db_url, calls)
    assert all(isinstance(r, Entry) for r in results), results
    assert all(e.status == "in_force" for e in agreement.entries())
    check = agreement.verify_audit()
    assert check.ok and check.rows == 5 + 20 + 5


# -- the signed list ------------------------------------------------------------------------------------------------


@pytest.fixture
def history(sqlite_agreement: Agreement) -> Agreement:
    """se in force; it in force then withdrawn; cz in force, its withdrawal later; es proposed only."""
    enact(sqlite_agreement, draft("se"), T0)
    it = enact(sqlite_agreement, draft("it", quality_level=5, valid_to=datetime(2030, 1, 1, tzinfo=UTC)), T0)
    withdraw_all(sqlite_agreement, it.id, T0 + timedelta(days=5))
    cz = enact(sqlite_agreement, draft("cz"), T0 + timedelta(days=1))
    withdraw_all(sqlite_agreement, cz.id, T0 + timedelta(days=40))
    sqlite_agreement.propose(draft("es"), curator="Camille", pilot="fr", reason="r", now=T0)
    return sqlite_agreement


AT = T0 + timedelta(days=20)


def test_the_exported_list_verifies_with_trustsvc_and_says_what_was_in_force(history: Agreement, operator) -> None:
    key, cert = operator
    data = export_list(history, key, cert, at=AT)
    verification, element = verify_list_signature(data, [cert])
    assert verification.verified, verification
    assert element is not None
    tl = parse_trusted_list_element(element)
    assert (tl.territory, tl.tsl_type, tl.issued, tl.version) == ("EU", AGREEMENT_TSL_TYPE, AT, 6)
    assert tl.sequence == 4  # three came in force, one was withdrawn by then
    assert tl.operator_name == "trustsvc demo operator (test)"
    services = {provider.name: service for provider, service in tl.services()}
    assert set(services) == {"SE Test Non-Qualified CA", "IT Test Non-Qualified CA", "CZ Test Non-Qualified CA"}
    se, it, cz = (services[f"{c} Test Non-Qualified CA"] for c in ("SE", "IT", "CZ"))
    by_country = {e.draft.country: e for e in history.entries()}
    assert se.current.type == CA_PKC and se.current.identity.certificates == (ca_der("se"),)
    assert (se.current.status, se.current.start, se.history) == (
        ServiceStatus.GRANTED,
        by_country["SE"].effective_from,
        (),
    )
    assert (it.current.status, it.current.start) == (ServiceStatus.WITHDRAWN, by_country["IT"].effective_to)
    assert [(s.status, s.start) for s in it.history] == [(ServiceStatus.GRANTED, by_country["IT"].effective_from)]
    assert cz.current.status is ServiceStatus.GRANTED  # its withdrawal came after AT
    assert export_list(history, key, cert, at=AT) == data  # the same state, the same bytes

    refused, _ = verify_list_signature(data, [_der("fr")])
    assert refused.code == "signer-not-announced"
    tampered = data.replace(b"<agr:QualityLevel>4<", b"<agr:QualityLevel>5<", 1)
    assert tampered != data
    assert verify_list_signature(tampered, [cert])[0].code == "broken-signature"


def test_pyhanko_verifies_and_parses_the_exported_list(history: Agreement, operator) -> None:
    key, cert = operator
    data = export_list(history, key, cert, at=AT)
    tlso = asn1_x509.Certificate.load(cert)
    registry, errors = eutl_parse.trust_list_to_registry(data.decode(), tlso_certs=[tlso])  # checks the signature
    assert errors == []
    # CA/PKC: pyHanko's qualification registry rightly takes none of the agreement's CAs as qualified
    assert list(registry.known_certificate_authorities) == []

    # the list fits the TS 119 612 schema bindings (strictly: the extension sits where the XSD allows one); the
    # signature is left out here, as the bindings' XAdES part predates SigningCertificateV2
    unsigned = etree.fromstring(data)
    unsigned.remove(unsigned.find("{http://www.w3.org/2000/09/xmldsig#}Signature"))
    strict = XmlParser(config=ParserConfig(fail_on_unknown_properties=True, fail_on_unknown_attributes=True))
    strict.from_bytes(etree.tostring(unsigned), ts_119612.TrustServiceStatusList)
    # and pyHanko's TL parsing (its parser settings) finds the CA certificates in the signed list
    lenient = XmlParser(config=ParserConfig(load_dtd=False, process_xinclude=False, fail_on_unknown_properties=False))
    parsed = lenient.from_bytes(data, ts_119612.TrustServiceStatusList)
    found: dict[str, list[bytes]] = {}
    for tsp in parsed.trust_service_provider_list.trust_service_provider:
        for service in tsp.tspservices.tspservice:
            info = service.service_information
            assert info.service_type_identifier.value == "http://uri.etsi.org/TrstSvc/Svctype/CA/PKC"
            (digital_id,) = info.service_digital_identity.digital_id
            status = info.service_status.value.rsplit("/", 1)[-1]
            found.setdefault(status, []).append(digital_id.x509_certificate)
    assert found == {"granted": [ca_der("se"), ca_der("cz")], "withdrawn": [ca_der("it")]}

    with pytest.raises(SignatureValidationError):
        eutl_parse.trust_list_to_registry(data.decode(), tlso_certs=[asn1_x509.Certificate.load(_der("fr"))])


def _der(country: str) -> bytes:
    pem = (PEM / f"ms-{country}" / "root.pem").read_bytes()
    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


def test_import_round_trips_into_another_database(history: Agreement, agreement: Agreement, operator) -> None:
    key, cert = operator
    data = export_list(history, key, cert, at=AT)
    imported = import_list(agreement, data, [cert], curator="Importer", now=AT + timedelta(hours=1))
    assert len(imported) == 3
    moments = [T0, T0 + timedelta(minutes=4), T0 + timedelta(days=1, minutes=4), T0 + timedelta(days=6), AT]
    for moment in moments:
        expected = [(e.certificate_sha256, e.draft, e.effective_from) for e in history.in_force(moment)]
        got = [(e.certificate_sha256, e.draft, e.effective_from) for e in agreement.in_force(moment)]
        assert sorted(got, key=str) == sorted(expected, key=str), moment
    states = {e.draft.country: (e.status, e.effective_to, set(e.approvals)) for e in agreement.entries()}
    source = {e.draft.country: e for e in history.entries()}
    assert states == {
        "SE": ("in_force", None, set(PILOTS)),
        "IT": ("withdrawn", source["IT"].effective_to, set(PILOTS)),
        "CZ": ("in_force", None, set(PILOTS)),  # withdrawn at the source after the list was issued
    }
    trail = agreement.audit_trail()
    assert [r.action for r in trail] == ["import"] * 3
    assert trail[0].curator == "Importer" and trail[0].data["list"]["sequence"] == 4
    assert agreement.verify_audit().ok

    assert import_list(agreement, data, [cert], curator="Importer", now=AT + timedelta(hours=2)) == []  # no change
    assert len(agreement.audit_trail()) == 3

    later = export_list(history, key, cert, at=T0 + timedelta(days=60))  # cz's withdrawal is in this one
    changed = import_list(agreement, later, [cert], curator="Importer", now=T0 + timedelta(days=60))
    assert [(e.draft.country, e.status, e.effective_to) for e in changed] == [
        ("CZ", "withdrawn", source["CZ"].effective_to)
    ]
    assert [e.draft.country for e in agreement.in_force(T0 + timedelta(days=60))] == ["SE"]
    assert agreement.verify_audit().ok


def test_a_list_that_is_not_authentic_is_refused(history: Agreement, operator, tmp_path: Path) -> None:
    key, cert = operator
    data = export_list(history, key, cert, at=AT)
    target = Agreement(make_engine(f"sqlite:///{tmp_path / 'target.db'}"))
    migrate(target.engine)
    with pytest.raises(AgreementError) as wrong_signer:
        import_list(target, data, [_der("fr")], curator="Importer", now=AT)
    assert wrong_signer.value.code == "list-not-authentic"
    assert wrong_signer.value.message.startswith(
        "the list's signature does not verify against the given signers (signer-not-announced: signed by "
        "CN=trustsvc Demo Report Signer (test)"
    )
    tampered = data.replace(b"<agr:QualityLevel>4<", b"<agr:QualityLevel>5<", 1)
    with pytest.raises(AgreementError, match=r"\(broken-signature: ") as broken:
        import_list(target, tampered, [cert], curator="Importer", now=AT)
    assert broken.value.code == "list-not-authentic"
    with pytest.raises(AgreementError, match="no-signature"):
        import_list(target, data.split(b"<ds:Signature")[0] + b"</TrustServiceStatusList>", [cert], curator="I")
    assert target.entries() == [] and target.audit_trail() == []

    national = TrustedList(6, 1, "EUgeneric", "FR", "FR operator", AT, AT + timedelta(days=30))
    with pytest.raises(AgreementError) as not_ours:
        import_list(target, signed_list_bytes(national, key, cert, AT), [cert], curator="I", now=AT)
    assert (not_ours.value.code, not_ours.value.message) == (
        "not-an-agreement-list",
        "the list is of type EUgeneric, not an agreement list",
    )
    target.engine.dispose()


def test_an_import_that_conflicts_imports_nothing(history: Agreement, agreement: Agreement, operator) -> None:
    key, cert = operator
    data = export_list(history, key, cert, at=AT)
    agreement.propose(draft("cz"), curator="Camille", pilot="fr", reason="r", now=T0)
    with pytest.raises(AgreementError) as conflict:
        import_list(agreement, data, [cert], curator="Importer", now=AT)
    assert conflict.value.code == "already-in-agreement"
    assert conflict.value.message == (
        "entry 3 of the list is already in the agreement as entry 1 (proposed) with other details"
    )
    assert [e.draft.country for e in agreement.entries()] == ["CZ"]
    assert len(agreement.audit_trail()) == 1


# -- the command line --------------------------------------------------------------------------------------------------


def cli(database: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "TRUSTSVC_TRUST_SOURCE"}
    environment |= {"TRUSTSVC_DATABASE_URL": f"sqlite:///{database}", **env}
    return subprocess.run([TRUSTSVC, "agreement", *args], env=environment, capture_output=True, text=True, timeout=120)


def propose_args(cert: Path, pilot: str = "fr", curator: str = "Camille") -> list[str]:
    return [
        "propose",
        str(cert),
        "--name",
        "SE Test Non-Qualified CA",
        "--country",
        "se",
        "--quality",
        "4",
        "--justification",
        "Supervised CA, policy assessed",
        "--valid-from",
        "2026-01-01",
        "--source",
        "https://procure.example.org/assessments/se-2026.pdf",
        "--curator",
        curator,
        "--pilot",
        pilot,
    ]


def test_cli_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    key = cli(db, *propose_args(ROOT / "fixtures/certs/keys/fr-ca.key.pem"))
    assert (key.returncode, key.stdout, key.stderr) == (2, "", f"trustsvc: {PRIVATE_KEY}\n")
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(b"0\x82\x01\x00" + bytes(range(256)))
    junk = cli(db, *propose_args(garbage))
    assert (junk.returncode, junk.stderr) == (2, f"trustsvc: {NOT_A_CERTIFICATE}\n")
    end_entity = cli(db, *propose_args(PEM / "ms-fr" / "signer-nq.pem"))
    assert end_entity.stderr == 'trustsvc: "Léa Petit" is not a CA certificate (no basicConstraints cA=true)\n'
    unknown = cli(db, *propose_args(PEM / "ms-se" / "ca.pem", pilot="de"))
    assert unknown.stderr == "trustsvc: unknown pilot 'de': the pilots are fr, it, cz, se, es\n"
    bad_date = cli(db, *propose_args(PEM / "ms-se" / "ca.pem"), "--valid-to", "next year")
    assert (
        bad_date.stderr
        == "trustsvc: Invalid value for '--valid-to': 'next year' is not an ISO 8601 date or date and time\n"
    )

    made = cli(db, *propose_args(PEM / "ms-se" / "ca.pem"))
    assert (made.returncode, made.stderr) == (0, "")
    assert made.stdout == "entry 1 proposed: SE Test Non-Qualified CA (SE), approvals 1/5; waiting for it, cz, se, es\n"
    again = cli(db, *propose_args(PEM / "ms-se" / "ca.pem", pilot="it", curator="Giulia"))
    assert (again.returncode, again.stderr) == (
        2,
        "trustsvc: this CA is already in the agreement as entry 1 (proposed)\n",
    )
    twice = cli(db, "approve", "1", "--curator", "Camille", "--pilot", "fr")
    assert (twice.returncode, twice.stderr) == (
        2,
        "trustsvc: fr already approved the addition of entry 1 (Camille); a pilot approves once\n",
    )
    missing = cli(db, "approve", "9", "--curator", "Camille", "--pilot", "fr")
    assert (missing.returncode, missing.stderr) == (2, "trustsvc: no agreement entry 9\n")
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT count(*) FROM agreement_audit").fetchone() == (1,)


def test_cli_curates_publishes_and_checks(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    assert cli(db, *propose_args(PEM / "ms-se" / "ca.pem")).returncode == 0
    # four curators approve at the same moment, from four processes
    env = {**os.environ, "TRUSTSVC_DATABASE_URL": f"sqlite:///{db}"}
    processes = [
        subprocess.Popen(
            [TRUSTSVC, "agreement", "approve", "1", "--curator", f"c-{p}", "--pilot", p],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in OTHERS
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0] * 4, outputs
    assert sum("in force from" in out for out, _err in outputs) == 1
    listed = cli(db, "list").stdout.splitlines()
    assert listed[0].split() == ["ID", "STATUS", "COUNTRY", "NAME", "APPROVALS", "EFFECTIVE"]
    assert listed[1].split()[:7] == ["1", "in_force", "SE", "SE", "Test", "Non-Qualified", "CA"]
    assert " 5/5 " in listed[1] and listed[1].endswith("Z ->")
    assert cli(db, "list", "--at", "2020-01-01").stdout.splitlines()[1:] == []

    exported = tmp_path / "agreement.xml"
    out = cli(db, "export", str(exported))
    assert (out.returncode, out.stderr) == (0, ""), out
    assert out.stdout.startswith(f"wrote {exported}: 1 entries, sequence 1, as of ")
    operator = x509.load_pem_x509_certificate(OPERATOR_CERT.read_bytes()).public_bytes(serialization.Encoding.DER)
    assert verify_list_signature(exported.read_bytes(), [operator])[0].verified

    other = tmp_path / "other.db"
    wrong = cli(other, "import", str(exported), "--signer", str(PEM / "ms-fr" / "root.pem"), "--curator", "Importer")
    assert wrong.returncode == 2 and wrong.stderr.startswith(
        "trustsvc: the list's signature does not verify against the given signers (signer-not-announced"
    )
    imported = cli(other, "import", str(exported), "--signer", str(OPERATOR_CERT), "--curator", "Importer")
    assert (imported.returncode, imported.stdout.splitlines()[0]) == (0, f"imported 1 entries from {exported}")
    assert cli(other, "list").stdout.splitlines()[1].split()[:3] == ["1", "in_force", "SE"]

    proposed = cli(db, "withdraw", "1", "--curator", "Camille", "--pilot", "fr", "--reason", "CA ceased")
    assert proposed.stdout == "entry 1 withdrawal proposed by fr, approvals 1/5; waiting for it, cz, se, es\n"
    seconded = cli(db, "withdraw", "1", "--curator", "Giulia", "--pilot", "it", "--reason", "agreed")
    assert seconded.stdout == "entry 1 withdrawal approved by it, approvals 2/5; waiting for cz, se, es\n"

    intact = cli(db, "verify-audit")
    assert (intact.returncode, intact.stdout) == (0, "audit trail intact: 8 rows\n")
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE agreement_audit SET curator = 'Mallory' WHERE id = 3")
    broken = cli(db, "verify-audit")
    assert (broken.returncode, broken.stdout) == (
        1,
        "audit trail broken at row 3: its content does not match its hash (the row was edited or forged)\n",
    )


def test_cli_export_needs_a_key_outside_the_demo(tmp_path: Path) -> None:
    refused = cli(tmp_path / "cli.db", "export", str(tmp_path / "a.xml"), TRUSTSVC_TRUST_SOURCE="eu")
    assert (refused.returncode, refused.stderr) == (
        2,
        "trustsvc: no key to sign the agreement list: give --key and --cert, or set TRUSTSVC_REPORT_KEY and "
        "TRUSTSVC_REPORT_CERT\n",
    )
    half = cli(tmp_path / "cli.db", "export", str(tmp_path / "a.xml"), "--key", str(OPERATOR_KEY))
    assert (half.returncode, half.stderr) == (2, "trustsvc: give both --key and --cert, or neither\n")
    given = cli(
        tmp_path / "cli.db", "export", str(tmp_path / "a.xml"), "--key", str(OPERATOR_KEY), "--cert", str(OPERATOR_CERT)
    )
    assert given.returncode == 0 and given.stdout.startswith(f"wrote {tmp_path / 'a.xml'}: 0 entries, sequence 1")


def test_a_withdrawal_in_the_second_an_entry_came_in_force_is_refused(sqlite_agreement: Agreement) -> None:
    start = datetime(2026, 11, 20, 10, 0, 0, 250000, tzinfo=UTC)
    entry = enact(sqlite_agreement, draft(), start)
    assert entry.effective_from == datetime(2026, 11, 20, 10, 4, 1, tzinfo=UTC)  # rounded up to the whole second
    with pytest.raises(AgreementError) as caught:
        sqlite_agreement.propose_withdrawal(
            entry.id,
            curator="Camille",
            pilot="fr",
            reason="too soon",
            now=datetime(2026, 11, 20, 10, 4, 0, 900000, tzinfo=UTC),
        )
    assert caught.value.code == "withdrawal-too-soon"
    assert caught.value.message == (
        f"entry {entry.id} came in force at 2026-11-20T10:04:01.000000Z; a withdrawal must come after that second "
        "(try again in a moment)"
    )
