"""Ingest benchmark: the PyPI, Go and AlmaLinux 9 OSV sets, files -> parsed -> stored.

Prints, from one run, per set and in total: records/s (wall clock; CPU in total, workers
included) of ``spyglass.vulndb.update.ingest`` - what ``db update`` does once a feed's files are local:
each OSV feed parsed (in workers) and stored (as parts arrive) into a fresh SQLite store in a
fresh data directory - against two floors measured in the same run:

- ``read``: every record file's bytes read, nothing else;
- ``decode``: read and decoded with the reference libraries only (``json.loads``, PyYAML's
  libyaml ``CBaseLoader``), no model built, nothing stored, one process.

Each measurement runs in a fresh process (nothing warm but the page cache), ``--runs`` times;
the best run is shown, since other work on the machine only ever adds time. Ratios against
the floors are printed beside absolute numbers because the machines are noisy. Target:
>= 8,000 records/s wall on 2 cores. Usage: ``python bench/ingest.py [--data DIR] [--runs N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SETS = {
    "PyPI": "advisories/osv-pypi/vulns",
    "Go": "advisories/osv-go/osv",
    "AlmaLinux": "advisories/osv-almalinux9/advisories",
}
TARGET = 8000


def _cpu() -> float:
    """CPU seconds of this process and its finished children (parse workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".json", ".yaml"))


def floor_read(data: Path) -> dict[str, Any]:
    """Read every record file's bytes."""
    result = {}
    for name, folder in SETS.items():
        start, cpu = time.perf_counter(), _cpu()
        count = sum(1 for path in _files(data / folder) if path.read_bytes() is not None)
        result[name] = (time.perf_counter() - start, _cpu() - cpu, count)
    return result


def floor_decode(data: Path) -> dict[str, Any]:
    """Read and decode every record file with the reference libraries, nothing more."""
    import yaml

    loader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
    result = {}
    for name, folder in SETS.items():
        start, cpu, count = time.perf_counter(), _cpu(), 0
        for path in _files(data / folder):
            raw = path.read_bytes()
            json.loads(raw) if path.suffix == ".json" else yaml.load(raw, Loader=loader)
            count += 1
        result[name] = (time.perf_counter() - start, _cpu() - cpu, count)
    return result


def ingest(data: Path) -> dict[str, Any]:
    """Parse each set with its OSV feed and store it, in a fresh store in a fresh data dir."""
    from spyglass.vulndb.feeds.interface import FetchState
    from spyglass.vulndb.feeds.osv import OsvFeed
    from spyglass.vulndb.feeds.parallel import shared_workers
    from spyglass.vulndb.store import VulnStore
    from spyglass.vulndb.update import ingest as ingest_feed

    store = VulnStore.open()  # SQLite in SPYGLASS_DATA_DIR, set by the caller
    result = {}
    with shared_workers():  # as ``update`` does for the feeds of one update
        for name, folder in SETS.items():
            start, cpu = time.perf_counter(), _cpu()
            feed = OsvFeed(name)
            stored = ingest_feed(store, feed, data / folder, FetchState(feed.version), folder)
            result[name] = (time.perf_counter() - start, _cpu() - cpu, stored.records)
        start, cpu = time.perf_counter(), _cpu()
    store.close()  # stops the workers, then SQLite's deferred checkpoint runs on close
    result["(close)"] = (time.perf_counter() - start, _cpu() - cpu, 0)
    return result


STEPS = {"read": floor_read, "decode": floor_decode, "ingest": ingest}


def _run(step: str, data: Path) -> dict[str, tuple[float, float, int]]:
    """One fresh process doing ``step``, per set: (wall s, CPU s, records)."""
    with tempfile.TemporaryDirectory(prefix="spyglass-bench-") as home:
        env = {**os.environ, "SPYGLASS_DATA_DIR": home, "PYTHONPATH": str(REPO / "src")}
        out = subprocess.run(
            [sys.executable, __file__, "--data", str(data), "--step", step],
            env=env, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
    return {name: tuple(value) for name, value in json.loads(out).items()}  # type: ignore[misc]


def _measure(data: Path, runs: int) -> dict[str, dict[str, tuple[float, float, int]]]:
    """Per step, the run with the least total wall time; steps alternate, so load is shared."""
    best: dict[str, dict[str, tuple[float, float, int]]] = {}
    for _ in range(runs):
        for step in STEPS:
            found = _run(step, data)
            total = sum(v[0] for v in found.values())
            if step not in best or total < sum(v[0] for v in best[step].values()):
                best[step] = found
    return best


def _report(results: dict[str, dict[str, tuple[float, float, int]]]) -> None:
    ingest_, read, decode = results["ingest"], results["read"], results["decode"]
    for table in results.values():  # the total includes the ingest's closing checkpoint
        table["total"] = (
            sum(v[0] for v in table.values()),
            sum(v[1] for v in table.values()),
            sum(v[2] for v in table.values()),
        )
    print(f"{'set':10} {'records':>8} {'ingest s':>9} {'rec/s wall':>11} {'read s':>7}"
          f" {'decode s':>9} {'x read':>7} {'x decode':>9}")  # fmt: skip
    for name in [*SETS, "total"]:
        wall, _, count = ingest_[name]
        print(f"{name:10} {count:8d} {wall:9.3f} {count / wall:11,.0f} {read[name][0]:7.3f}"
              f" {decode[name][0]:9.3f} {wall / read[name][0]:7.2f}"
              f" {wall / decode[name][0]:9.2f}")  # fmt: skip
    cpu, count = ingest_["total"][1], ingest_["total"][2]
    print(f"CPU: {cpu:.3f} s in all ({count / cpu:,.0f} records per CPU-second), workers "
          f"included; the decode floor took {decode['total'][1]:.3f} s")  # fmt: skip
    wall, _, count = ingest_["total"]
    verdict = "meets" if count / wall >= TARGET else "misses"
    print(f"(total includes {ingest_['(close)'][0]:.3f} s closing the store: workers stop, "
          f"SQLite checkpoints)\n\ningest {count / wall:,.0f} records/s wall: {verdict} the "
          f"{TARGET:,}/s target; {wall / decode['total'][0]:.2f}x the reference decode floor "
          f"({count / decode['total'][0]:,.0f}/s); {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}")  # fmt: skip


def main() -> None:
    """Run the floors and the ingest in fresh processes and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--step", choices=list(STEPS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(STEPS[args.step](args.data)))
        return
    _report(_measure(args.data, args.runs))


if __name__ == "__main__":
    main()
