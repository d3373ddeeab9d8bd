"""Scan benchmark: cold and warm scans of a real 3-layer Debian image against a floor.

Prints, from one run: the floor (every layer decompressed and listed with
``gzip -dc | tar -t``), the cold scan (empty layer cache) wall time and peak RSS, the warm
scan (every layer cached) wall time, the cold scan with only the OS analyzers (to show what the
language and secret analyzers add), and Syft and Trivy on the same image when their PyPI
packages are installed. Figures are given as ratios against the floor measured in the same run,
because the machines are noisy. Targets: cold <= 1.2x floor, warm <= 0.15 s, peak RSS <= 80 MB.

Each scan runs in a fresh process (``--once``) so that its peak RSS is its own; the peak RSS of
the same process after its imports, before it scans, is printed beside it as the reference
(what the interpreter and the code cost whatever the image). CPU seconds (user + system, all
threads) are printed too: on a shared machine they vary less than wall time, and their ratio
says what the analyzers cost when no core is idle. ``--breakdown`` walks the image once in
process and prints, per analyzer, the calling thread's CPU seconds spent in ``required`` and
``analyze`` and the files and bytes it asked for.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

REPEATS = 3


def scan_once(layout: Path, analyzers: list[str]) -> None:
    """Child process: one scan through the library; prints seconds and peak RSS as JSON."""
    from spyglass.analyze.cache import LayerCache
    from spyglass.analyze.registry import select
    from spyglass.analyze.scan import scan_image
    from spyglass.config import cache_dir
    from spyglass.image.interface import OpenOptions
    from spyglass.image.open import open_image

    chosen = select(analyzers)
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    with open_image(f"oci:{layout}", OpenOptions()) as image:
        inventory = scan_image(image, chosen, cache=LayerCache(cache_dir()), progress=None)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(json.dumps({"seconds": seconds, "cpu": cpu, "rss_mb": after.ru_maxrss / 1024,
                      "rss_imports_mb": before.ru_maxrss / 1024,
                      "packages": len(inventory.packages)}))


def breakdown(layout: Path) -> None:
    """One in-process walk of every layer; per analyzer: CPU in required/analyze, files, bytes."""
    from collections import Counter

    from spyglass.analyze.registry import select
    from spyglass.analyze.walker import walk_layer
    from spyglass.image.interface import OpenOptions
    from spyglass.image.open import open_image

    spent: Counter[tuple[str, str]] = Counter()
    wanted: Counter[str] = Counter()
    wanted_bytes: Counter[str] = Counter()
    chosen = select()
    for analyzer in chosen:
        _instrument(analyzer, spent, wanted, wanted_bytes)
    start = time.thread_time()
    with open_image(f"oci:{layout}", OpenOptions()) as image:
        for layer in image.layers:
            with image.open_layer(layer) as stream:
                walk_layer(stream, chosen, diff_id=layer.diff_id)
    print(f"calling thread: {time.thread_time() - start:.2f} s CPU (timing adds to it)")
    for a in chosen:
        print(f"  {a.name:18} required {spent[a.name, 'required']:.3f} s  analyze "
              f"{spent[a.name, 'analyze']:.3f} s  {wanted[a.name]:6} files {wanted_bytes[a.name] / 1e6:7.1f} MB")


def _instrument(analyzer, spent, wanted, wanted_bytes) -> None:  # type: ignore[no-untyped-def]
    required, analyze = analyzer.required, analyzer.analyze

    def timed_required(path: str, size: int) -> bool:
        start = time.thread_time()
        yes = required(path, size)
        spent[analyzer.name, "required"] += time.thread_time() - start
        wanted[analyzer.name] += yes
        wanted_bytes[analyzer.name] += size if yes else 0
        return bool(yes)

    def timed_analyze(file):  # type: ignore[no-untyped-def]
        start = time.thread_time()
        try:
            return analyze(file)
        finally:
            spent[analyzer.name, "analyze"] += time.thread_time() - start

    analyzer.required, analyzer.analyze = timed_required, timed_analyze


def _child(layout: Path, data_dir: Path, analyzers: list[str]) -> dict[str, float]:
    env = {"SPYGLASS_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"}
    args = [sys.executable, __file__, "--once", str(layout), *(["--analyzers", ",".join(analyzers)] if analyzers else [])]
    out = subprocess.run(args, check=True, capture_output=True, text=True, env=env).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def floor(layout: Path) -> tuple[float, float]:
    """Wall and CPU seconds to decompress and list every layer with gzip and tar."""
    manifest = _manifest(layout)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    for layer in manifest["layers"]:
        blob = layout / "blobs" / "sha256" / layer["digest"].split(":")[1]
        subprocess.run(f"gzip -dc '{blob}' | tar -t > /dev/null", shell=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return time.perf_counter() - start, cpu


def _manifest(layout: Path) -> dict:  # type: ignore[type-arg]
    index = json.loads((layout / "index.json").read_text())
    digest = index["manifests"][0]["digest"].split(":")[1]
    return dict(json.loads((layout / "blobs" / "sha256" / digest).read_text()))


def cold(layout: Path, analyzers: list[str]) -> dict[str, float]:
    """Best of REPEATS scans, each with an empty cache."""
    runs = []
    for _ in range(REPEATS):
        with tempfile.TemporaryDirectory() as data:
            runs.append(_child(layout, Path(data), analyzers))
    return min(runs, key=lambda r: r["seconds"]) | {
        "rss_mb": max(r["rss_mb"] for r in runs), "cpu": min(r["cpu"] for r in runs)
    }


def warm(layout: Path) -> dict[str, float]:
    """Best of REPEATS scans after one that filled the cache."""
    with tempfile.TemporaryDirectory() as data:
        _child(layout, Path(data), [])
        return min((_child(layout, Path(data), []) for _ in range(REPEATS)), key=lambda r: r["seconds"])


def peer(command: list[str]) -> float | None:
    """Wall seconds of a peer tool's listing of the same image, or None when it is not installed."""
    if shutil.which(command[0]) is None:
        return None
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"  {command[0]} failed: {done.stderr.strip().splitlines()[-1:]}")
        return None
    return time.perf_counter() - start


