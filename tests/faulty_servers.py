"""Loopback servers that misbehave on purpose, for tests/test_faults.py.

- :class:`FaultProxy`: an HTTP proxy (what ``HTTP_PROXY`` points at) in front of the test PKI's own loopback proxy
  (``testpki.serve_pki``). Requests whose URL matches a rule get that rule's fault (slow, reset, HTTP 500, random
  bytes, an HTML page, a wrongly signed OCSP response...); the others are forwarded unchanged. Every request is
  logged with the fault it got.
- :class:`ListServer`: a folder of trusted lists over plain HTTP on 127.0.0.1, with per-file faults (slow, a body
  trickled byte by byte, HTTP 500, reset), down (connection refused) and back on the same port, and a hook that
  says when a file was asked for.
- :func:`closed_port_url`: a loopback URL nothing listens on (connection refused).
- ``python tests/faulty_servers.py refresh-hanging-at-commit N`` (see :func:`main`): the service's trust refresh
  (:meth:`TrustState.refresh`, lease included) in a process of its own that stops inside its N-th database
  transaction, after the writes and before the commit, and says so on stdout: the test kills it there.

Every handler runs in a daemon thread and every wait ends when the server stops, so a test never hangs on them.
"""

from __future__ import annotations

import contextlib
import http.server
import random
import re
import socket
import struct
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Fault", "Seen", "FaultProxy", "ListServer", "closed_port_url", "forge_ocsp", "flip_ocsp_signature"]

#: What each fault does. "pass" forwards the request; "slow" waits `delay` seconds, then forwards it; "trickle"
#: answers the real response one byte every `delay` seconds; "reset" closes the connection with a TCP RST;
#: "bad-gateway" is the 502 a proxy gives when the server refuses connections; "http-500" an internal error;
#: "garbage" random bytes with the right content type; "html" a captive-portal page; "truncated" stops half way
#: through the announced body; "ocsp-forged" the genuine OCSP answer re-signed by another country's responder;
#: "ocsp-bad-signature" the genuine OCSP answer with one bit of its signature flipped.
FAULTS = (
    "pass", "slow", "trickle", "reset", "bad-gateway", "http-500", "garbage", "html", "truncated",
    "ocsp-forged", "ocsp-bad-signature",
)  # fmt: skip


@dataclass(frozen=True)
class Fault:
    kind: str
    delay: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in FAULTS:
            raise ValueError(f"unknown fault {self.kind!r}")


PASS = Fault("pass")


@dataclass
class Seen:
    method: str
    url: str
    fault: str
    started: float
    ended: float | None = None


