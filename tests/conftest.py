"""Shared test fixtures: the test PKI served on loopback, trust anchors, and a validation helper.

The PKI answers as of T_VAL, and every validation runs "as of" T_VAL, so results do not depend on the day
the tests run. Network access goes through the loopback server acting as an HTTP proxy (HTTP_PROXY), exactly
as a deployment behind an outbound proxy would.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "fixtures" / "certs"))

import testpki  # noqa: E402
from trustsvc.engine import Submission, validate_submission  # noqa: E402
from trustsvc.fetch import revocation_fetcher  # noqa: E402
from trustsvc.formats import ValidationSettings  # noqa: E402
from trustsvc.trust.anchors import AnchorSet  # noqa: E402
from trustsvc.verdict import Report  # noqa: E402

T_VAL = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
SAMPLES = ROOT / "fixtures" / "samples"
PEM = ROOT / "fixtures" / "certs" / "pem"
SHARED = ROOT.parent / "shared"
ROOT_PEMS = tuple(PEM / f"ms-{c}" / "root.pem" for c in testpki.COUNTRIES)
_PROXY_VARS = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy")


@pytest.fixture(scope="session", autouse=True)
def isolated_database(tmp_path_factory) -> Iterator[Path]:
    """Every test (and every CLI it runs) uses a fresh SQLite store, never the user's own."""
    from trustsvc.settings import get_settings

    path = tmp_path_factory.mktemp("store") / "trustsvc.db"
    saved = {k: os.environ.get(k) for k in ("TRUSTSVC_DATABASE_URL", "TRUSTSVC_TRUST_SOURCE")}
    os.environ["TRUSTSVC_DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.pop("TRUSTSVC_TRUST_SOURCE", None)
    get_settings.cache_clear()
    yield path
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def pki_proxy() -> Iterator[str]:
    """The whole test PKI on 127.0.0.1, reachable as the HTTP proxy of this process (and its children)."""
    saved = {k: os.environ.get(k) for k in _PROXY_VARS}
    with testpki.serve_pki(T_VAL) as served:
        for key in _PROXY_VARS:
            os.environ.pop(key, None)
        os.environ["HTTP_PROXY"] = os.environ["http_proxy"] = served.proxy_url
        try:
            yield served.proxy_url
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@pytest.fixture(scope="session")
def anchors() -> AnchorSet:
    return AnchorSet.from_files(ROOT_PEMS)


async def validate(
    document: Path,
    *,
    anchors: AnchorSet,
    contents: Sequence[Path] = (),
    online: bool = False,
    at: datetime = T_VAL,
) -> Report:
    """Validate in-process exactly as the CLI does."""
    submission = Submission(document=document, contents=tuple(contents))
    if not online:
        settings = ValidationSettings(validation_time=at, trust=anchors, historical=True)
        return await validate_submission(submission, settings)
    async with revocation_fetcher(5.0) as fetcher:
        settings = ValidationSettings(validation_time=at, trust=anchors, historical=True, fetcher_backend=fetcher)
        return await validate_submission(submission, settings)


def shared_path(*parts: str) -> Path:
    """A file under ../shared, or skip the test when the shared folder is not there."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not available (the shared test data folder is absent)")
    return path
