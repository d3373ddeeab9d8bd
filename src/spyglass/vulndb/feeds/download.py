"""Conditional, all-or-nothing downloads of a feed's files into its cache folder.

Each file is streamed to ``<name>.part`` and renamed over the cached copy only when the body
arrived whole (httpx checks Content-Length; we check it again), so an interrupted download
leaves the previous file and the previous data in place. A 304 answer reuses the cached copy.
When every file is unchanged - by 304, or by the same content hash - the fetch is "unchanged".
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

import httpx

from spyglass.errors import FeedError
from spyglass.vulndb.feeds.interface import Feed, Fetched, FetchState, Progress, Target, Validator

_CHUNK = 1 << 16


def local_path(source: str) -> Path | None:
    """The local path a source names (``file://`` URL or plain path), ``None`` for http(s)."""
    parsed = urlparse(source)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme in ("http", "https"):
        return None
    return Path(source)


def fingerprint(path: Path) -> str:
    """sha256 of a file's bytes, or of a folder's (name, size, mtime) listing - cheap for
    folders of thousands of records, and it changes whenever a record does."""
    digest = hashlib.sha256()
    if path.is_file():
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                digest.update(chunk)
        return "sha256:" + digest.hexdigest()
    for item in sorted(p for p in path.rglob("*") if p.is_file()):
        stat = item.stat()
        digest.update(f"{item.relative_to(path)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return "sha256:" + digest.hexdigest()


def fetch_targets(
    feed: Feed, cache: Path, previous: FetchState, client: httpx.Client, progress: Progress | None
) -> Fetched:
    """Fetch every target of ``feed``; see the module docstring for the guarantees."""
    targets = feed.targets()
    if len(targets) == 1 and (local := local_path(targets[0].source)) is not None:
        return _local(feed, local, previous)
    cache.mkdir(parents=True, exist_ok=True)
    reparse = previous.version != feed.version
    validators: dict[str, Validator] = {}
    changed, downloaded = False, 0
    for target in targets:
        old = None if reparse else previous.validators.get(target.source)
        got, validator = _download(client, target, cache / target.filename, old, progress)
        validators[target.source] = validator
        changed, downloaded = changed or got > 0, downloaded + got
    _drop_others(cache, {t.filename for t in targets})
    path = cache / targets[0].filename if len(targets) == 1 else cache
    content_hash = _hash_files(cache, targets)
    state = FetchState(feed.version, validators, content_hash)
    if not reparse and (not changed or content_hash == previous.content_hash):
        return Fetched(None, state, feed.source, downloaded)
    return Fetched(path, state, feed.source, downloaded)


def _drop_others(cache: Path, keep: set[str]) -> None:
    # A release dropped from the configuration must not linger in the folder that is parsed.
    for item in cache.iterdir():
        if item.is_file() and item.name not in keep:
            item.unlink()


def _local(feed: Feed, path: Path, previous: FetchState) -> Fetched:
    if not path.exists():
        raise FeedError(
            f"feed {feed.name}: {path} does not exist; check {feed.env_var()} or the source"
        )
    content_hash = fingerprint(path)
    state = FetchState(feed.version, {}, content_hash)
    if previous.version == feed.version and previous.content_hash == content_hash:
        return Fetched(None, state, str(path))
    return Fetched(path, state, str(path))


def _hash_files(cache: Path, targets: list[Target]) -> str:
    digest = hashlib.sha256()
    for target in targets:
        digest.update(fingerprint(cache / target.filename).encode())
    return "sha256:" + digest.hexdigest()


def _headers(old: Validator | None, dest: Path) -> dict[str, str]:
    # Validators are only worth sending while the copy they describe is still on disk.
    if old is None or not dest.exists():
        return {}
    headers = {}
    if old.etag:
        headers["If-None-Match"] = old.etag
    if old.last_modified:
        headers["If-Modified-Since"] = old.last_modified
    return headers


def _download(
    client: httpx.Client,
    target: Target,
    dest: Path,
    old: Validator | None,
    progress: Progress | None,
) -> tuple[int, Validator]:
    """(bytes received, new validator); 0 bytes means the cached copy is current."""
    try:
        with client.stream("GET", target.source, headers=_headers(old, dest)) as response:
            if response.status_code == 304 and old is not None:
                return 0, old
            if response.status_code != 200:
                raise FeedError(
                    f"{target.source} answered HTTP {response.status_code}; check the feed URL"
                )
            size = _save(response, dest, progress)
            validator = Validator(
                response.headers.get("etag"), response.headers.get("last-modified")
            )
            return size, validator
    except httpx.HTTPError as exc:
        raise FeedError(
            f"downloading {target.source} failed ({exc}); the previous data stays"
        ) from exc


def _save(response: httpx.Response, dest: Path, progress: Progress | None) -> int:
    expected = response.headers.get("content-length")
    total = int(expected) if expected and expected.isdigit() else None
    part = dest.with_name(dest.name + ".part")
    received = 0
    try:
        with part.open("wb") as fh:
            for chunk in response.iter_bytes(_CHUNK):
                fh.write(chunk)
                # Content-Length counts the bytes on the wire (before any Content-Encoding).
                received = response.num_bytes_downloaded
                if progress:
                    progress(received, total)
        if total is not None and received != total:
            raise FeedError(
                f"{response.url} sent {received} of {total} bytes; the previous data stays; retry"
            )
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)
    return received