def closed_port_url() -> str:
    """http://127.0.0.1:PORT where nothing listens: connecting is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


class _Stoppable:
    """A threaded HTTP server on 127.0.0.1 run in a daemon thread; `stopping` wakes every waiting handler."""

    handler: type[http.server.BaseHTTPRequestHandler]

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def start(self):
        """Listen (on the port of an earlier start, if any: a server that comes back)."""
        self.stopping = threading.Event()
        server = http.server.ThreadingHTTPServer(("127.0.0.1", self._port), self.handler)
        server.daemon_threads = True
        server.owner = self  # type: ignore[attr-defined]
        self._server = server
        self._port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: connecting is refused from now on."""
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    @property
    def owner(self):
        return self.server.owner  # type: ignore[attr-defined]

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def answer(self, status: int, body: bytes, content_type: str, *, length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True

    def reset(self) -> None:
        """Close with a TCP RST (SO_LINGER 0): the peer sees "connection reset", not a clean end."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.close()

    def trickle(self, status: int, body: bytes, content_type: str, delay: float) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        for i in range(len(body)):
            if self.owner.stopping.wait(delay):
                return
            try:
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
            except OSError:
                return  # the client gave up


# -- the proxy in front of the test PKI ----------------------------------------------------------------------------


class FaultProxy(_Stoppable):
    """An HTTP proxy forwarding to `upstream` (the test PKI's proxy), except where a rule says otherwise.

    Rules are (regular expression on the absolute URL, fault), first match wins; set them with :meth:`faults`.
    """

    def __init__(self, upstream: str):
        super().__init__()
        self.upstream = upstream
        self.rules: list[tuple[re.Pattern[str], Fault]] = []
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self.handler = _ProxyHandler

    @contextlib.contextmanager
    def faults(self, *rules: tuple[str, Fault]) -> Iterator[FaultProxy]:
        """Apply `rules` for the duration of the block, with a fresh request log."""
        with self._lock:
            self.rules = [(re.compile(pattern), fault) for pattern, fault in rules]
            self.seen = []
        try:
            yield self
        finally:
            with self._lock:
                self.rules = []

    def fault_for(self, url: str) -> Fault:
        with self._lock:
            for pattern, fault in self.rules:
                if pattern.search(url):
                    return fault
        return PASS

    def log(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def requested(self, pattern: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if re.search(pattern, s.url)]

    def forward(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> tuple[int, bytes, str]:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": self.upstream}))
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with opener.open(request, timeout=30) as response:
                return response.status, response.read(), response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            return e.code, e.read(), e.headers.get("Content-Type", "")


class _ProxyHandler(_Handler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle()

    def do_POST(self) -> None:  # noqa: N802
        self._handle()

    def _handle(self) -> None:
        proxy: FaultProxy = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        url = self.path
        fault = proxy.fault_for(url)
        seen = Seen(self.command, url, fault.kind, time.monotonic())
        proxy.log(seen)
        try:
            self._respond(proxy, fault, url, body)
        except OSError:  # the client gave up (its timeout) before the answer: what a slow server sees too
            self.close_connection = True
        finally:
            seen.ended = time.monotonic()

    def _respond(self, proxy: FaultProxy, fault: Fault, url: str, body: bytes | None) -> None:
        kind = fault.kind
        wanted = _content_type_for(url)
        if kind == "reset":
            return self.reset()
        if kind == "bad-gateway":
            return self.answer(502, b"<html><body>502 Bad Gateway: connection refused</body></html>", "text/html")
        if kind == "http-500":
            return self.answer(500, b"Internal Server Error", "text/plain")
        if kind == "garbage":
            return self.answer(200, random.Random(url).randbytes(1500), wanted)
        if kind == "html":
            page = b"<!DOCTYPE html><html><head><title>Sign in to the network</title></head><body>Portal</body></html>"
            return self.answer(200, page, "text/html; charset=utf-8")
        if kind == "slow" and proxy.stopping.wait(fault.delay):
            return self.reset()
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "accept", "user-agent")}
        status, data, content_type = proxy.forward(self.command, url, headers, body)
        if kind == "ocsp-forged":
            data = forge_ocsp(data)
        elif kind == "ocsp-bad-signature":
            data = flip_ocsp_signature(data)
        elif kind == "truncated":
            return self.answer(status, data[: len(data) // 2], content_type, length=len(data))
        elif kind == "trickle":
            return self.trickle(status, data, content_type, fault.delay)
        return self.answer(status, data, content_type)


def _content_type_for(url: str) -> str:
    if "/ocsp/" in url:
        return "application/ocsp-response"
    if "/crls/" in url:
        return "application/pkix-crl"
    if "/tsa/" in url:
        return "application/timestamp-reply"
    return "application/pkix-cert"


def forge_ocsp(genuine: bytes, country: str = "it", responder: str = "ocsp-qca") -> bytes:
    """The same answer ("good", same certificate, same times, the request's nonce), signed by another responder
    (by default Italy's, whose certificate comes along): well-formed, plausible, and worthless."""
    from asn1crypto import keys, ocsp
    from certomancer.crypto_utils import generic_sign

    import testpki

    response = ocsp.OCSPResponse.load(genuine)
    basic = response["response_bytes"]["response"].parsed
    cert = testpki.cert(country, responder)
    tbs = basic["tbs_response_data"].copy()
    tbs["responder_id"] = ocsp.ResponderId(name="by_key", value=cert.public_key.sha1)
    key = keys.PrivateKeyInfo.load(testpki.private_key_der(country, responder))
    algorithm = basic["signature_algorithm"]
    forged = ocsp.BasicOCSPResponse(
        {
            "tbs_response_data": tbs,
            "signature_algorithm": algorithm,
            "signature": generic_sign(key, tbs.dump(), algorithm),
            "certs": [cert],
        }
    )
    return _successful(forged)


def flip_ocsp_signature(genuine: bytes) -> bytes:
    """The genuine answer with one bit of its signature flipped."""
    from asn1crypto import ocsp

    response = ocsp.OCSPResponse.load(genuine)
    basic = response["response_bytes"]["response"].parsed
    signature = bytearray(basic["signature"].native)
    signature[len(signature) // 2] ^= 0x01
    altered = ocsp.BasicOCSPResponse(
        {
            "tbs_response_data": basic["tbs_response_data"].copy(),
            "signature_algorithm": basic["signature_algorithm"].copy(),
            "signature": bytes(signature),
            "certs": basic["certs"].copy(),
        }
    )
    return _successful(altered)


def _successful(basic) -> bytes:
    from asn1crypto import ocsp

    body = {"response_type": "basic_ocsp_response", "response": basic}
    return ocsp.OCSPResponse({"response_status": "successful", "response_bytes": body}).dump()


# -- trusted lists over HTTP ---------------------------------------------------------------------------------------


class ListServer(_Stoppable):
    """The files of `folder` over HTTP. ``faults[name]`` misbehaves for one file ("slow", "trickle", "http-500",
    "reset"); :meth:`requested` is an event set when a file is asked for; :meth:`stop` makes the server refuse
    connections and :meth:`start` brings it back on the same port."""

    def __init__(self, folder: Path):
        super().__init__()
        self.folder = folder
        self.faults: dict[str, Fault] = {}
        self.handler = _ListHandler
        self._asked: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def requested(self, name: str) -> threading.Event:
        with self._lock:
            return self._asked.setdefault(name, threading.Event())


class _ListHandler(_Handler):
    def do_GET(self) -> None:  # noqa: N802
        lists: ListServer = self.owner
        name = self.path.rsplit("/", 1)[-1]
        lists.requested(name).set()
        fault = lists.faults.get(name, PASS)
        path = lists.folder / name
        if fault.kind == "reset":
            return self.reset()
        if fault.kind == "http-500":
            return self.answer(500, b"Internal Server Error", "text/plain")
        if not path.is_file():
            return self.answer(404, b"Not Found", "text/plain")
        data = path.read_bytes()
        if fault.kind == "slow" and lists.stopping.wait(fault.delay):
            return self.reset()
        if fault.kind == "trickle":
            return self.trickle(200, data, "application/vnd.etsi.tsl+xml", fault.delay)
        return self.answer(200, data, "application/vnd.etsi.tsl+xml")


# -- a trust refresh to kill ---------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    """``refresh-hanging-at-commit N LISTS_DIR``: run the service's refresh of the demo source of LISTS_DIR into
    TRUSTSVC_DATABASE_URL as the lease holder "doomed", and stop inside its N-th transaction (writes flushed, not
    committed), printing ``HANGING <n>`` (0: never; run to the end and print ``DONE <snapshot id>``)."""
    command, hang_at, lists_dir = argv
    assert command == "refresh-hanging-at-commit"
    from datetime import datetime, timedelta, timezone

    from sqlalchemy.orm import Session

    from trustsvc.db import make_engine, migrate
    from trustsvc.service.trust_state import TrustState
    from trustsvc.settings import get_settings
    from trustsvc.trust.sources import load_sources
    from trustsvc.trust.store import TrustStore

    commits = 0
    original_commit = Session.commit

    def commit(self: Session) -> None:
        nonlocal commits
        self.flush()
        commits += 1
        if commits == int(hang_at):
            print(f"HANGING {commits}", flush=True)
            time.sleep(600)  # killed here
        original_commit(self)

    Session.commit = commit  # type: ignore[method-assign]
    sources, _ = load_sources(Path(lists_dir))
    engine = make_engine(get_settings().database_url)
    migrate(engine)
    state = TrustState(TrustStore(engine), sources["demo"], holder="doomed")
    result = state.refresh(datetime.now(timezone.utc), lease_for=timedelta(minutes=10))
    print(f"DONE after {commits} transactions: snapshot {result.snapshot_id}, {result.message}", flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "certs"))
    sys.exit(main(sys.argv[1:]))
