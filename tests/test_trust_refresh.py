"""Refreshing trust: lists authenticated, refused with a reason, never losing the last good snapshot.

The demo lists (trust_lists/demo, signed by the test PKI) are copied into a temporary folder and altered the way
real lists change or go wrong: a new sequence with a withdrawn CA, a tampered byte, a lower sequence, the wrong
signer, a stale list, an XML bomb, a missing file, a tampered LOTL.
"""

from __future__ import annotations

import dataclasses
import functools
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from certomancer.registry import ArchLabel, CertLabel
from cryptography.hazmat.primitives import serialization

import testpki
from conftest import ROOT, SAMPLES
from demo_lists import demo_lotl, pilot_lists, utc
from trustsvc.db import make_engine, migrate
from trustsvc.trust.refresh import FolderFetcher, HttpFetcher, fetcher_for, refresh
from trustsvc.trust.snapshots import load_registry
from trustsvc.trust.sources import load_sources
from trustsvc.trust.store import TrustStore
from trustsvc.trust.tsl_model import ServiceStatus
from trustsvc.trust.tsl_write import signed_list_bytes

DEMO = ROOT / "trust_lists" / "demo"
NOW = datetime(2026, 11, 28, 12, tzinfo=timezone.utc)
TRUSTSVC = str(Path(sys.executable).parent / "trustsvc")


@pytest.fixture()
def folder(tmp_path) -> Path:
    target = tmp_path / "lists"
    shutil.copytree(DEMO, target)
    return target


@pytest.fixture()
def store(tmp_path) -> TrustStore:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(engine)
    return TrustStore(engine)


def demo_signers() -> tuple[bytes, ...]:
    sources, _ = load_sources()
    return sources["demo"].lotl_signers


def run_refresh(folder: Path, store: TrustStore | None, now: datetime = NOW):
    fetch, location = fetcher_for(str(folder))
    return refresh(location, demo_signers(), fetch, now=now, store=store)


def fr_list(sequence: int, **changes):
    (tl, _), *_ = [(tl, label) for tl, label in pilot_lists() if tl.territory == "FR"]
    return dataclasses.replace(tl, sequence=sequence, **changes)


def sign_as(country: str, tl) -> bytes:
    arch = testpki.arch(country)
    key = serialization.load_der_private_key(arch.key_set.get_private_key("tlso").dump(), password=None)
    return signed_list_bytes(tl, key, arch.get_cert(CertLabel("tlso")).dump(), signing_time=tl.issued)


def outcomes(report) -> dict[str, tuple[bool, str | None]]:
    result = {}
    for o in report.lists:
        code = o.verification.code if not o.verification.verified else (o.record.code if o.record else None)
        result[o.territory] = (o.accepted, code)
    return result


def test_demo_source_ingests_and_snapshots(folder, store):
    report = run_refresh(folder, store)
    assert report.lotl.verified
    assert outcomes(report) == {t: (True, None) for t in ("CZ", "ES", "FR", "IT", "SE")}
    snapshot = store.latest_snapshot()
    assert snapshot is not None and snapshot.id == report.snapshot_id
    registry = load_registry(store, snapshot)
    assert registry.anchor_count(NOW) == 18  # CA/QC + CA/PKC + 2 TSAs per state, minus the two withdrawn CAs
    again = run_refresh(folder, store)
    assert [o.record.status.value for o in again.lists] == ["unchanged"] * 5
    assert again.snapshot_id == report.snapshot_id


