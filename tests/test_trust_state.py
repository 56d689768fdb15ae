"""The service's trust state: what /health reports about the snapshot in force, and refreshes that fail."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import ROOT
from trustsvc.db import make_engine, migrate
from trustsvc.service.lease import acquire_lease
from trustsvc.service.trust_state import TrustState
from trustsvc.trust.sources import load_sources
from trustsvc.trust.store import TrustStore

NOW = datetime(2026, 11, 28, 12, tzinfo=timezone.utc)


@pytest.fixture()
def state(tmp_path) -> TrustState:
    folder = tmp_path / "trust_lists"
    shutil.copytree(ROOT / "trust_lists", folder)
    sources, _ = load_sources(folder)
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(engine)
    state = TrustState(TrustStore(engine), sources["demo"], holder="test")
    state.load(NOW)
    return state


def lists_folder(state: TrustState) -> Path:
    return state.source.lotl_path.parent


def test_health_is_ok_with_fresh_lists_and_anchors(state):
    health = state.health(NOW)
    assert health.status == "ok"
    assert (health.details["lists"], health.details["anchors"]) == (6, 18)
    assert (health.details["stale"], health.details["refused"]) == ([], [])
    assert health.details["warning"].startswith("Trust comes from the DEMO trusted lists")


def test_health_is_degraded_when_lists_are_past_their_next_update(state):
    later = datetime(2031, 1, 2, tzinfo=timezone.utc)  # the demo lists' NextUpdate is 2031-01-01
    health = state.health(later)
    assert health.status == "degraded"
    assert health.details["stale"] == ["LOTL EU #1", "TL CZ #1", "TL ES #1", "TL FR #1", "TL IT #1", "TL SE #1"]
    assert health.details["anchors"] == 18  # stale lists still anchor: the last good snapshot stays in force


def test_health_is_down_with_zero_anchors_never_ok(state):
    before_any_service = datetime(2019, 6, 1, tzinfo=timezone.utc)  # every demo service starts on 2020-01-01
    health = state.health(before_any_service)
    assert health.status == "down"
    assert (health.details["anchors"], health.details["reason"]) == (0, "no trust anchor is in force")


def test_health_is_down_before_any_snapshot_is_loaded(tmp_path):
    sources, _ = load_sources(ROOT / "trust_lists")
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    migrate(engine)
    health = TrustState(TrustStore(engine), sources["demo"], holder="test").health(NOW)
    assert (health.status, health.details) == ("down", {"reason": "trust is not loaded"})


def test_a_refused_list_degrades_health_and_keeps_the_last_good_snapshot(state):
    fr = lists_folder(state) / "TL-FR.xml"
    fr.write_bytes(fr.read_bytes().replace(b"FR Test Qualified CA<", b"FR Test Qualified CB<", 1))
    before = state.current.summary.snapshot_id
    result = state.refresh(NOW + timedelta(hours=1))
    assert (result.ran, result.refused, result.message) == (True, ("FR",), "refreshed")
    assert state.current.summary.snapshot_id == before and result.changed is False
    health = state.health(NOW + timedelta(hours=1))
    assert health.status == "degraded"
    assert health.details["refused"] == ["TL FR #?"]  # unauthenticated: its sequence number is not believed
    assert health.details["last_refresh"]["result"] == "refreshed"
    assert health.details["anchors"] == 18


def test_a_tampered_lotl_is_reported_and_nothing_changes(state):
    lotl = state.source.lotl_path
    lotl.write_bytes(lotl.read_bytes().replace(b"TL-FR.xml", b"TL-XX.xml", 1))
    result = state.refresh(NOW + timedelta(hours=1))
    assert (result.ran, result.refused, result.message) == (True, ("EU",), "LOTL refused: broken-signature")
    assert state.current.summary.snapshot_id == 1
    assert state.health(NOW + timedelta(hours=1)).details["last_refresh"]["result"] == "LOTL refused: broken-signature"


def test_a_refresh_another_process_holds_does_not_run(state):
    assert acquire_lease(state.store.engine, "trust-refresh", "other replica", NOW, timedelta(minutes=10))
    result = state.refresh(NOW + timedelta(minutes=1))
    assert (result.ran, result.message) == (False, "another process is refreshing")
    assert state.last_refresh is None
