"""The HTTP service, through a real ``trustsvc serve`` (uvicorn) on a loopback port and a real HTTP client.

The server runs as its own process with a fresh SQLite database, the demo trusted lists (a copy, so a test can
publish a new list version), online against the test PKI served on loopback as its HTTP proxy, and its temporary
folder under the test's control (to see that uploads do not outlive their request). Keys are made with the CLI.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from asn1crypto import cms
from certomancer.registry import CertLabel
from cryptography import x509
from cryptography.hazmat.primitives import serialization

import testpki
from conftest import PEM, ROOT, SAMPLES, T_VAL, validate
from demo_lists import pilot_lists, utc
from trustsvc.reports.signed import unwrap_signed_report
from trustsvc.trust.anchors import AnchorSet
from trustsvc.trust.tsl_signature import verify_list_signature
from trustsvc.trust.tsl_write import signed_list_bytes

pytest_plugins = ["conftest_db"]

TRUSTSVC = str(Path(sys.executable).parent / "trustsvc")
PROBLEM = "application/problem+json"
UPLOAD_LIMIT = 3 * 1024 * 1024


@dataclass
class Server:
    url: str
    keys: dict[str, str]
    env: dict[str, str]
    tmp: Path
    lists: Path
    log: Path
    process: subprocess.Popen

    def client(self, key: str | None = "platform", **kwargs) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[key]}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, trust_env=False, **kwargs)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tmp_path: Path, database_url: str, extra_env: dict[str, str] | None = None) -> Server:
    lists = tmp_path / "trust_lists"
    shutil.copytree(ROOT / "trust_lists", lists)
    server_tmp = tmp_path / "server-tmp"
    server_tmp.mkdir()
    env = dict(os.environ)
    for name in ("NO_PROXY", "no_proxy"):
        env.pop(name, None)
    env.update(
        TRUSTSVC_DATABASE_URL=database_url,
        TRUSTSVC_TRUST_LISTS_DIR=str(lists),
        TRUSTSVC_OFFLINE="false",
        TRUSTSVC_REFRESH_INTERVAL="0",
        TRUSTSVC_SNAPSHOT_POLL_INTERVAL="1",
        TRUSTSVC_UPLOAD_LIMIT=str(UPLOAD_LIMIT),
        TRUSTSVC_KEY_CACHE_SECONDS="0",
        TRUSTSVC_PUBLIC_BURST="20",
        TRUSTSVC_PUBLIC_RATE="1",
        TRUSTSVC_FETCH_TIMEOUT="5",
        TMPDIR=str(server_tmp),
        **(extra_env or {}),
    )
    env.pop("TRUSTSVC_TRUST_SOURCE", None)
    keys = {}
    for name, role in (("platform", "platform"), ("other", "platform"), ("curator", "curator"), ("admin", "admin")):
        made = subprocess.run(
            [TRUSTSVC, "keys", "create", name, "--role", role], env=env, capture_output=True, text=True, timeout=60
        )
        assert made.returncode == 0, made.stderr
        keys[name] = made.stdout.strip()
    port = _free_port()
    log = tmp_path / "server.log"
    process = subprocess.Popen(
        [TRUSTSVC, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/health", timeout=2, trust_env=False).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError("the server did not start:\n" + log.read_text(errors="replace")[-3000:])
        time.sleep(0.1)
    return Server(url, keys, env, server_tmp, lists, log, process)


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="module")
def live_pki() -> Iterator[str]:
    """The test PKI answering as of the real time: the service validates as of now, not as of the tests' T_VAL."""
    with testpki.serve_pki(None) as served:
        yield served.proxy_url


@pytest.fixture(scope="module")
def server(tmp_path_factory, live_pki, pki_proxy) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("api")
    running = start_server(tmp, f"sqlite:///{tmp / 'service.db'}", {"HTTP_PROXY": live_pki, "http_proxy": live_pki})
    yield running
    stop_server(running)


def post_file(client: httpx.Client, path: Path, *, route: str = "/v1/validations", content: Path | None = None, **data):
    files = [("file", (path.name, path.read_bytes(), "application/octet-stream"))]
    if content is not None:
        files.append(("content", (content.name, content.read_bytes(), "application/octet-stream")))
    return client.post(route, files=files, data=data)


