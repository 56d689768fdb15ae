"""The trust store's rules on SQLite and PostgreSQL: what is accepted, refused or unchanged, and what readers see.

Lists are built directly from the model's dataclasses, with real (freshly generated) certificates as identities;
one test also stores a real national list through the XML parser.
"""

from __future__ import annotations

import hashlib
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from functools import lru_cache

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from trustsvc.db.tables import ListVersionRow
from trustsvc.trust import store as store_module
from trustsvc.trust.store import (
    LOWER_SEQUENCE,
    SAME_SEQUENCE_DIFFERENT_CONTENT,
    UNPARSEABLE,
    NotStoredError,
    RecordOutcome,
    RecordStatus,
    TrustStore,
    VersionStatus,
    certificate_keys,
    subject_key,
)
from trustsvc.trust.tsl_model import (
    CA_QC,
    TSA_QTST,
    DigitalIdentity,
    ListVerification,
    ServiceState,
    ServiceStatus,
    TrustedList,
    TrustService,
    TrustServiceProvider,
)

pytest_plugins = ["conftest_db"]

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
RECEIVED = datetime(2026, 8, 3, 12, 0, tzinfo=timezone.utc)
OK = ListVerification(verified=True)
BAD = ListVerification(verified=False, code="broken-signature", reason="the digest of reference #1 does not match")
GRANTED = ServiceStatus.GRANTED
WITHDRAWN = ServiceStatus.WITHDRAWN


