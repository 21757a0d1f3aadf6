"""Loopback proxies that let a test cut a process off, or see exactly which process called AWS.

`TcpProxy` relays bytes (TLS passes through untouched) to a target port; `stop()` closes the
listener and every open connection, so the client sees "connection refused", as with an API
server that is down; `start()` listens again on the same port. `RecordingProxy` forwards HTTP
to the Personalize emulator and writes down each call's operation and wall-clock time, so two
operator processes sharing one emulator can be told apart by their endpoints.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from local_cluster.processes import free_port


@dataclass
class TcpProxy:
    """127.0.0.1:<port> -> target_host:target_port, switchable off and on."""

    target_host: str
    target_port: int
    port: int = field(default_factory=free_port)
    _listener: socket.socket | None = None
    _connections: list[socket.socket] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> TcpProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone would not
            listener.close()
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                downstream, _ = listener.accept()
            except OSError:
                return  # stopped
            try:
                upstream = socket.create_connection((self.target_host, self.target_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                downstream.close()
                continue
            with self._lock:
                self._connections += [downstream, upstream]
            for source, sink in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)


def kubeconfig_through(kubeconfig: Path, proxy: TcpProxy, destination: Path) -> Path:
    """A copy of the kubeconfig whose server is the proxy (same host name, so TLS still verifies)."""
    document: dict[str, Any] = yaml.safe_load(kubeconfig.read_text())
    for cluster in document["clusters"]:
        server = urllib.parse.urlsplit(cluster["cluster"]["server"])
        cluster["cluster"]["server"] = server._replace(netloc=f"{server.hostname}:{proxy.port}").geturl()
    destination.write_text(yaml.safe_dump(document))
    return destination


def api_server_address(kubeconfig: Path) -> tuple[str, int]:
    document: dict[str, Any] = yaml.safe_load(kubeconfig.read_text())
    server = urllib.parse.urlsplit(document["clusters"][0]["cluster"]["server"])
    return server.hostname or "127.0.0.1", server.port or 443


class QuietServer(ThreadingHTTPServer):
    """A client killed mid-request (the point of these tests) is not an error worth a traceback."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@dataclass(frozen=True)
class Call:
    operation: str
    at: float  # time.time() when the request arrived


class RecordingProxy:
    """An AWS endpoint for one process: forwards to the emulator, records every operation."""

    def __init__(self, target: str) -> None:
        self.target = urllib.parse.urlsplit(target)
        self.calls: list[Call] = []
        proxy = self

        class Forward(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self._forward("POST")

            def do_GET(self) -> None:
                self._forward("GET")

            def _forward(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = str(self.headers.get("X-Amz-Target") or "")
                proxy.calls.append(Call(operation=target.rsplit(".", 1)[-1] or self.path, at=time.time()))
                upstream = http.client.HTTPConnection(proxy.target.hostname, proxy.target.port, timeout=60)
                try:
                    headers = {key: value for key, value in self.headers.items() if key.lower() != "host"}
                    upstream.request(method, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    payload = answer.read()
                finally:
                    upstream.close()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = QuietServer(("127.0.0.1", 0), Forward)
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def operations(self, *, since: float = 0.0) -> list[str]:
        return [call.operation for call in list(self.calls) if call.at >= since]

    def first_call(self) -> float | None:
        calls = list(self.calls)
        return min((call.at for call in calls), default=None)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