def assert_problem(response: httpx.Response, status: int, slug: str, detail: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"urn:trustsvc:problem:{slug}" and body["status"] == status
    if detail is not None:
        assert body["detail"] == detail
    return body


# -- the contract ---------------------------------------------------------------------------------------------------


def test_validation_report_follows_the_contract(server):
    with server.client() as client:
        response = post_file(client, SAMPLES / "pades" / "b-lt.pdf", policy="all")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    report = response.json()
    assert list(report) == ["id", "document", "validation_time", "signatures", "policies", "trust"]
    assert response.headers["location"] == f"/v1/validations/{report['id']}"
    (signature,) = report["signatures"]
    assert set(signature) >= {
        "id", "format", "level", "indication", "subindication", "signer", "claimed_signing_time",
        "best_signature_time", "trust_anchor", "qualification", "timestamps", "scope", "errors", "warnings", "infos",
    }  # fmt: skip
    assert (signature["indication"], signature["qualification"]["signature"]) == ("TOTAL_PASSED", "QESig")
    assert {p["pilot"]: p["decision"] for p in report["policies"]} == {
        "cz": "ACCEPT", "es": "ACCEPT", "fr": "ACCEPT", "it": "ACCEPT", "procure": "ACCEPT", "se": "ACCEPT",
    }  # fmt: skip
    assert report["trust"]["source"] == "demo" and report["trust"]["snapshot_id"] == 1
    assert response.headers["x-request-id"]


def test_detached_signature_with_its_content_and_etsi_xml(server):
    with server.client() as client:
        response = post_file(
            client,
            SAMPLES / "cades" / "detached-b-lt.p7s",
            content=SAMPLES / "content" / "bid.xml",
            policy="fr",
        )
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["signatures"][0]["indication"] == "TOTAL_PASSED"
        xml = client.get(f"/v1/validations/{report['id']}", headers={"Accept": "application/xml"})
    assert xml.status_code == 200 and xml.headers["content-type"] == "application/xml"
    assert b"urn:etsi:019102:mainindication:total-passed" in xml.content


def test_evidence_belongs_to_the_platform_that_asked(server):
    with server.client() as client:
        created = post_file(client, SAMPLES / "pades" / "b-lt-es.pdf", policy="it")
        evidence = created.json()["id"]
        again = client.get(f"/v1/validations/{evidence}")
    assert again.status_code == 200 and again.content == created.content  # byte for byte what was returned
    with server.client("other") as other:
        assert_problem(
            other.get(f"/v1/validations/{evidence}"), 404, "not-found", f"No validation {evidence!r} of yours."
        )
        assert_problem(other.get(f"/v1/validations/{evidence}/report.p7m"), 404, "not-found")
    with server.client("admin") as admin:
        assert admin.get(f"/v1/validations/{evidence}").status_code == 200
    with server.client("curator") as curator:
        assert_problem(
            curator.get(f"/v1/validations/{evidence}"),
            403,
            "forbidden",
            "This needs a platform or admin key; curator is a curator key.",
        )


async def test_the_signed_report_verifies(server):
    with server.client() as client:
        created = post_file(client, SAMPLES / "pades" / "b-lt.pdf", policy="all")
        signed = client.get(f"/v1/validations/{created.json()['id']}/report.p7m")
    assert signed.status_code == 200
    assert signed.headers["content-type"].startswith("application/pkcs7-mime")
    assert unwrap_signed_report(signed.content) == created.content
    path = server.tmp.parent / "report.p7m"
    path.write_bytes(signed.content)
    operator_root = AnchorSet.from_files([ROOT / "trust_lists" / "demo" / "operator-root.pem"])
    report = await validate(path, anchors=operator_root, online=True)
    (signature,) = report.signatures
    assert (signature.indication.value, signature.level) == ("TOTAL_PASSED", "CAdES-BASELINE-B")
    assert signature.signer.common_name == "trustsvc Demo Report Signer (test)"
    content = cms.ContentInfo.load(signed.content)["content"]["encap_content_info"]["content"].native
    assert json.loads(content)["id"] == created.json()["id"]
    # one byte changed in the report: the signature no longer holds
    tampered = signed.content.replace(b'"TOTAL_PASSED"', b'"TOTAL_FAILED"', 1)
    path.write_bytes(tampered)
    report = await validate(path, anchors=operator_root, online=True)
    assert report.signatures[0].indication.value == "TOTAL_FAILED"


def test_a_bid_pairs_detached_signatures_with_their_content(server):
    files = [
        ("files", ("offer.pdf", (SAMPLES / "pades" / "b-lt.pdf").read_bytes(), "application/pdf")),
        ("files", ("price.xml", (SAMPLES / "content" / "bid.xml").read_bytes(), "application/xml")),
        ("files", ("price.xml.p7s", (SAMPLES / "cades" / "detached-b-lt.p7s").read_bytes(), "application/pkcs7")),
        ("files", ("annex.txt", b"an unsigned annex\n", "text/plain")),
        ("files", ("qualified-not.pdf", (SAMPLES / "pades" / "b-lt-fr-signer-nq.pdf").read_bytes(), "application/pdf")),
    ]
    with server.client() as client:
        response = client.post("/v1/bids", files=files, data={"policy": ["fr", "se"]})
    assert response.status_code == 200, response.text
    bid = response.json()
    assert [(f["file"], f["role"]) for f in bid["bid"]["files"]] == [
        ("offer.pdf", "document"),
        ("price.xml", "signed-content"),
        ("price.xml.p7s", "document"),
        ("annex.txt", "document"),
        ("qualified-not.pdf", "document"),
    ]
    assert [(d["file"], d["content"]) for d in bid["documents"]] == [
        ("offer.pdf", []),
        ("price.xml.p7s", ["price.xml"]),
        ("qualified-not.pdf", []),
    ]
    assert [d["report"]["signatures"][0]["indication"] for d in bid["documents"]] == ["TOTAL_PASSED"] * 3
    reason = "not a signed document: neither PDF, XML, ZIP (ASiC), CMS/PKCS#7 nor an RFC 3161 time-stamp"
    assert bid["unsigned"] == [{"file": "annex.txt", "reason": reason, "code": "not-a-signed-document"}]
    decisions = {p["pilot"]: (p["decision"], p["documents"]) for p in bid["policies"]}
    assert decisions["se"][0] == "ACCEPT"
    assert decisions["fr"] == (
        "REJECT",
        [
            {"file": "offer.pdf", "policy": "fr-2019", "decision": "ACCEPT"},
            {"file": "price.xml.p7s", "policy": "fr-2019", "decision": "ACCEPT"},
            {"file": "qualified-not.pdf", "policy": "fr-2019", "decision": "REJECT"},
        ],
    )
    fr = next(p for p in bid["policies"] if p["pilot"] == "fr")
    assert fr["reasons"][0]["message"].startswith("qualified-not.pdf: A requirement of the arrêté is not met")


def test_public_endpoints(server):
    with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as anyone:
        policies = anyone.get("/v1/policies").json()
        assert policies["pilots"] == ["cz", "es", "fr", "it", "procure", "se"]
        fr = anyone.get("/v1/policies/fr-2019").json()
        assert fr["policy"]["rules"]["R-QC-SIG"]["type"] == "esig"
        assert fr["explanation"].startswith("fr-2019 — France")
        assert_problem(anyone.get("/v1/policies/xx"), 404, "unknown-policy")
        lists = anyone.get("/v1/trusted-lists").json()
        assert [v["label"] for v in lists["versions"]][:2] == ["LOTL EU #1", "TL CZ #1"]
        health = anyone.get("/health").json()
        assert (health["status"], health["database"], health["trust"]["anchors"]) == ("ok", "ok", 18)
        metrics = anyone.get("/metrics").text
        assert "trustsvc_trust_anchors 18.0" in metrics
        assert 'trustsvc_http_requests_total{method="GET",route="/health",status="200"}' in metrics
        spec = anyone.get("/openapi.json").json()
        assert {"/v1/validations", "/v1/bids", "/v1/policies", "/v1/trusted-lists", "/health"} <= set(spec["paths"])
        assert anyone.get("/docs").status_code == 200


def test_bidders_check_a_certificate_without_an_account(server):
    with httpx.Client(base_url=server.url, timeout=60, trust_env=False) as anyone:
        es = (PEM / "ms-es" / "signer-qscd.pem").read_bytes()
        body = anyone.post("/v1/certificates/check", files={"file": ("mine.pem", es)}).json()
        assert body["kind"] == "certificate" and body["certificate"]["qualification"] == "AdESig-QC"
        decisions = {p["pilot"]: p["decision"] for p in body["pilots"]}
        assert decisions["it"] == "REJECT" and decisions["fr"] == "ACCEPT"
        italy = next(p for p in body["pilots"] if p["pilot"] == "it")
        assert italy["rule"] == "R-QSCD" and italy["next_step"].startswith("Italy requires a qualified electronic")
        key = (PEM.parent / "keys" / "signer-qscd.key.pem").read_bytes()
        refused = anyone.post("/v1/certificates/check", files={"file": ("mine.key", key)})
        problem = assert_problem(refused, 422, "invalid-input")
        assert problem["code"] == "private-key" and problem["detail"].startswith("This is a private key")
        assert_problem(anyone.post("/v1/certificates/check", files={"other": ("x", b"x")}), 400, "missing-file")
    leftovers = [p for p in server.tmp.rglob("*") if p.is_file()]
    assert leftovers == [], leftovers  # nothing of the uploads kept


def test_public_endpoints_are_rate_limited(server):
    with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as anyone:
        statuses = [anyone.get("/v1/trusted-lists").status_code for _ in range(60)]
        limited = next(anyone.get("/v1/trusted-lists") for _ in range(5))
    assert 429 in statuses and statuses[0] == 200
    body = assert_problem(limited, 429, "rate-limited", "Too many requests from this address; slow down.")
    assert int(limited.headers["retry-after"]) >= 1 and body["instance"] == "/v1/trusted-lists"


# -- authentication and bad input -----------------------------------------------------------------------------------


def test_requests_without_a_valid_key_are_refused(server):
    sample = SAMPLES / "pades" / "b-lt.pdf"
    with server.client(None) as anonymous:
        response = post_file(anonymous, sample)
        assert_problem(response, 401, "unauthenticated", "Send an API key: Authorization: Bearer KEY.")
        assert response.headers["www-authenticate"] == 'Bearer realm="trustsvc"'
    with httpx.Client(base_url=server.url, headers={"Authorization": "Bearer tsk_not-a-key"}, trust_env=False) as wrong:
        assert_problem(post_file(wrong, sample), 401, "unauthenticated", "The API key is unknown or revoked.")
    with server.client("curator") as curator:
        assert_problem(post_file(curator, sample), 403, "forbidden")
    revoked = subprocess.run(
        [TRUSTSVC, "keys", "revoke", "other"], env=server.env, capture_output=True, text=True, timeout=60
    )
    assert revoked.stdout == "revoked other\n"
    with server.client("other") as other:
        assert_problem(post_file(other, sample), 401, "unauthenticated", "The API key is unknown or revoked.")
    server.keys["other"] = subprocess.run(
        [TRUSTSVC, "keys", "create", "other-2", "--role", "platform"], env=server.env, capture_output=True, text=True
    ).stdout.strip()


@pytest.mark.parametrize(
    ("make", "status", "slug", "detail"),
    [
        (lambda: {"data": {"policy": "fr"}, "files": {"notfile": ("a.pdf", b"%PDF-1.7")}}, 400, "missing-file",
         "Send exactly one signed document in the field 'file'."),
        (lambda: {"files": {"file": ("empty.pdf", b"")}}, 400, "empty-upload", "The file 'empty.pdf' is empty."),
        (lambda: {"files": {"file": ("junk.bin", random.Random(7).randbytes(4096))}}, 422, "invalid-input", None),
        (lambda: {"files": {"file": ("bomb.asice", _zip_bomb())}}, 422, "invalid-input",
         "The ZIP entry 'bomb.bin' expands 1028 times, more than the limit of 200 (a ZIP bomb)"),
        (lambda: {"files": {"file": ("b-lt.pdf", (SAMPLES / "pades" / "b-lt.pdf").read_bytes())},
                  "data": {"policy": "fr-2030"}}, 400, "unknown-policy",
         "no policy 'fr-2030' (known: cz, es, fr-2012, fr-2019, it, procure-agreement, se)"),
        (lambda: {"files": {"file": ("b-lt.pdf", (SAMPLES / "pades" / "b-lt.pdf").read_bytes())},
                  "data": {"deposit_time": "yesterday"}}, 400, "invalid-deposit-time",
         "'yesterday' is not an ISO 8601 date and time."),
        (lambda: {"files": {"file": ("b-lt.pdf", (SAMPLES / "pades" / "b-lt.pdf").read_bytes())},
                  "data": {"deposit_time": "2999-01-01T00:00:00Z"}}, 400, "invalid-deposit-time",
         "The deposit time is in the future."),
        (lambda: {"files": [("file", (f"f{i}.pdf", b"%PDF")) for i in range(60)]}, 400, "too-many-files",
         "At most 50 files may be sent in one request."),
        (lambda: {"files": {"file": ("big.pdf", b"%PDF-1.7\n" + bytes(UPLOAD_LIMIT))}}, 413, "upload-too-large",
         f"The request body exceeds the limit of {UPLOAD_LIMIT} bytes."),
    ],
    ids=["missing-file", "empty", "garbage", "zip-bomb", "unknown-policy", "bad-deposit", "future-deposit",
         "too-many-files", "too-large"],
)  # fmt: skip
def test_bad_uploads_get_a_problem(server, make, status, slug, detail):
    with server.client() as client:
        response = client.post("/v1/validations", **make())
        body = assert_problem(response, status, slug, detail)
        assert "Traceback" not in response.text
        if slug == "invalid-input" and detail is None:
            assert (
                body["detail"]
                == "not a signed document: neither PDF, XML, ZIP (ASiC), CMS/PKCS#7 nor an RFC 3161 time-stamp"
            )
            assert body["code"] == "not-a-signed-document"
        assert client.get("/health").status_code == 200  # still serving


def test_malformed_requests_get_a_problem(server):
    with server.client() as client:
        assert_problem(
            client.post("/v1/validations", json={"file": "x"}),
            415,
            "unsupported-media-type",
            "Send the files as multipart/form-data.",
        )
        truncated = client.post(
            "/v1/validations",
            content=b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF',
            headers={"Content-Type": "multipart/form-data; boundary=XyZ"},
        )
        assert_problem(truncated, 400, "malformed-multipart", "The multipart body ends before its closing boundary.")

        def endless():
            chunk = b"x" * 65536
            yield b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n'
            for _ in range(UPLOAD_LIMIT // len(chunk) + 10):
                yield chunk

        streamed = client.post(
            "/v1/validations", content=endless(), headers={"Content-Type": "multipart/form-data; boundary=XyZ"}
        )  # chunked: no Content-Length to refuse it on
        assert_problem(streamed, 413, "upload-too-large")
        assert_problem(client.get("/v1/nothing"), 404, "not-found", "Not Found")
        assert_problem(client.delete("/v1/validations"), 405, "method-not-allowed", "Method Not Allowed")


def test_uploads_do_not_outlive_their_request(server):
    with server.client() as client:
        post_file(client, SAMPLES / "pades" / "b-lt.pdf")
        post_file(client, SAMPLES / "cades" / "detached-b-lt.p7s", content=SAMPLES / "content" / "bid.xml")
    assert list(server.tmp.iterdir()) == []
    log = server.log.read_text(errors="replace")
    assert "Camille" not in log and "b-lt.pdf" not in log and "Traceback" not in log  # no user data in logs
    requests = [json.loads(line) for line in log.splitlines() if '"trustsvc.access"' in line]
    assert requests and all(
        set(r) >= {"ts", "request_id", "method", "route", "status", "duration_ms"} for r in requests
    )


# -- concurrency and trust refresh ----------------------------------------------------------------------------------


def publish_fr_list(lists: Path, sequence: int) -> None:
    """A new FR list version, signed by the FR scheme operator, in the server's demo folder."""
    (fr, _), *_ = [(tl, label) for tl, label in pilot_lists() if tl.territory == "FR"]
    tl = dataclasses.replace(fr, sequence=sequence, issued=utc(2026, 11, 20))
    arch = testpki.arch("fr")
    key = serialization.load_der_private_key(arch.key_set.get_private_key("tlso").dump(), password=None)
    data = signed_list_bytes(tl, key, arch.get_cert(CertLabel("tlso")).dump(), signing_time=tl.issued)
    (lists / "demo" / "TL-FR.xml").write_bytes(data)


async def test_fifty_validations_while_the_trust_is_refreshed(server):
    publish_fr_list(server.lists, 2)
    sample = (SAMPLES / "pades" / "b-lt.pdf").read_bytes()
    headers = {"Authorization": f"Bearer {server.keys['platform']}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=120, trust_env=False) as client:

        async def one(i: int):
            await asyncio.sleep(i * 0.01)
            return await client.post("/v1/validations", files={"file": ("bid.pdf", sample)}, data={"policy": "fr"})

        async def refresh():
            await asyncio.sleep(0.2)
            admin = {"Authorization": f"Bearer {server.keys['admin']}"}
            return await client.post("/v1/trusted-lists/refresh", headers=admin)

        *responses, refreshed = await asyncio.gather(*(one(i) for i in range(50)), refresh())
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["snapshot_id"] == 2 and refreshed.json()["changed"] is True
    assert [r.status_code for r in responses] == [200] * 50
    seen = set()
    for response in responses:
        report = response.json()
        trust = report["trust"]
        fr_list = next(label for label in trust["lists"] if label.startswith("TL FR"))
        # one consistent snapshot per report: snapshot 1 has FR #1, snapshot 2 has FR #2
        assert (trust["snapshot_id"], fr_list) in {(1, "TL FR #1"), (2, "TL FR #2")}
        assert report["signatures"][0]["indication"] == "TOTAL_PASSED"
        assert report["policies"][0]["decision"] == "ACCEPT"
        seen.add(trust["snapshot_id"])
    assert seen <= {1, 2}
    # the other worker picks the new snapshot up from the store within its poll interval
    deadline = time.monotonic() + 10
    with httpx.Client(base_url=server.url, trust_env=False) as anyone:
        while {anyone.get("/health").json()["trust"]["snapshot_id"] for _ in range(6)} != {2}:
            assert time.monotonic() < deadline, "a worker kept the old snapshot"
            time.sleep(0.5)


def _zip_bomb() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.etsi.asic-e+zip")
        archive.writestr("bomb.bin", bytes(50 * 1024 * 1024))
    return buffer.getvalue()


def test_validation_time_is_now(server):
    """The service validates as of the moment of the request (not the tests' fixed T_VAL)."""
    with server.client() as client:
        report = post_file(client, SAMPLES / "pades" / "b-lt.pdf").json()
    assert report["validation_time"] > T_VAL.isoformat()[:10]


def _curator_keys(server: Server) -> dict[str, str]:
    keys = {}
    for pilot in ("fr", "it", "cz", "se", "es"):
        made = subprocess.run(
            [TRUSTSVC, "keys", "create", f"legal-{pilot}", "--role", "curator", "--pilot", pilot],
            env=server.env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        keys[pilot] = made.stdout.strip()
    return keys


def test_curators_agree_on_a_ca_and_bids_under_it_pass_the_cross_pilot_policy(server):
    """Last in this module: the agreement it builds stays in the shared server's database."""
    keys = _curator_keys(server)
    cz_bid = SAMPLES / "pades" / "b-lt-cz.pdf"  # its CA was withdrawn from the demo CZ list before it signed

    def curator(pilot: str) -> httpx.Client:
        return httpx.Client(base_url=server.url, timeout=60, trust_env=False,
                            headers={"Authorization": f"Bearer {keys[pilot]}"})  # fmt: skip

    def cross_pilot_decision() -> str:
        with server.client() as platform:
            report = post_file(platform, cz_bid, policy="procure").json()
        return report["policies"][0]["decision"]

    with httpx.Client(base_url=server.url, timeout=60, trust_env=False) as anyone:
        assert anyone.get("/v1/agreement").json() == {"entries": []}
    fields = {
        "name": "CZ Test Qualified CA", "country": "CZ", "quality_level": "4",
        "justification": "Assessed by the five legal teams.", "valid_from": "2025-01-01T00:00:00Z",
        "source_document": "https://procure.example/assessments/cz-qca",
    }  # fmt: skip
    certificate = {"certificate": ("qca.pem", (PEM / "ms-cz" / "qca.pem").read_bytes())}
    with server.client("curator") as no_pilot:
        assert_problem(no_pilot.post("/v1/agreement/entries", files=certificate, data=fields), 403, "forbidden")
    with server.client() as platform:
        assert_problem(platform.post("/v1/agreement/entries", files=certificate, data=fields), 403, "forbidden")
    with curator("fr") as fr:
        entry = fr.post("/v1/agreement/entries", files=certificate, data=fields).json()
        assert (entry["status"], entry["approvals"]) == ("proposed", {"fr": "legal-fr"})
        again = fr.post(f"/v1/agreement/entries/{entry['id']}/approve")
        assert_problem(again, 409, "already-approved")
        duplicate = fr.post("/v1/agreement/entries", files=certificate, data=fields)
        assert_problem(duplicate, 409, "already-in-agreement")
        key = {"certificate": ("oops.key", (PEM.parent / "keys" / "signer-qscd.key.pem").read_bytes())}
        assert_problem(fr.post("/v1/agreement/entries", files=key, data=fields), 422, "private-key")
    for pilot in ("it", "cz", "se"):
        with curator(pilot) as client:
            assert client.post(f"/v1/agreement/entries/{entry['id']}/approve").json()["status"] == "proposed"
    assert cross_pilot_decision() == "REJECT"  # four of five pilots: not in force yet
    with curator("es") as es:
        done = es.post(f"/v1/agreement/entries/{entry['id']}/approve", json={"reason": "agreed in session 12"})
        assert done.json()["status"] == "in_force" and done.json()["missing_pilots"] == []
        audit = es.get("/v1/agreement/audit").json()
    time.sleep(1.1)  # in force from the whole second after the last approval (list times have no fractions)
    assert cross_pilot_decision() == "ACCEPT"
    assert audit["intact"] is True and [r["action"] for r in audit["records"]][:2] == ["propose", "approve"]
    with httpx.Client(base_url=server.url, timeout=60, trust_env=False) as anyone:
        listed = anyone.get("/v1/agreement/list.xml")
    assert listed.headers["content-type"] == "application/xml"
    operator = x509.load_pem_x509_certificate((ROOT / "trust_lists" / "demo" / "report-signer.pem").read_bytes())
    verification, signed = verify_list_signature(listed.content, [operator.public_bytes(serialization.Encoding.DER)])
    assert verification.verified, verification
    assert signed is not None


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_service_on_postgresql(db_url, tmp_path, live_pki, pki_proxy):
    """Two workers on one PostgreSQL: migrated at start, one ingests the lists, both validate and keep evidence."""
    running = start_server(tmp_path, db_url, {"HTTP_PROXY": live_pki, "http_proxy": live_pki})
    try:
        with running.client() as client:
            created = [post_file(client, SAMPLES / "pades" / "b-lt.pdf", policy="fr") for _ in range(4)]
            assert [r.status_code for r in created] == [200] * 4
            assert {r.json()["policies"][0]["decision"] for r in created} == {"ACCEPT"}
            for response in created:
                assert client.get(f"/v1/validations/{response.json()['id']}").content == response.content
            health = client.get("/health").json()
        assert (health["status"], health["database"], health["trust"]["snapshot_id"]) == ("ok", "ok", 1)
    finally:
        stop_server(running)
