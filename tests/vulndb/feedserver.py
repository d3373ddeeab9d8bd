"""A loopback HTTP server laid out like a feed bucket, with validators and breakable bodies.

Serves files under ``root`` with ``ETag`` (content hash) and ``Last-Modified`` (mtime), answers
conditional requests with 304, and counts requests and body bytes. ``break_next`` makes the next
200 answer fail: ``"close"`` sends half the body then closes the connection, ``"short"``
announces half the length and sends it (a whole but truncated file).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote


class FeedServer:
    """State shared with the request handler; see the module docstring."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[tuple[str, int]] = []
        self.body_bytes = 0
        self.break_next: str | None = None
        self.url = ""

    @property
    def statuses(self) -> list[int]:
        """The status of every request so far."""
        return [status for _, status in self.requests]


def _handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path = server.root / unquote(self.path.lstrip("/"))
            if not path.is_file():
                return self._answer(404, b"not found")
            body = path.read_bytes()
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            modified = formatdate(int(path.stat().st_mtime), usegmt=True)
            if self._not_modified(etag, path):
                return self._answer(304, b"", {"ETag": etag, "Last-Modified": modified})
            self._answer(200, body, {"ETag": etag, "Last-Modified": modified})

        def _not_modified(self, etag: str, path: Path) -> bool:
            if (match := self.headers.get("If-None-Match")) is not None:
                return match == etag
            since = self.headers.get("If-Modified-Since")
            return since is not None and parsedate_to_datetime(since).timestamp() >= int(
                path.stat().st_mtime
            )

        def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            server.requests.append((self.path, status))
            mode, server.break_next = (
                (server.break_next, None) if status == 200 else (None, server.break_next)
            )
            half = body[: len(body) // 2]
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            length = len(half) if mode == "short" else len(body)
            if status != 304:
                self.send_header("Content-Length", str(length))
            self.end_headers()
            sent = half if mode in ("close", "short") else body
            if status != 304:
                self.wfile.write(sent)
                server.body_bytes += len(sent)
            if mode == "close":
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)

    return Handler


@contextmanager
def serve(root: Path) -> Iterator[FeedServer]:
    """Run a :class:`FeedServer` for ``root`` on 127.0.0.1 (a free port) while in the block."""
    state = FeedServer(root)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
