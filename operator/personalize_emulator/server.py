"""The HTTP layer: a ThreadingHTTPServer that hands requests to the service or the admin API.

HTTP/1.1 with keep-alive, as boto3's connection pool expects. Latency and
dropped connections are carried out here, since only this layer owns the
socket. Request lines are logged at DEBUG; bodies (which carry trackingIds)
never are.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from personalize_emulator import admin, errors, protocol
from personalize_emulator.clock import Clock
from personalize_emulator.config import EmulatorConfig
from personalize_emulator.protocol import Protocol, Response
from personalize_emulator.service import Request, Service

log = logging.getLogger(__name__)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "personalize-emulator"
    timeout = 300  # an idle keep-alive connection is closed after this many seconds
    server: _HttpServer

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def _serve(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.send_error(400, "bad Content-Length")
            return
        body = self.rfile.read(length) if length > 0 else b""
        path = self.path.split("?", 1)[0]
        try:
            if admin.is_admin(path):
                response = admin.handle(self.server.service, self.command, path, body)
            else:
                headers = {name.lower(): value for name, value in self.headers.items()}
                response = self.server.service.handle(Request(self.command, path, headers, body))
        except Exception:  # an emulator bug answers like AWS's 500 rather than cutting the connection
            log.exception("%s %s failed", self.command, path)
            response = protocol.failure(Protocol.JSON, errors.internal_failure())
        if response.delay and self.server.stopping.wait(response.delay):
            response.drop = True  # the server is stopping: do not answer late
        if response.drop:
            self._drop()
            return
        self._send(response)

    def setup(self) -> None:
        super().setup()
        # Small answers go out at once: no Nagle delay against the client's delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def _drop(self) -> None:
        """Reset the connection without an answer, as a failing load balancer would."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], service: Service) -> None:
        self.service = service
        self.stopping = threading.Event()
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        """Cut keep-alive connections, so a stopped emulator really stops answering."""
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _HttpServer6(_HttpServer):
    address_family = socket.AF_INET6


class EmulatorServer:
    """The emulator bound to a port: `start()` serves in a thread, `serve_forever()` in this one."""

    def __init__(self, config: EmulatorConfig, *, clock: Clock | None = None) -> None:
        self.config = config
        self.service = Service(config, clock=clock)
        server_class = _HttpServer6 if ":" in config.host else _HttpServer
        self._http = server_class((config.host, config.port), self.service)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._http.server_address[1])

    @property
    def endpoint(self) -> str:
        """The URL clients use; a wildcard bind address is reached through loopback."""
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.config.host, self.config.host)
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def serve_forever(self) -> None:
        try:
            self._http.serve_forever(poll_interval=0.1)
        finally:
            self._close()

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.name = f"personalize-emulator-{self.port}"
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._http.stopping.set()
            self._http.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._close()

    def _close(self) -> None:
        self._http.stopping.set()
        self._http.close_open_connections()
        self._http.server_close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