def test_new_sequence_replaces_and_diff_shows_the_withdrawal(folder, store):
    run_refresh(folder, store)
    (qca, *others) = fr_list(1).providers[0].services
    withdrawn = dataclasses.replace(qca.current, status=ServiceStatus.WITHDRAWN, start=utc(2026, 11, 20))
    provider = dataclasses.replace(
        fr_list(1).providers[0], services=(dataclasses.replace(qca, current=withdrawn, history=(qca.current,)), *others)
    )
    (folder / "TL-FR.xml").write_bytes(sign_as("fr", fr_list(2, providers=(provider,), issued=utc(2026, 11, 20))))
    report = run_refresh(folder, store)
    assert outcomes(report)["FR"] == (True, None)
    old, new = sorted(v.id for v in store.history("FR"))
    changes = store.diff(old, new)
    (change,) = changes.status_changes
    assert (change.before.status, change.after.status) == ("granted", "withdrawn")
    assert [v.label for v in store.snapshot_versions(report.snapshot_id) if v.territory == "FR"] == ["TL FR #2"]


@pytest.mark.parametrize(
    ("alter", "code"),
    [
        (lambda data: data.replace(b"FR Test Qualified CA<", b"FR Test Qualified CB<", 1), "broken-signature"),
        (lambda data: sign_as("it", fr_list(1, operator_name="forged")), "signer-not-announced"),
        (lambda data: b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "unparseable"),
        (lambda data: b"", "unparseable"),
    ],
    ids=["tampered", "wrong-signer", "xml-bomb", "empty"],
)
def test_a_refused_list_keeps_the_last_good_one(folder, store, alter, code, request):
    first = run_refresh(folder, store)
    fr = folder / "TL-FR.xml"
    fr.write_bytes(alter(fr.read_bytes()))
    report = run_refresh(folder, store)
    accepted, got = outcomes(report)["FR"]
    assert not accepted and got == code
    if request.node.callspec.id == "xml-bomb":
        fr_outcome = next(o for o in report.lists if o.territory == "FR")
        assert fr_outcome.verification.reason.startswith("dtd-forbidden: XML input declares a DOCTYPE")
    (refused, good) = store.history("FR")[:2]
    assert refused.status.value == "refused" and good.status.value == "accepted"
    snapshot_versions = {v.territory: v.label for v in store.snapshot_versions(report.snapshot_id)}
    assert snapshot_versions["FR"] == "TL FR #1"
    assert report.snapshot_id == first.snapshot_id


def test_a_lower_sequence_never_replaces_a_higher_one(folder, store):
    (folder / "TL-FR.xml").write_bytes(sign_as("fr", fr_list(5)))
    run_refresh(folder, store)
    (folder / "TL-FR.xml").write_bytes(sign_as("fr", fr_list(4, operator_name="older")))
    report = run_refresh(folder, store)
    assert outcomes(report)["FR"] == (False, "lower-sequence")
    assert [v.label for v in store.snapshot_versions(report.snapshot_id) if v.territory == "FR"] == ["TL FR #5"]


def test_a_missing_list_keeps_the_previous_one(folder, store):
    first = run_refresh(folder, store)
    (folder / "TL-SE.xml").unlink()
    report = run_refresh(folder, store)
    assert outcomes(report)["SE"] == (False, "unavailable")
    assert report.snapshot_id == first.snapshot_id


def test_a_tampered_lotl_is_refused_and_nothing_changes(folder, store):
    first = run_refresh(folder, store)
    lotl = folder / "eu-lotl.xml"
    lotl.write_bytes(lotl.read_bytes().replace(b"TL-FR.xml", b"TL-XX.xml", 1))
    report = run_refresh(folder, store)
    assert not report.lotl.verified and report.lotl.verification.code == "broken-signature"
    assert report.snapshot_id is None and report.lists == []
    assert store.latest_snapshot().id == first.snapshot_id


def test_a_list_past_its_next_update_is_kept_but_stale(folder, store):
    (folder / "TL-ES.xml").write_bytes(sign_as("es", dataclasses.replace(
        [tl for tl, _ in pilot_lists() if tl.territory == "ES"][0], sequence=2, next_update=utc(2026, 11, 1)
    )))  # fmt: skip
    report = run_refresh(folder, store)
    assert outcomes(report)["ES"] == (True, None)
    stale = {c.version.label for c in store.current_versions(NOW) if c.stale}
    assert stale == {"TL ES #2"}


