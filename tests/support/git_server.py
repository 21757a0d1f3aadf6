"""A Git repository served over git's smart HTTP on 127.0.0.1, for Argo CD and Flux to sync from.

Why smart HTTP and not `git daemon`: Flux's GitRepository accepts only http(s) and ssh URLs.
git's own `git http-backend` answers every request (a CGI program); this module only
passes the request to it and its answer back, so the protocol is git's, not ours.
"""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

HTTP_BACKEND = ("git", "http-backend")
AUTHOR = {
    "GIT_AUTHOR_NAME": "personalize-operator tests",
    "GIT_AUTHOR_EMAIL": "tests@personalize-operator.invalid",
    "GIT_COMMITTER_NAME": "personalize-operator tests",
    "GIT_COMMITTER_EMAIL": "tests@personalize-operator.invalid",
}


def cgi_environment(handler: http.server.BaseHTTPRequestHandler, root: Path, length: int) -> dict[str, str]:
    """The CGI variables git http-backend reads (RFC 3875), for one request."""
    path, _, query = handler.path.partition("?")
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_PROJECT_ROOT": str(root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "REQUEST_METHOD": handler.command,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_TYPE": handler.headers.get("Content-Type", ""),
        "CONTENT_LENGTH": str(length),
        "HTTP_CONTENT_ENCODING": handler.headers.get("Content-Encoding", ""),
        "HTTP_GIT_PROTOCOL": handler.headers.get("Git-Protocol", ""),
        "REMOTE_ADDR": handler.client_address[0],
        "SERVER_PROTOCOL": handler.request_version,
    }


def split_cgi_answer(answer: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) of a CGI program's output; Status defaults to 200."""
    head, _, body = answer.partition(b"\r\n\r\n")
    if not body and b"\n\n" in answer:
        head, _, body = answer.partition(b"\n\n")
    status, headers = 200, []
    for line in head.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.strip().split()[0])
        elif name:
            headers.append((name, value.strip()))
    return status, headers, body


def _handler(root: Path) -> type[http.server.BaseHTTPRequestHandler]:
    class GitHandler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._backend(b"")

        def do_POST(self) -> None:
            self._backend(self._body())

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                self.rfile.readline()
                return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _backend(self, body: bytes) -> None:
            done = subprocess.run(
                HTTP_BACKEND, input=body, capture_output=True, env=cgi_environment(self, root, len(body)), check=False
            )
            status, headers, payload = split_cgi_answer(done.stdout)
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the engines' own logs say what they fetched."""

    return GitHandler


@dataclass
class GitServer:
    """Repositories under `root`, each a work tree tests commit to, served at http://127.0.0.1:<port>/<name>."""

    root: Path
    server: http.server.ThreadingHTTPServer | None = None
    thread: threading.Thread | None = field(default=None, repr=False)

    def __enter__(self) -> GitServer:
        self.root.mkdir(parents=True, exist_ok=True)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.root))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def url(self, name: str) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/{name}"

    def repository(self, name: str) -> Repository:
        repo = Repository(self.root / name)
        repo.init()
        return repo


@dataclass
class Repository:
    """A work tree on branch main; each `commit` is what the engines see next."""

    path: Path

    def git(self, *args: str) -> str:
        env = {**os.environ, **AUTHOR, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(self.path)}
        done = subprocess.run(["git", *args], cwd=self.path, env=env, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    def init(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        self.git("init", "--quiet", "--initial-branch=main")

    def write(self, relative: str, text: str) -> None:
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def copy(self, source: Path, relative: str) -> None:
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)

    def remove(self, relative: str) -> None:
        (self.path / relative).unlink()

    def commit(self, message: str) -> str:
        """Commit everything in the work tree; returns the new revision."""
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")
