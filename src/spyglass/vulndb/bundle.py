"""Offline bundles: the stored, normalised feeds as one ``.tar.gz`` to carry to another store.

Layout: ``metadata.json`` (format, version, creation time, and per feed its name, plugin
version, record count, refresh time, source and content hash) and one ``feeds/NNN.jsonl``
per feed, each line ``{"advisory": {…}}``, ``{"affected": {…}}`` or ``{"exploited": {…}}``.
Import reads and checks the whole bundle before it replaces anything, then replaces each
feed in its own transaction (as ``db update`` does).
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from spyglass.errors import FeedError
from spyglass.vulndb.feeds.interface import FetchState
from spyglass.vulndb.model import Advisory, Affected, Exploited, FeedData
from spyglass.vulndb.store import FeedStatus, VulnStore

FORMAT = "spyglass-vulndb-bundle"
FORMAT_VERSION = 1


def export_bundle(store: VulnStore, path: Path, feeds: Iterable[str] = ()) -> list[FeedStatus]:
    """Write the chosen (default: all) stored feeds to ``path``; returns what was written."""
    wanted = set(feeds)
    chosen = [f for f in store.feeds() if not wanted or f.name in wanted]
    missing = wanted - {f.name for f in chosen}
    if missing:
        raise FeedError(f"not in the store: {', '.join(sorted(missing))}; run `spyglass db update`")
    meta: dict[str, Any] = {"format": FORMAT, "version": FORMAT_VERSION, "feeds": []}
    try:
        with tarfile.open(path, "w:gz") as tar:
            for index, status in enumerate(chosen):
                member = f"feeds/{index:03d}.jsonl"
                _add(tar, member, _jsonl(store.feed_data(status.name)))
                meta["feeds"].append({**_describe(status), "file": member})
            _add(tar, "metadata.json", json.dumps(meta, indent=2).encode())
    except OSError as exc:
        raise FeedError(f"cannot write bundle {path} ({exc})") from exc
    return chosen


def import_bundle(store: VulnStore, path: Path) -> list[tuple[str, int]]:
    """Load every feed of the bundle at ``path`` into the store; returns (feed, records)."""
    loaded = read_bundle(path)
    for entry, data in loaded:
        state = FetchState(entry["version"], {}, entry.get("content_hash", ""))
        store.replace(entry["name"], data, state, f"bundle:{path.name} ({entry.get('source', '')})")
    return [(entry["name"], data.records) for entry, data in loaded]


def read_bundle(path: Path) -> list[tuple[dict[str, Any], FeedData]]:
    """Parse and check a whole bundle; ``FeedError`` when it is not one or is damaged."""
    try:
        with tarfile.open(path, "r:*") as tar:
            meta = json.loads(_read(tar, "metadata.json"))
            if meta.get("format") != FORMAT or meta.get("version") != FORMAT_VERSION:
                raise FeedError(f"{path} is not a version {FORMAT_VERSION} Spyglass bundle")
            return [(entry, _parse(_read(tar, entry["file"]))) for entry in meta["feeds"]]
    except (OSError, tarfile.TarError, EOFError, ValueError, KeyError, TypeError) as exc:
        raise FeedError(f"bundle {path} cannot be read ({type(exc).__name__}: {exc})") from exc


def _describe(status: FeedStatus) -> dict[str, Any]:
    return {
        "name": status.name,
        "version": status.version,
        "records": status.records,
        "refreshed_at": status.refreshed_at,
        "source": status.source,
        "content_hash": status.content_hash,
    }


def _jsonl(data: FeedData) -> bytes:
    lines = [{"advisory": a.to_dict()} for a in data.advisories]
    lines += [{"affected": a.to_dict()} for a in data.affected]
    lines += [{"exploited": e.to_dict()} for e in data.exploited]
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()


def _parse(raw: bytes) -> FeedData:
    advisories, affected, exploited = [], [], []
    for line in raw.decode().splitlines():
        item = json.loads(line)
        if "advisory" in item:
            advisories.append(Advisory.from_dict(item["advisory"]))
        elif "affected" in item:
            affected.append(Affected.from_dict(item["affected"]))
        else:
            exploited.append(Exploited.from_dict(item["exploited"]))
    return FeedData(tuple(advisories), tuple(affected), tuple(exploited))


def _add(tar: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(payload), int(time.time()), 0o644
    tar.addfile(info, io.BytesIO(payload))


def _read(tar: tarfile.TarFile, name: str) -> bytes:
    member = tar.extractfile(name)
    if member is None:
        raise KeyError(name)
    return member.read()