def main() -> None:
    """Build the image if needed, measure, print figures and ratios."""
    from debian_image import build

    layout = build(REPO / ".bench-cache")
    size = sum(layer["size"] for layer in _manifest(layout)["layers"])
    floors = [floor(layout) for _ in range(REPEATS)]
    base, base_cpu = min(f[0] for f in floors), min(f[1] for f in floors)
    all_cold, os_cold, hot = cold(layout, []), cold(layout, ["os"]), warm(layout)
    print(f"image: {layout} ({size / 1e6:.0f} MB compressed, {all_cold['packages']:.0f} packages)")
    print(f"floor (gzip -dc | tar -t, every layer): {base:.2f} s ({base_cpu:.2f} s CPU)")
    print(f"cold scan, all analyzers: {all_cold['seconds']:.2f} s = {all_cold['seconds'] / base:.2f}x floor "
          f"(target <= 1.2x); peak RSS {all_cold['rss_mb']:.0f} MB (target <= 80 MB; "
          f"{all_cold['rss_imports_mb']:.0f} MB of it before the scan: interpreter and imports)")
    print(f"cold scan, OS analyzers only: {os_cold['seconds']:.2f} s = {os_cold['seconds'] / base:.2f}x floor; "
          f"language + secret analyzers add {all_cold['seconds'] / os_cold['seconds'] - 1:+.0%} (target <= +20%)")
    print(f"CPU seconds (all threads, best of {REPEATS}): all analyzers {all_cold['cpu']:.2f} s, OS only "
          f"{os_cold['cpu']:.2f} s (language + secret analyzers add {all_cold['cpu'] / os_cold['cpu'] - 1:+.0%})")
    print(f"warm scan (all layers cached): {hot['seconds']:.3f} s (target <= 0.15 s)")
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as trivy_cache, tempfile.TemporaryDirectory() as secret_cache:
        # Each peer starts cold, like the cold scan: a fresh cache directory per run.
        trivy = [str(bin_dir / "trivy"), "image", "--input", str(layout), "--list-all-pkgs",
                 "--format", "json", "-q", "--skip-db-update", "--offline-scan"]
        peers = {
            "syft (packages)": peer([str(bin_dir / "syft"), "scan", f"oci-dir:{layout}", "-q", "-o", "json"]),
            "trivy (packages, --scanners=)": peer([*trivy, "--cache-dir", trivy_cache, "--scanners="]),
            "trivy (packages + secrets)": peer([*trivy, "--cache-dir", secret_cache, "--scanners=secret"]),
        }
    for name, seconds in peers.items():
        if seconds is not None:
            print(f"{name}, cold, same image: {seconds:.2f} s = {seconds / base:.2f}x floor; "
                  f"spyglass cold (all analyzers) is {all_cold['seconds'] / seconds:.2f}x that")

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--once", type=Path, help="child mode: scan this OCI layout once")
    parser.add_argument("--analyzers", default="")
    parser.add_argument("--breakdown", action="store_true", help="per-analyzer CPU, in process")
    arguments = parser.parse_args()
    if arguments.breakdown:
        from debian_image import build

        breakdown(build(REPO / ".bench-cache"))
    elif arguments.once:
        scan_once(arguments.once, [a for a in arguments.analyzers.split(",") if a])
    else:
        main()
