"""The emulator on a real socket: the standard library's threaded HTTP/1.1 server on loopback.

`http.server` parses requests and runs one thread per connection; connections are kept
alive (Werkzeug's development server, tried first, closes every connection, which capped
the emulator below Prism's throughput: bench/README.md). The Batch routing table is the
spec itself (`OperationIndex`), so the handler only converts between the socket and
`Service`'s value objects. `Emulator` is the Python API behind the `batch_emulator` fixture and the
`pytest-batch emulator` command: start it (thread or foreground), point a client at
`endpoint` with `account`/`key`, stop it.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ..interaction import Headers, Interaction
from ..spec import SpecLibrary
from .clock import Clock
from .faults import Fault, FaultPlan
from .service import HttpRequest, HttpResponse, Service, ServiceConfig
from .state import State, Timing

DEFAULT_ACCOUNT = "emulator"


def default_key(account: str) -> str:
    """A stable, valid base64 key derived from the account name (not a secret: it is public)."""
    return base64.b64encode(hashlib.sha512(f"pytest-batch emulator {account}".encode()).digest()).decode("ascii")


def _read_chunked(stream: Any, limit: int) -> bytes:
    """A `Transfer-Encoding: chunked` request body (RFC 9112 7.1); stops reading past `limit`."""
    body = bytearray()
    while True:
        size_line = stream.readline(1026)
        try:
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        except ValueError:
            raise ConnectionResetError("malformed chunk size") from None
        if size == 0:
            while stream.readline(1026) not in (b"\r\n", b"\n", b""):
                pass  # trailer fields
            return bytes(body)
        body += stream.read(size)
        stream.readline(3)
        if len(body) > limit:
            return bytes(body)


def handler_class(service: Service, tap: Callable[[Interaction], None] | None = None) -> type:
    """The request handler class that serves `service`; `tap` sees every exchange as an `Interaction`.

    `http.server` parses the request line and headers; HTTP/1.1 keeps connections alive
    (clients such as azure-core reuse them), and each answer goes out in one write.
    """
    class BatchRequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "pytest-batch-emulator"
        sys_version = ""
        disable_nagle_algorithm = True

        def handle_one_request(self) -> None:
            try:
                super().handle_one_request()
            except ConnectionError:
                self.close_connection = True

        def _serve(self) -> None:
            raw = self.path
            if "://" in raw:  # absolute-form request target (proxies)
                raw = "/" + raw.split("://", 1)[1].partition("/")[2]
            path, _, query = raw.partition("?")
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                body = _read_chunked(self.rfile, service.config.max_body)
            else:
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    length = -1
                if length < 0:
                    self.send_error(400, "Content-Length is not a number")
                    return
                body = self.rfile.read(length) if length else b""
            incoming = HttpRequest(self.command, path or "/", query, tuple(self.headers.items()), body)
            answer = service.handle(incoming)
            if tap is not None and not answer.drop:
                tap(exchange(service, incoming, answer))
            if answer.latency:
                time.sleep(answer.latency)
            if answer.drop:
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            lines = [f"HTTP/1.1 {answer.status} {_reason(answer.status)}", f"Date: {self.date_time_string()}"]
            lines += [f"{name}: {value}" for name, value in answer.headers]
            if (self.headers.get("Connection") or "").lower() == "close":
                self.close_connection = True
                lines.append("Connection: close")
            head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
            self.wfile.write(head + answer.body if answer.body else head)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve

        def log_message(self, format: str, *args: Any) -> None:
            logging.getLogger("pytest_batch.emulator").debug("%s " + format, self.address_string(), *args)

    return BatchRequestHandler


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def exchange(service: Service, request: HttpRequest, response: HttpResponse) -> Interaction:
    """One request and its answer as the project's `Interaction` (for taps and self-checks)."""
    url = f"{service.base_url}{request.path}" + (f"?{request.query}" if request.query else "")
    return Interaction(
        method=request.method,
        url=url,
        request_headers=Headers.of(request.headers),
        request_body=request.body,
        status=response.status,
        response_headers=Headers.of(response.headers),
        response_body=response.body,
    )


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a kept-alive idle connection must not block stop()
    request_queue_size = 128
    allow_reuse_address = True


class _Unbound:
    """Placeholder handler until the service exists (replaced in `bind` before serving)."""


class Emulator:
    """An emulated Batch account served on loopback.

    >>> with Emulator(account="test") as batch:            # doctest: +SKIP
    ...     client = BatchClient(batch.endpoint, batch.credential())
    """

    def __init__(
        self,
        *,
        account: str = DEFAULT_ACCOUNT,
        key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
        timing: Timing | None = None,
        bearer: Callable[[str], bool] | None = None,
        faults: tuple[Fault, ...] = (),
        validate_requests: bool = True,
        library: SpecLibrary | None = None,
        tap: Callable[[Interaction], None] | None = None,
    ) -> None:
        if not account or not account.replace("-", "").isalnum():
            raise ValueError(f"account name {account!r}: use letters and digits (the name in the Batch URL)")
        key = key if key is not None else default_key(account)
        try:
            base64.b64decode(key, validate=True)
        except ValueError:
            raise ValueError("key: the account key must be base64 (as Azure issues it)") from None
        self.account = account
        self.key = key
        self.host = host
        self._requested_port = port
        self._config = ServiceConfig(
            account=account,
            key=key,
            bearer=bearer,
            clock=clock,
            timing=timing if timing is not None else Timing(),
            validate_requests=validate_requests,
        )
        self._library = library
        self._initial_faults = faults
        self._tap = tap
        self._server = None
        self._thread: threading.Thread | None = None
        self.service: Service | None = None

    # -- life cycle ---------------------------------------------------------------

    def start(self) -> Emulator:
        """Bind the port and serve from a daemon thread; returns self."""
        if self._server is None:
            self.bind()
        # a short poll interval: stop() waits at most this long for the serving loop to notice
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="batch-emulator", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (Ctrl-C), then release the port."""
        if self._server is None:
            self.bind()
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()
            self._server = None

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def bind(self) -> None:
        """Open the listening socket (raises OSError when the port is taken) without serving yet."""
        if self._server is not None:
            raise RuntimeError("this emulator is already running")
        server = _Server((self.host, self._requested_port), _Unbound, bind_and_activate=True)
        port = server.server_address[1]
        # bound first so the service knows its own URL (DataServiceId, odata.metadata)
        self.service = Service(self._config, base_url=f"http://{self.host}:{port}", library=self._library)
        for fault in self._initial_faults:
            self.service.faults.add(fault)
        server.RequestHandlerClass = handler_class(self.service, self._tap)
        self._server = server

    # -- what tests use --------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return self._server.server_address[1]

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def state(self) -> State:
        return self._running().state

    @property
    def faults(self) -> FaultPlan:
        return self._running().faults

    def advance(self, seconds: float) -> None:
        """Move the emulator's `ManualClock` forward and apply what became due."""
        self._running().advance(seconds)

    def credential(self) -> Any:
        """An `AzureNamedKeyCredential` for this account (needs azure-core)."""
        from azure.core.credentials import AzureNamedKeyCredential

        return AzureNamedKeyCredential(self.account, self.key)

    def client(self, **kwargs: Any) -> Any:
        """An `azure.batch.BatchClient` wired to this emulator (needs azure-batch)."""
        from azure.batch import BatchClient

        return BatchClient(self.endpoint, self.credential(), **kwargs)

    def _running(self) -> Service:
        if self.service is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return self.service