def test_folder_fetcher_finds_lists_by_territory(tmp_path):
    shutil.copytree(DEMO, tmp_path / "renamed")
    (tmp_path / "renamed" / "TL-IT.xml").rename(tmp_path / "renamed" / "TSL_IT.xml")
    fetch = FolderFetcher(tmp_path / "renamed")
    assert fetch("https://trustsvc.test/demo/TL-IT.xml") is None
    assert fetch.by_territory("IT") == (DEMO / "TL-IT.xml").read_bytes()


# -- through the command line -------------------------------------------------------------------------------------


@pytest.fixture()
def cli_env(tmp_path) -> dict[str, str]:
    env = dict(os.environ)
    env["TRUSTSVC_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    env.pop("TRUSTSVC_TRUST_SOURCE", None)
    return env


def cli(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([TRUSTSVC, *args], capture_output=True, text=True, env=env, timeout=120)


def test_validate_uses_the_demo_lists_by_default(cli_env):
    result = cli(cli_env, "validate", str(SAMPLES / "pades" / "b-lt.pdf"), "--offline", "--at", "2026-11-28T12:00:00Z")
    report = json.loads(result.stdout)
    (sig,) = report["signatures"]
    assert (sig["indication"], sig["qualification"]["signature"]) == ("TOTAL_PASSED", "QESig")
    assert sig["trust_anchor"]["source"] == "TL FR #1"
    trust = report["trust"]
    assert (trust["source"], trust["snapshot_id"], trust["stale"]) == ("demo", 1, [])
    assert trust["lists"] == ["LOTL EU #1", "TL CZ #1", "TL ES #1", "TL FR #1", "TL IT #1", "TL SE #1"]
    assert trust["warning"].startswith("Trust comes from the DEMO trusted lists")


def test_tl_commands(cli_env):
    refreshed = cli(cli_env, "tl", "refresh")
    assert refreshed.returncode == 0, refreshed.stderr
    assert refreshed.stdout.splitlines() == [
        "LOTL " + str(DEMO / "eu-lotl.xml") + ": verified",
        *[f"  {t} #1: accepted" for t in ("CZ", "ES", "FR", "IT", "SE")],
        "snapshot 1 in force",
    ]
    listing = cli(cli_env, "tl", "list").stdout.splitlines()
    assert listing[0].split() == ["TERRITORY", "SEQUENCE", "ISSUED", "NEXT", "UPDATE", "SIGNATURE", "STALE"]
    assert [line.split()[0] for line in listing[1:]] == ["EU", "CZ", "ES", "FR", "IT", "SE"]
    shown = cli(cli_env, "tl", "show", "it").stdout
    assert "CA/QC                withdrawn                  since 2026-11-10 00:00Z  IT Test Qualified CA" in shown
    history = cli(cli_env, "tl", "history", "FR").stdout.splitlines()
    (version_id, sequence, _day, _time, status) = history[1].split()
    assert version_id.isdigit() and (sequence, status) == ("1", "accepted")  # ids follow verification order
    unknown = cli(cli_env, "tl", "show", "DE")
    assert (unknown.returncode, unknown.stderr) == (
        2,
        "trustsvc: no trusted list of DE is stored (run `trustsvc tl refresh`)\n",
    )


def test_trusted_lists_option_validates_without_the_store(cli_env, tmp_path):
    result = cli(
        cli_env, "validate", str(SAMPLES / "pades" / "b-lt-it.pdf"), "--offline", "--at", "2026-11-28T12:00:00Z",
        "--trusted-lists", str(DEMO), "--lotl-signer", str(DEMO / "lotl-signer.pem"),
    )  # fmt: skip
    report = json.loads(result.stdout)
    assert report["trust"]["snapshot_id"] is None and report["trust"]["source"] == str(DEMO)
    assert report["signatures"][0]["qualification"]["signature"] == "QESig"
    assert not (tmp_path / "cli.db").exists()


def test_trusted_lists_pinned_to_the_official_journal_refuse_the_demo(cli_env):
    result = cli(cli_env, "validate", str(SAMPLES / "pades" / "b-lt.pdf"), "--offline", "--trusted-lists", str(DEMO))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(
        f"trustsvc: the list of trusted lists at {DEMO} cannot be trusted (signer-not-announced: "
    )


# -- over HTTP ----------------------------------------------------------------------------------------------------


@pytest.fixture()
def served_lists(tmp_path, monkeypatch) -> Iterator[str]:
    """The demo lists on an HTTP server on 127.0.0.1, under a LOTL (signed by the demo LOTL signer) that points at
    them there, except SE, whose server is down, and IT, which the server does not have."""
    root = tmp_path / "www"
    shutil.copytree(DEMO, root)
    (root / "TL-IT.xml").unlink()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    base = f"http://127.0.0.1:{server.server_address[1]}"
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{closed.getsockname()[1]}"
    lotl = demo_lotl(pilot_lists())
    pointers = tuple(
        dataclasses.replace(p, location=f"{down if p.territory == 'SE' else base}/{p.location.rsplit('/', 1)[1]}")
        for p in lotl.pointers
    )
    eu = testpki.config().get_pki_arch(ArchLabel("eu"))
    key = serialization.load_der_private_key(eu.key_set.get_private_key("lotlso").dump(), password=None)
    signed = signed_list_bytes(
        dataclasses.replace(lotl, pointers=pointers), key, eu.get_cert(CertLabel("lotlso")).dump(), lotl.issued
    )
    (root / "eu-lotl.xml").write_bytes(signed)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{base}/eu-lotl.xml"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


def test_lists_over_http_each_failure_with_its_cause(served_lists, store):
    fetch, location = fetcher_for(served_lists)
    assert isinstance(fetch, HttpFetcher)
    report = refresh(location, demo_signers(), fetch, now=NOW, store=store)
    assert report.lotl.verified
    assert outcomes(report) == {
        "CZ": (True, None), "ES": (True, None), "FR": (True, None),
        "IT": (False, "unavailable"), "SE": (False, "unavailable"),
    }  # fmt: skip
    reasons = {o.territory: o.verification.reason for o in report.lists if not o.accepted}
    base = served_lists.rsplit("/", 1)[0]
    assert reasons["IT"] == f"cannot read {base}/TL-IT.xml: HTTP 404"
    assert reasons["SE"].endswith("/TL-SE.xml: [Errno 111] Connection refused")
    assert {v.territory for v in store.snapshot_versions(report.snapshot_id)} == {"EU", "CZ", "ES", "FR"}


def test_an_unreachable_lotl_is_refused_with_its_cause(store, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # the test PKI may be this process's HTTP proxy
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/eu-lotl.xml"
    fetch, location = fetcher_for(url)
    report = refresh(location, demo_signers(), fetch, now=NOW, store=store)
    assert not report.lotl.verified
    assert report.lotl.verification.code == "unavailable"
    assert report.lotl.verification.reason == f"cannot read {url}: [Errno 111] Connection refused"
    assert store.latest_snapshot() is None


def test_validate_with_trusted_lists_from_a_url(cli_env, served_lists):
    cli_env.update(NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
    result = cli(
        cli_env, "validate", str(SAMPLES / "pades" / "b-lt.pdf"), "--offline", "--at", "2026-11-28T12:00:00Z",
        "--trusted-lists", served_lists, "--lotl-signer", str(DEMO / "lotl-signer.pem"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["trust"]["source"] == served_lists
    assert report["trust"]["lists"] == ["LOTL EU #1", "TL CZ #1", "TL ES #1", "TL FR #1"]
    assert report["signatures"][0]["qualification"]["signature"] == "QESig"
