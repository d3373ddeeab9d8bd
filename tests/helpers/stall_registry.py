"""A tiny read-only registry on loopback that can hold one blob half-sent, for worker-kill tests.

It serves built images (``/v2/``, manifests by tag or digest, blobs) over plain HTTP; while
``stalling`` is set, a GET of the ``stall_digest`` blob sends half the bytes and then waits, so a
worker is reliably caught in the middle of a scan. The real registry (``tests/helpers/
registry.py``) cannot be paused mid-blob, which is the only reason this exists.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.helpers.images import BuiltImage

_PATH = re.compile(r"^/v2/(?P<repo>.+)/(?P<kind>manifests|blobs)/(?P<ref>[^/]+)$")


class StallRegistry:
    """Serve ``images`` (repository -> tag -> image) on 127.0.0.1 until :meth:`stop`."""

    def __init__(self, images: dict[str, dict[str, BuiltImage]]) -> None:
        self.images = images
        self.stall_digest: str | None = None
        self.stalling = threading.Event()
        self.blob_requests: Counter[str] = Counter()
        self._stopped = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``."""
        return f"127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> StallRegistry:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self.stalling.clear()
        self._server.shutdown()
        self._server.server_close()

    def _manifest(self, repo: str, ref: str) -> BuiltImage | None:
        tags = self.images.get(repo, {})
        return tags.get(ref) or next((i for i in tags.values() if i.digest == ref), None)

    def _blob(self, digest: str) -> bytes | None:
        for tags in self.images.values():
            for image in tags.values():
                if digest in image.blobs:
                    return image.blobs[digest]
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                self._serve(body=False)

            def do_GET(self) -> None:
                self._serve(body=True)

            def _send(self, status: int, data: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for key, value in {**headers, "Content-Length": str(len(data))}.items():
                    self.send_header(key, value)
                self.end_headers()

            def _serve(self, body: bool) -> None:
                if self.path == "/v2/":
                    self._send(200, b"{}", {"Docker-Distribution-API-Version": "registry/2.0"})
                    if body:
                        self.wfile.write(b"{}")
                    return
                found = _PATH.match(self.path)
                if found is None:
                    return self._send(404, b"", {})
                repo, kind, ref = found["repo"], found["kind"], found["ref"]
                if kind == "manifests":
                    image = registry._manifest(repo, ref)
                    if image is None:
                        return self._send(404, b"", {})
                    self._send(200, image.manifest, {"Content-Type": image.media_type,
                                                     "Docker-Content-Digest": image.digest})
                    if body:
                        self.wfile.write(image.manifest)
                    return None
                return self._serve_blob(ref, body)

            def _serve_blob(self, digest: str, body: bool) -> None:
                data = registry._blob(digest)
                if data is None:
                    return self._send(404, b"", {})
                registry.blob_requests[digest] += 1
                self._send(200, data, {"Content-Type": "application/octet-stream",
                                       "Docker-Content-Digest": digest})
                if not body:
                    return None
                half = len(data) // 2
                self.wfile.write(data[:half])
                self.wfile.flush()
                while (digest == registry.stall_digest and registry.stalling.is_set()
                       and not registry._stopped.is_set()):
                    time.sleep(0.05)
                with contextlib.suppress(OSError):  # the worker was killed while we waited
                    self.wfile.write(data[half:])
                return None

        return Handler
