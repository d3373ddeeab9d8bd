"""Matching benchmark: feed ingest rate, warm match time for 1,000 packages, peak RSS.

Prints, from one run:

- ingest: the PyPI, Go and AlmaLinux 9 OSV sets from ../shared/data parsed by their feeds and
  written into a fresh SQLite store, in records/s, against a floor measured in the same run
  (every record file read and decoded - json / libyaml - and nothing else). Target >= 5,000/s.
- match: a 1,000-package inventory built from real package names of those sets with random
  versions (PyPI and Go libraries, AlmaLinux 9 rpms), matched warm (median of several runs in a
  fresh process) against a floor: the same process doing only the store's coarse candidate
  queries. Target <= 50 ms per 1,000 packages.
- peak RSS of the ingest process and of the match process.

Figures are ratios against floors measured in the same run because the machines are noisy;
absolute numbers are printed beside them. Usage: ``python bench/match.py [--data DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SETS = {
    "PyPI": "advisories/osv-pypi/vulns",
    "Go": "advisories/osv-go/osv",
    "AlmaLinux": "advisories/osv-almalinux9/advisories",
}
PACKAGES = 1000
RUNS = 9


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def decode_floor(data: Path) -> tuple[float, int]:
    """Seconds to read and decode every record file of the sets, and how many there were."""
    from spyglass.vulndb.feeds.osv import iter_documents, load_document

    start, count = time.perf_counter(), 0
    for folder in SETS.values():
        for name, raw in iter_documents(data / folder):
            load_document(name, raw)
            count += 1
    return time.perf_counter() - start, count


def ingest(data: Path, url: str) -> tuple[float, int]:
    """Seconds to parse the sets with their feeds and store them, as ``db update`` does once the
    files are local (``update.ingest`` with the shared parse workers); records stored."""
    from spyglass.vulndb.feeds.interface import FetchState
    from spyglass.vulndb.feeds.osv import OsvFeed
    from spyglass.vulndb.feeds.parallel import shared_workers
    from spyglass.vulndb.store import VulnStore
    from spyglass.vulndb.update import ingest as ingest_feed

    store = VulnStore.open(url)
    start, records = time.perf_counter(), 0
    with shared_workers():
        for ecosystem, folder in SETS.items():
            feed = OsvFeed(ecosystem)
            stored = ingest_feed(store, feed, data / folder, FetchState(feed.version), folder)
            records += stored.records
    store.close()  # the closing checkpoint is part of the ingest
    return time.perf_counter() - start, records


def _names(url: str) -> dict[tuple[str, str | None], list[str]]:
    from sqlalchemy import select

    from spyglass.vulndb import tables
    from spyglass.vulndb.store import VulnStore

    store = VulnStore.open(url)
    aff = tables.affected
    names: dict[tuple[str, str | None], list[str]] = {}
    with store.engine.connect() as conn:
        query = select(aff.c.ecosystem, aff.c.distro, aff.c.name).distinct()
        for ecosystem, distro, name in conn.execute(query):
            names.setdefault((ecosystem, distro or None), []).append(name)
    store.close()
    return {key: sorted(value) for key, value in names.items()}


def _version(ecosystem: str, rng: random.Random) -> str:
    major, minor, patch = rng.randint(0, 5), rng.randint(0, 30), rng.randint(0, 20)
    if ecosystem == "golang":
        return f"v{major}.{minor}.{patch}"
    if ecosystem == "rpm":
        return f"{major}.{minor}.{patch}"
    return f"{major}.{minor}.{patch}"


def inventory(url: str, seed: int = 1) -> object:
    """1,000 packages with real names from the store (a third per set), random versions."""
    from spyglass.inventory import Inventory, OSRelease, Package

    rng = random.Random(seed)
    names = _names(url)
    per = {("pypi", None): 400, ("golang", None): 300, ("rpm", "alma:9"): 300}
    packages = []
    for (ecosystem, _), count in per.items():
        for name in rng.sample(names[(ecosystem, _)], count):
            version = _version(ecosystem, rng)
            release = f"{rng.randint(1, 40)}.el9" if ecosystem == "rpm" else None
            packages.append(Package(name, version, ecosystem, release=release, source_name=name))
    assert len(packages) == PACKAGES
    return Inventory(
        "bench:latest", None, "linux/amd64", OSRelease("alma", "9.4"), (), tuple(packages)
    )


def _median_ms(
    action: Callable[[], object], runs: int = RUNS, clock: Callable[[], float] = time.perf_counter
) -> float:
    times = []
    for _ in range(runs):
        start = clock()
        action()
        times.append(clock() - start)
    return statistics.median(times) * 1000


def match_child(url: str) -> dict[str, float]:
    """Child mode: match timings (warm cache, no cache), floors and peak RSS, as a dict."""
    from spyglass.match import CandidateCache, match, plan
    from spyglass.match.candidates import wanted
    from spyglass.vulndb.store import VulnStore

    inv: Any = inventory(url)
    store = VulnStore.open(url)
    cache = CandidateCache()
    result = match(inv, store, cache=cache)  # fills the cache, the connection pool and page cache
    groups = wanted(plan(inv)[0])
    table = {p.name: p for p in inv.packages}
    return {
        "warm_ms": _median_ms(lambda: match(inv, store, cache=cache)),
        "warm_cpu_ms": _median_ms(lambda: match(inv, store, cache=cache), clock=time.process_time),
        "uncached_ms": _median_ms(lambda: match(inv, store), runs=3),
        "query_floor_ms": _median_ms(
            lambda: [store.candidates(e, d, names) for (e, d), names in groups.items()], runs=3
        ),
        "dict_floor_ms": _median_ms(lambda: [table.get(p.name) for p in inv.packages]),
        "candidates": sum(len(b.entries) for b in cache._entries.values()),
        "findings": len(result.findings),
        "notes": len(result.notes),
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    """Parent: floor, ingest, then the match in a fresh process; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--match-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.match_child:
        print(json.dumps(match_child(args.match_child)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        os.environ["SPYGLASS_DATA_DIR"] = tmp
        floor_s, files = decode_floor(args.data)
        ingest_s, records = ingest(args.data, url)
        ingest_rss = peak_rss_mb()
        child = subprocess.run(
            [sys.executable, __file__, "--match-child", url],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ},
        )
        m = json.loads(child.stdout)
    rate, floor_rate = records / ingest_s, files / floor_s
    print(
        f"ingest: {records} records (PyPI + Go + AlmaLinux 9) in {ingest_s:.2f} s = "
        f"{rate:,.0f} records/s (target >= 5,000/s)"
    )
    print(
        f"  floor (read + decode {files} files): {floor_s:.2f} s = {floor_rate:,.0f}/s; "
        f"ingest takes {ingest_s / floor_s:.2f}x the floor"
    )
    print(
        f"match: {PACKAGES} packages, {m['candidates']} store candidates, {m['findings']} "
        f"findings, {m['notes']} notes"
    )
    print(
        f"  warm (compiled candidates cached): {m['warm_ms']:.1f} ms wall, "
        f"{m['warm_cpu_ms']:.1f} ms CPU (target <= 50 ms); "
        f"{m['warm_ms'] / m['dict_floor_ms']:.0f}x the floor of {PACKAGES} dict look-ups "
        f"({m['dict_floor_ms'] * 1000:.0f} us)"
    )
    print(
        f"  without a cache: {m['uncached_ms']:.0f} ms = "
        f"{m['uncached_ms'] / m['query_floor_ms']:.2f}x the floor of the store's coarse "
        f"queries alone ({m['query_floor_ms']:.0f} ms)"
    )
    print(f"peak RSS: ingest process {ingest_rss:.0f} MB, match process {m['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