@lru_cache
def cert(common_name: str, organisation: str = "Test TSP", country: str = "FR") -> bytes:
    """A self-signed certificate (DER) for a listed service; cached, the same name gives the same certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    built = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(T0)
        .not_valid_after(T0 + timedelta(days=3650))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return built.public_bytes(serialization.Encoding.DER)


def service(
    name: str,
    *,
    status: ServiceStatus = GRANTED,
    start: datetime = T0,
    history: tuple[tuple[ServiceStatus, datetime], ...] = (),
    type_: str = CA_QC,
    identity: DigitalIdentity | None = None,
) -> TrustService:
    identity = identity or DigitalIdentity(certificates=(cert(name),))
    current = ServiceState(type=type_, name=name, status=status, start=start, identity=identity)
    return TrustService(
        current, tuple(ServiceState(type=type_, name=name, status=s, start=t, identity=identity) for s, t in history)
    )


def tl(
    territory: str = "FR",
    sequence: int = 10,
    services: tuple[TrustService, ...] = (),
    *,
    next_update: datetime | None = datetime(2027, 1, 1, tzinfo=timezone.utc),
    lotl: bool = False,
) -> TrustedList:
    return TrustedList(
        version=5,
        sequence=sequence,
        tsl_type="EUlistofthelists" if lotl else "EUgeneric",
        territory=territory,
        operator_name=f"{territory} supervisory body",
        issued=datetime(2026, 7, 1, tzinfo=timezone.utc),
        next_update=next_update,
        providers=(TrustServiceProvider("Test TSP", (), services),) if services else (),
    )


def xml(territory: str, sequence: int, variant: str = "") -> bytes:
    """Stand-in bytes for a list (the store never parses them)."""
    return f'<?xml version="1.0"?><TrustServiceStatusList t="{territory}" s="{sequence}" v="{variant}"/>\n'.encode()


@pytest.fixture
def store(db_engine: Engine) -> TrustStore:
    return TrustStore(db_engine)


def count_versions(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(ListVersionRow)) or 0


# -- the rules ---------------------------------------------------------------------------------------------------


def test_a_verified_list_is_accepted_and_becomes_current(store: TrustStore) -> None:
    signer = cert("FR signer")
    verification = ListVerification(verified=True, signer_certificate=signer, signing_time=RECEIVED)
    parsed = tl("FR", 10, (service("CA one"),))
    outcome = store.record(xml("FR", 10), parsed, verification, "https://x/fr.xml", RECEIVED)
    assert outcome.status is RecordStatus.ACCEPTED and outcome.accepted
    (current,) = store.current_versions(RECEIVED)
    info = current.version
    assert info.id == outcome.version_id
    assert (info.territory, info.sequence, info.tsl_type) == ("FR", 10, "EUgeneric")
    assert info.status is VersionStatus.ACCEPTED
    assert info.sha256 == hashlib.sha256(xml("FR", 10)).hexdigest()
    assert info.signer_sha256 == hashlib.sha256(signer).hexdigest()
    assert "FR signer" in (info.signer_subject or "")
    assert info.signing_time == RECEIVED and info.received_at == RECEIVED
    assert info.source == "https://x/fr.xml"
    assert info.label == "TL FR #10"
    assert not current.stale
    (svc,) = store.services(outcome.version_id)
    assert (svc.territory, svc.provider, svc.name, svc.type, svc.status) == ("FR", "Test TSP", "CA one", CA_QC, GRANTED)


def test_an_unverified_list_is_refused_and_the_previous_one_stays_current(store: TrustStore) -> None:
    first = store.record(xml("FR", 10), tl("FR", 10), OK, "fr.xml", RECEIVED)
    refused = store.record(xml("FR", 11), tl("FR", 11), BAD, "fr.xml", RECEIVED + timedelta(hours=1))
    assert refused.status is RecordStatus.REFUSED
    assert (refused.code, refused.reason) == ("broken-signature", BAD.reason)
    (current,) = store.current_versions(RECEIVED)
    assert current.version.id == first.version_id
    newest = store.history("FR")[0]
    assert newest.id == refused.version_id
    assert (newest.status, newest.verified, newest.verification_code) == (VersionStatus.REFUSED, False, BAD.code)
    assert (newest.refusal_code, newest.refusal_reason) == (BAD.code, BAD.reason)
    assert store.services(refused.version_id) == ()


def test_a_lower_sequence_never_replaces_the_current_one(store: TrustStore) -> None:
    current = store.record(xml("FR", 10), tl("FR", 10), OK, "fr.xml", RECEIVED)
    lower = store.record(xml("FR", 9), tl("FR", 9), OK, "mirror/fr.xml", RECEIVED)
    assert (lower.status, lower.code) == (RecordStatus.REFUSED, LOWER_SEQUENCE)
    assert "9" in (lower.reason or "") and "10" in (lower.reason or "")
    assert [c.version.id for c in store.current_versions(RECEIVED)] == [current.version_id]


def test_the_same_list_again_changes_nothing(store: TrustStore, db_engine: Engine) -> None:
    first = store.record(xml("FR", 10), tl("FR", 10), OK, "fr.xml", RECEIVED)
    again = store.record(xml("FR", 10), tl("FR", 10), OK, "fr.xml", RECEIVED + timedelta(days=1))
    assert (again.status, again.version_id) == (RecordStatus.UNCHANGED, first.version_id)
    assert count_versions(db_engine) == 1


def test_the_same_sequence_with_other_content_is_refused(store: TrustStore) -> None:
    first = store.record(xml("FR", 10), tl("FR", 10), OK, "fr.xml", RECEIVED)
    other = store.record(xml("FR", 10, "edited"), tl("FR", 10), OK, "fr.xml", RECEIVED)
    assert (other.status, other.code) == (RecordStatus.REFUSED, SAME_SEQUENCE_DIFFERENT_CONTENT)
    assert [c.version.id for c in store.current_versions(RECEIVED)] == [first.version_id]


def test_a_higher_sequence_replaces_the_current_one(store: TrustStore) -> None:
    store.record(xml("FR", 10), tl("FR", 10), OK, "fr.xml", RECEIVED)
    newer = store.record(xml("FR", 12), tl("FR", 12), OK, "fr.xml", RECEIVED + timedelta(days=1))
    assert newer.accepted
    assert [c.version.sequence for c in store.current_versions(RECEIVED)] == [12]


def test_the_same_refusal_is_recorded_once(store: TrustStore, db_engine: Engine) -> None:
    first = store.record(xml("FR", 11), tl("FR", 11), BAD, "fr.xml", RECEIVED)
    again = store.record(xml("FR", 11), tl("FR", 11), BAD, "fr.xml", RECEIVED + timedelta(days=1))
    assert (again.status, again.version_id, again.code) == (RecordStatus.UNCHANGED, first.version_id, BAD.code)
    assert count_versions(db_engine) == 1
    # ... but refused bytes that later verify (the LOTL now announces their signer) are accepted.
    assert store.record(xml("FR", 11), tl("FR", 11), OK, "fr.xml", RECEIVED + timedelta(days=2)).accepted


def test_unreadable_bytes_are_refused_in_the_territory_they_were_fetched_for(store: TrustStore) -> None:
    unparseable = ListVerification(verified=False, code="unparseable", reason="not well-formed (line 1)")
    outcome = store.record(b"<not xml", None, unparseable, "https://x/cz.xml", RECEIVED, territory="CZ")
    assert (outcome.status, outcome.code) == (RecordStatus.REFUSED, "unparseable")
    (row,) = store.history("CZ")
    assert (row.sequence, row.issued, row.tsl_type, row.is_lotl, row.label) == (None, None, None, False, "TL CZ #?")
    assert store.load(outcome.version_id) == b"<not xml"
    # A verification that passed on bytes that then could not be parsed is still a refusal.
    odd = store.record(b"<odd/>", None, OK, "https://x/cz.xml", RECEIVED, territory="CZ")
    assert (odd.status, odd.code) == (RecordStatus.REFUSED, UNPARSEABLE)
    assert store.current_versions(RECEIVED) == ()


def test_a_list_past_next_update_is_accepted_and_reported_stale(store: TrustStore) -> None:
    next_update = datetime(2026, 9, 1, tzinfo=timezone.utc)
    outcome = store.record(xml("SE", 5), tl("SE", 5, next_update=next_update), OK, "se.xml", RECEIVED)
    assert outcome.accepted
    (before,) = store.current_versions(next_update - timedelta(seconds=1))
    (after,) = store.current_versions(next_update + timedelta(seconds=1))
    assert (before.stale, after.stale) == (False, True)
    assert before.version.next_update == next_update and before.version.next_update.tzinfo is not None
    closed = store.record(xml("IT", 5), tl("IT", 5, next_update=None), OK, "it.xml", RECEIVED)
    assert not store.version(closed.version_id).is_stale(datetime(2099, 1, 1, tzinfo=timezone.utc))


def test_current_versions_hold_the_lotl_and_one_version_per_territory(store: TrustStore) -> None:
    lotl = store.record(xml("EU", 390), tl("EU", 390, lotl=True), OK, "lotl.xml", RECEIVED)
    for territory, sequences in {"SE": (3, 4), "FR": (10,), "CZ": (7, 8, 9)}.items():
        for sequence in sequences:
            store.record(xml(territory, sequence), tl(territory, sequence), OK, "x.xml", RECEIVED, lotl.version_id)
    current = store.current_versions(RECEIVED)
    assert [(c.version.label, c.version.lotl_version_id) for c in current] == [
        ("LOTL EU #390", None),
        ("TL CZ #9", lotl.version_id),
        ("TL FR #10", lotl.version_id),
        ("TL SE #4", lotl.version_id),
    ]


def test_history_is_every_version_newest_first(store: TrustStore) -> None:
    a = store.record(xml("FR", 10), tl("FR", 10), OK, "fr.xml", RECEIVED)
    b = store.record(xml("FR", 11), tl("FR", 11), BAD, "fr.xml", RECEIVED + timedelta(hours=1))
    c = store.record(xml("FR", 9), tl("FR", 9), OK, "fr.xml", RECEIVED + timedelta(hours=2))
    d = store.record(xml("FR", 12), tl("FR", 12), OK, "fr.xml", RECEIVED + timedelta(hours=3))
    store.record(xml("SE", 1), tl("SE", 1), OK, "se.xml", RECEIVED)
    history = store.history("FR")
    assert [v.id for v in history] == [d.version_id, c.version_id, b.version_id, a.version_id]
    assert [v.status for v in history] == ["accepted", "refused", "refused", "accepted"]
    assert store.history("DE") == ()


def test_stored_bytes_are_exactly_the_bytes_received(store: TrustStore) -> None:
    """BOM, CRLF, trailing blanks, bytes that are not UTF-8, NUL: all kept (the signature covers the bytes)."""
    raw = b"\xef\xbb\xbf<?xml version='1.0'?>\r\n<TSL>\x00\xff\xfe caf\xc3\xa9 \t</TSL>\r\n\r\n  " + bytes(range(256))
    outcome = store.record(raw, tl("FR", 10), OK, "fr.xml", RECEIVED)
    loaded = store.load(outcome.version_id)
    assert type(loaded) is bytes and loaded == raw
    assert hashlib.sha256(loaded).hexdigest() == store.version(outcome.version_id).sha256
    assert store.version(outcome.version_id).size == len(raw)
    with pytest.raises(NotStoredError):
        store.load(outcome.version_id + 1000)


def test_moments_must_be_timezone_aware(store: TrustStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store.record(xml("FR", 10), tl("FR", 10), OK, "fr.xml", datetime(2026, 8, 3))
    with pytest.raises(ValueError, match="timezone-aware"):
        store.current_versions(datetime(2026, 8, 3))


def test_the_lotl_version_must_be_stored(store: TrustStore, db_engine: Engine) -> None:
    with pytest.raises(ValueError, match="LOTL version 4242"):
        store.record(xml("FR", 10), tl("FR", 10), OK, "fr.xml", RECEIVED, lotl_version_id=4242)
    assert count_versions(db_engine) == 0


# -- concurrency -------------------------------------------------------------------------------------------------


def record_together(store: TrustStore, threads: int, raw: bytes, parsed: TrustedList) -> list[RecordOutcome]:
    """Record the same list from several threads released at the same instant, as concurrent refreshes would."""
    barrier = threading.Barrier(threads)

    def refresh() -> RecordOutcome:
        barrier.wait()
        return store.record(raw, parsed, OK, "fr.xml", RECEIVED)

    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(refresh) for _ in range(threads)]
        return [future.result(timeout=60) for future in futures]


def test_concurrent_records_of_the_same_list_store_it_once(store: TrustStore, db_engine: Engine) -> None:
    services = tuple(service(f"CA {i}") for i in range(20))
    for sequence in (10, 11, 12):
        outcomes = record_together(store, 4, xml("FR", sequence), tl("FR", sequence, services))
        statuses = sorted(outcome.status for outcome in outcomes)
        assert statuses == [RecordStatus.ACCEPTED] + [RecordStatus.UNCHANGED] * 3
        assert len({outcome.version_id for outcome in outcomes}) == 1
        assert len(store.services(outcomes[0].version_id)) == 20
    assert count_versions(db_engine) == 3


def test_losing_a_race_reads_the_winner_back_as_unchanged(store: TrustStore, monkeypatch, db_engine: Engine) -> None:
    """The unique index, not the read before the write, is what keeps a list from being stored twice."""
    winner = store.record(xml("FR", 10), tl("FR", 10), OK, "fr.xml", RECEIVED)
    real = store_module._current_row
    calls = []

    def stale_read(session, territory, is_lotl):
        calls.append(territory)
        return None if len(calls) == 1 else real(session, territory, is_lotl)  # the winner not yet visible

    monkeypatch.setattr(store_module, "_current_row", stale_read)
    loser = store.record(xml("FR", 10), tl("FR", 10), OK, "fr.xml", RECEIVED)
    assert (loser.status, loser.version_id) == (RecordStatus.UNCHANGED, winner.version_id)
    calls.clear()
    other = store.record(xml("FR", 10, "other"), tl("FR", 10), OK, "fr.xml", RECEIVED)
    assert (other.status, other.code) == (RecordStatus.REFUSED, SAME_SEQUENCE_DIFFERENT_CONTENT)
    assert count_versions(db_engine) == 2


# -- snapshots ---------------------------------------------------------------------------------------------------


def test_snapshots_fix_a_set_of_accepted_versions(store: TrustStore) -> None:
    assert store.latest_snapshot() is None
    lotl = store.record(xml("EU", 390), tl("EU", 390, lotl=True), OK, "lotl.xml", RECEIVED)
    fr = store.record(xml("FR", 10), tl("FR", 10), OK, "fr.xml", RECEIVED, lotl.version_id)
    se = store.record(xml("SE", 4), tl("SE", 4), OK, "se.xml", RECEIVED, lotl.version_id)
    created = datetime(2026, 8, 3, 12, 5, tzinfo=timezone.utc)
    first = store.create_snapshot([se.version_id, lotl.version_id, fr.version_id], created_at=created)
    fr2 = store.record(xml("FR", 11), tl("FR", 11), OK, "fr.xml", RECEIVED, lotl.version_id)
    second = store.create_snapshot([lotl.version_id, fr2.version_id, se.version_id])
    assert second > first
    latest = store.latest_snapshot()
    assert latest is not None and latest.id == second
    assert latest.version_ids == tuple(sorted((lotl.version_id, fr2.version_id, se.version_id)))
    old = store.snapshot(first)
    assert old.created_at == created
    assert [v.label for v in store.snapshot_versions(first)] == ["LOTL EU #390", "TL FR #10", "TL SE #4"]
    assert [v.label for v in store.snapshot_versions(second)] == ["LOTL EU #390", "TL FR #11", "TL SE #4"]
    with pytest.raises(NotStoredError):
        store.snapshot_versions(second + 100)


def test_a_snapshot_holds_only_accepted_versions_one_per_list(store: TrustStore) -> None:
    fr = store.record(xml("FR", 10), tl("FR", 10), OK, "fr.xml", RECEIVED)
    fr2 = store.record(xml("FR", 11), tl("FR", 11), OK, "fr.xml", RECEIVED)
    refused = store.record(xml("SE", 4), tl("SE", 4), BAD, "se.xml", RECEIVED)
    with pytest.raises(ValueError, match="refused"):
        store.create_snapshot([fr2.version_id, refused.version_id])
    with pytest.raises(ValueError, match="one version per list"):
        store.create_snapshot([fr.version_id, fr2.version_id])
    with pytest.raises(ValueError, match="not stored"):
        store.create_snapshot([fr2.version_id, 9999])
    with pytest.raises(ValueError, match="at least one"):
        store.create_snapshot([])
    assert store.latest_snapshot() is None


# -- services, keys and diffs ------------------------------------------------------------------------------------


def test_services_keep_their_status_history(store: TrustStore) -> None:
    history = ((ServiceStatus.ACCREDITED, datetime(2014, 3, 1, tzinfo=timezone.utc)),)
    migrated = datetime(2016, 6, 30, 22, tzinfo=timezone.utc)
    outcome = store.record(
        xml("FR", 10), tl("FR", 10, (service("CA old", start=migrated, history=history),)), OK, "fr.xml", RECEIVED
    )
    (svc,) = store.services(outcome.version_id)
    assert [(s.status, s.start) for s in svc.statuses] == [(GRANTED, migrated), history[0]]
    assert all(s.start.tzinfo is not None for s in svc.statuses)


def test_certificate_keys_lead_to_the_services_of_current_versions(store: TrustStore) -> None:
    der = cert("Qualified CA 1")
    ski_only = DigitalIdentity(skis=(bytes.fromhex("00112233445566778899aabbccddeeff00112233"),))
    named_only = DigitalIdentity(subject_names=("C=IT, O=Some TSP S.p.A., CN=Some TSA",))
    services = (
        service("Qualified CA 1"),
        service("SKI only", identity=ski_only),
        service("Some TSA", identity=named_only, type_=TSA_QTST),
    )
    old = store.record(xml("IT", 1), tl("IT", 1, services), OK, "it.xml", RECEIVED)
    snapshot = store.create_snapshot([old.version_id])
    new = store.record(xml("IT", 2), tl("IT", 2, services), OK, "it.xml", RECEIVED)

    keys = certificate_keys(der)
    parsed = asn1_x509.Certificate.load(der)
    assert f"cert:{hashlib.sha256(der).hexdigest()}" in keys
    assert f"spki:{hashlib.sha256(parsed.public_key.dump()).hexdigest()}" in keys
    assert f"ski:{parsed.key_identifier.hex()}" in keys
    assert subject_key(parsed.subject) in keys
    for key in keys:
        (found,) = store.services_for_key(key)
        assert (found.name, found.version_id) == ("Qualified CA 1", new.version_id)
        (in_snapshot,) = store.services_for_key(key, snapshot_id=snapshot)
        assert in_snapshot.version_id == old.version_id
    (by_ski,) = store.services_for_key("ski:00112233445566778899aabbccddeeff00112233")
    assert by_ski.name == "SKI only"
    (by_subject,) = store.services_for_key(subject_key("CN=Some TSA,O=Some TSP S.p.A.,C=IT"))
    assert (by_subject.name, by_subject.type) == ("Some TSA", TSA_QTST)
    assert store.services_for_key("cert:" + "0" * 64) == ()
    (by_certificate,) = store.services_for_certificate(der)
    assert by_certificate.version_id == new.version_id
    (by_certificate,) = store.services_for_certificate(der, snapshot_id=snapshot)
    assert by_certificate.version_id == old.version_id
    assert store.services_for_certificate(cert("Not listed")) == ()


def test_subject_keys_ignore_order_case_spacing_and_labels() -> None:
    der = cert("Répertoire  Qualifié", organisation="ACME Trust", country="FR")
    from_cert = subject_key(asn1_x509.Certificate.load(der).subject)
    assert from_cert == subject_key("CN=répertoire qualifié, O=acme trust, C=FR")
    assert from_cert == subject_key("c=FR;o=ACME   Trust;commonName=RÉPERTOIRE QUALIFIÉ")
    assert from_cert == subject_key("OID.2.5.4.6=FR, 2.5.4.10=ACME Trust, CN=R\\C3\\A9pertoire Qualifi\\C3\\A9")
    assert subject_key("CN=Foo\\, Inc., O=Bar") == subject_key('CN="Foo, Inc.", O=Bar')
    assert subject_key("CN=Foo, Inc., O=Bar") == subject_key('CN="Foo, Inc.", O=Bar')  # unescaped comma, real lists
    assert subject_key("CN=Foo") != subject_key("CN=Foo, O=Bar")
    assert subject_key("") == ""


def test_undecodable_listed_certificates_are_indexed_by_their_digest() -> None:
    junk = b"\x30\x03\x02\x01\x01"
    assert certificate_keys(junk) == (f"cert:{hashlib.sha256(junk).hexdigest()}",)


def test_diff_reports_added_removed_and_status_changes(store: TrustStore) -> None:
    withdrawn_at = datetime(2026, 7, 15, tzinfo=timezone.utc)
    old = store.record(
        xml("CZ", 20),
        tl("CZ", 20, (service("A"), service("B"), service("C"))),
        OK,
        "cz.xml",
        RECEIVED,
    )
    new = store.record(
        xml("CZ", 21),
        tl(
            "CZ",
            21,
            (
                service("A"),
                service("B", status=WITHDRAWN, start=withdrawn_at, history=((GRANTED, T0),)),
                service("D"),
            ),
        ),
        OK,
        "cz.xml",
        RECEIVED,
    )
    diff = store.diff(old.version_id, new.version_id)
    assert [s.name for s in diff.added] == ["D"]
    assert [s.name for s in diff.removed] == ["C"]
    (change,) = diff.status_changes
    assert (change.before.name, change.before.status, change.after.status) == ("B", GRANTED, WITHDRAWN)
    assert change.after.start == withdrawn_at
    assert store.diff(new.version_id, new.version_id).status_changes == ()
    reverse = store.diff(new.version_id, old.version_id)
    assert ([s.name for s in reverse.added], [s.name for s in reverse.removed]) == (["C"], ["D"])


def test_diff_needs_two_accepted_versions(store: TrustStore) -> None:
    good = store.record(xml("CZ", 20), tl("CZ", 20), OK, "cz.xml", RECEIVED)
    refused = store.record(xml("CZ", 21), tl("CZ", 21), BAD, "cz.xml", RECEIVED)
    with pytest.raises(ValueError, match="refused"):
        store.diff(good.version_id, refused.version_id)
    with pytest.raises(NotStoredError):
        store.diff(good.version_id, 9999)


# -- a real list -------------------------------------------------------------------------------------------------


def test_a_real_national_list_is_stored_byte_for_byte(store: TrustStore) -> None:
    tsl_parse = pytest.importorskip("trustsvc.trust.tsl_parse", reason="the trusted-list parser is not there yet")
    from conftest import shared_path

    raw = shared_path("trusted-lists", "eu-2026-08", "TSL_FR.xml").read_bytes()
    parsed = tsl_parse.parse_trusted_list(raw)
    outcome = store.record(raw, parsed, OK, "eu-2026-08/TSL_FR.xml", RECEIVED)
    assert outcome.accepted
    assert store.load(outcome.version_id) == raw
    services = store.services(outcome.version_id)
    assert len(services) == sum(1 for _ in parsed.services())
    _provider, first = next(iter(parsed.services()))
    (listed, *_) = first.current.identity.certificates
    assert any(s.name == first.current.name for s in store.services_for_key(certificate_keys(listed)[0]))
    (current,) = store.current_versions(parsed.issued)
    assert (current.version.sequence, current.version.territory) == (parsed.sequence, "FR")


def test_very_long_subject_names_are_keyed_by_digest() -> None:
    long_name = "CN=" + "x" * 2000 + ", O=Somebody"
    key = subject_key(long_name)
    assert key.startswith("subject:sha256:") and len(key) == len("subject:sha256:") + 64
    assert key == subject_key("O=somebody, CN=" + "X" * 2000)


def escape_dn_value(value: str) -> str:
    return re.sub(r'([,;+\\"])', r"\\\1", value)


def test_certificate_keys_agree_with_asn1crypto_on_real_listed_certificates() -> None:
    """The keys are read at the TLV level for speed; they must say what asn1crypto's typed decoding says."""
    tsl_parse = pytest.importorskip("trustsvc.trust.tsl_parse", reason="the trusted-list parser is not there yet")
    from conftest import shared_path

    checked = 0
    for territory in ("FR", "IT", "CZ", "SE", "ES"):
        parsed = tsl_parse.parse_trusted_list(
            shared_path("trusted-lists", "eu-2026-08", f"TSL_{territory}.xml").read_bytes()
        )
        for _provider, listed in parsed.services():
            for der in listed.current.identity.certificates:
                typed = asn1_x509.Certificate.load(der)
                keys = certificate_keys(der)
                assert f"spki:{hashlib.sha256(typed.public_key.dump()).hexdigest()}" in keys
                key_bits = typed.public_key["public_key"].contents[1:]
                assert f"ski:{hashlib.sha1(key_bits).hexdigest()}" in keys
                if typed.key_identifier:
                    assert f"ski:{typed.key_identifier.hex()}" in keys
                try:
                    attributes = [
                        (atv["type"].dotted, atv["value"].native) for rdn in typed.subject.chosen for atv in rdn
                    ]
                except ValueError:
                    continue  # not decodable the typed way (a UTF8String country name, say)
                if not all(isinstance(value, str) for _oid, value in attributes):
                    continue
                as_text = ", ".join(f"{oid}={escape_dn_value(value)}" for oid, value in attributes)
                assert subject_key(as_text) in keys
                checked += 1
    assert checked > 300
