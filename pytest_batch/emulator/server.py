"""The emulator on a real socket: Werkzeug's threaded WSGI server on loopback.

Werkzeug (Pallets) parses HTTP/1.1, keeps connections alive and runs one thread per
connection; the Batch routing table is the spec itself (`OperationIndex`), so the WSGI
application only converts between Werkzeug's request/response and `Service`'s value
objects. `Emulator` is the Python API behind the `batch_emulator` fixture and the
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


def wsgi_app(service: Service, tap: Callable[[Interaction], None] | None = None) -> Callable:
    """The WSGI application that serves `service`; `tap` sees every exchange as an `Interaction`."""
    from werkzeug.wrappers import Request, Response

    def app(environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.full_path
        if "://" in raw:  # absolute-form request target (proxies)
            raw = "/" + raw.split("://", 1)[1].partition("/")[2]
        path, _, query = raw.partition("?")
        incoming = HttpRequest(
            method=request.method,
            path=path or "/",
            query=query,
            headers=tuple(request.headers.items()),
            body=request.get_data(cache=False),
        )
        answer = service.handle(incoming)
        if tap is not None and not answer.drop:
            tap(exchange(service, incoming, answer))
        if answer.latency:
            time.sleep(answer.latency)
        if answer.drop:
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            raise ConnectionResetError("connection dropped by an injected fault")
        response = Response(answer.body, status=answer.status)
        response.headers.clear()
        for name, value in answer.headers:
            response.headers.add(name, value)
        response.automatically_set_content_length = False
        return response(environ, start_response)

    return app


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


def _quiet_handler():
    from werkzeug.serving import WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        """Access lines go to the `pytest_batch.emulator` logger at DEBUG, not to stderr."""

        def log_request(self, code: Any = "-", size: Any = "-") -> None:
            logging.getLogger("pytest_batch.emulator").debug('"%s" %s %s', self.requestline, code, size)

        def log_error(self, format: str, *args: Any) -> None:
            logging.getLogger("pytest_batch.emulator").debug(format, *args)

    return QuietHandler


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
        from werkzeug.serving import make_server

        if self._server is not None:
            raise RuntimeError("this emulator is already running")
        # Bind our own socket: Werkzeug reports a taken port by exiting the process, a library
        # must raise instead. Bound first so the service knows its own URL (DataServiceId).
        listener = socket.create_server((self.host, self._requested_port), backlog=128)
        try:
            server = make_server(
                self.host,
                listener.getsockname()[1],
                lambda environ, start_response: [],
                threaded=True,
                request_handler=_quiet_handler(),
                fd=listener.fileno(),
            )
        finally:
            listener.close()  # Werkzeug works on its own duplicate of the descriptor
        port = server.server_address[1]
        self.service = Service(self._config, base_url=f"http://{self.host}:{port}", library=self._library)
        for fault in self._initial_faults:
            self.service.faults.add(fault)
        server.app = wsgi_app(self.service, self._tap)
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
