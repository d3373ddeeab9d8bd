"""API benchmark: filtered image-list latency and CSV export rate on 100,000 images.

A fresh PostgreSQL database is created (and dropped at the end), migrated, and loaded with COPY:
100,000 images over 1,000 repositories, one tag each, about five open findings per image (counts
on the image rows agree with them) and queue entries for a tenth of the images. Then, through the
real ASGI app (``httpx.ASGITransport``, bearer token and all), it prints:

- list: p50/p95 of ``GET /api/v1/images`` for a set of filters, each against a floor measured in
  the same run: the list's SQL statements (count, page ids, their rows) executed bare.
  Target p95 <= 100 ms.
- csv: rows/s of ``GET /api/v1/images.csv`` and ``/api/v1/findings.csv`` (everything), against a
  floor: ``COPY (same query) TO STDOUT``. Target >= 50,000 rows/s.

Usage: ``python bench/api.py [--pg postgresql://postgres@127.0.0.1:5432/postgres]
[--images 100000] [--repeat 40]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import func
from sqlalchemy.dialects import postgresql

from spyglass.jobs.runtime import Runtime
from spyglass.jobs.tasks import Jobs
from spyglass.service import csv_export
from spyglass.service.app import create_app
from spyglass.store import catalog
from spyglass.store.models import SEVERITIES, Image, Repository, utcnow
from spyglass.store.schema import upgrade
from spyglass.store.tokens import create_token

REPOS = 1000
OSES = (("debian", "12", "deb"), ("alpine", "3.19.1", "apk"), ("ubuntu", "22.04", "deb"),
        ("rocky", "9.3", "rpm"))
NOW = datetime(2026, 12, 1, tzinfo=UTC)
QUERIES: list[dict[str, str]] = [
    {}, {"severity": "critical"}, {"severity": "high", "fixable": "true"},
    {"fixable": "false"}, {"os": "alpine:3.19.1"}, {"tag": "v12345"},
    {"repository": "team7/app7"}, {"registry": "registry.bench", "sort": "-critical"},
    {"exploited": "true"}, {"state": "queued"}, {"state": "invalid", "sort": "repository"},
    {"scanned_after": "2026-11-25T00:00:00Z", "sort": "-fixable"},
    {"scanned_before": "2026-11-03T00:00:00Z", "offset": "2000"}, {"offset": "50000"},
]


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new empty database; its SQLAlchemy URL. Dropped afterwards."""
    name = f"spyglass_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].split("://", 1)[1]
    try:
        yield f"postgresql+psycopg://{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _findings(rng: random.Random, image_id: int, eco: str) -> list[tuple[Any, ...]]:
    rows = []
    for n in range(rng.choice((0, 2, 4, 5, 6, 8))):
        severity = rng.choices(SEVERITIES, (2, 8, 20, 30, 5, 5))[0]
        fixed = f"1.{n}.{rng.randint(1, 9)}-r1" if rng.random() < 0.6 else None
        rows.append((image_id, f"CVE-2026-{rng.randint(1000, 99999)}", f"pkg{rng.randint(1, 400)}",
                     f"1.{n}.0-r0", eco, severity, fixed, rng.random() < 0.02,
                     "sha256:" + "b" * 64, "{}", NOW - timedelta(days=rng.randint(0, 60))))
    return rows


def load(url: str, images: int) -> tuple[int, float]:
    """COPY the rows in; (findings written, seconds)."""
    rng, started, count = random.Random(5), time.perf_counter(), 0
    with psycopg.connect(url.replace("+psycopg", "")) as conn, conn.cursor() as cur:
        with cur.copy("COPY repositories (id, host, name) FROM STDIN") as copy:
            for r in range(1, REPOS + 1):
                copy.write_row((r, "registry.bench", f"team{r % 50}/app{r}"))
        image_cols = ("id, repository_id, digest, reference, platform, os_family, os_version, "
                      "first_seen, scanned_at, packages, " + ", ".join(SEVERITIES)
                      + ", fixable, exploited")
        finding_cols = ("image_id, advisory_id, package, version, ecosystem, severity, "
                        "fixed_version, known_exploited, layer, detail, first_seen")
        # Each image's findings come from its own seed, so the two COPYs (one at a time on a
        # connection) agree without holding the findings in memory.
        with cur.copy(f"COPY images ({image_cols}) FROM STDIN") as copy:
            for i in range(1, images + 1):
                family, version, eco = OSES[i % len(OSES)]
                found = _findings(random.Random(i), i, eco)
                at = NOW - timedelta(minutes=rng.randint(0, 30 * 24 * 60))
                copy.write_row((
                    i, i % REPOS + 1, f"sha256:{i:064x}", f"registry.bench/app:v{i}",
                    "linux/amd64", family, version, at, at, rng.randint(20, 400),
                    *(sum(1 for f in found if f[5] == s) for s in SEVERITIES),
                    sum(1 for f in found if f[6]), sum(1 for f in found if f[7])))
        with cur.copy(f"COPY findings ({finding_cols}) FROM STDIN") as copy:
            for i in range(1, images + 1):
                for row in _findings(random.Random(i), i, OSES[i % len(OSES)][2]):
                    copy.write_row(row)
                    count += 1
        with cur.copy("COPY tags (repository_id, name, image_id, updated_at) FROM STDIN") as copy:
            for i in range(1, images + 1):
                copy.write_row((i % REPOS + 1, f"v{i}", i, NOW))
        with cur.copy("COPY queue_entries (reference, platform, digest, state, attempt, "
                      "created_at, enqueued_at, image_id) FROM STDIN") as copy:
            for i in range(1, images + 1, 10):
                state = ("queued", "scanned", "invalid", "sent")[i % 4]
                copy.write_row((f"registry.bench/app:v{i}", "linux/amd64", None, state, 1,
                                NOW, NOW, i))
        for table in ("repositories", "images", "findings", "queue_entries", "tags"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {table}))")
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE")
    return count, time.perf_counter() - started


def _filter(params: dict[str, str]) -> tuple[catalog.ImageFilter, str, int]:
    p = dict(params)
    sort, offset = p.pop("sort", "-scanned_at"), int(p.pop("offset", "0"))
    typed: dict[str, Any] = dict(p)
    for key in ("fixable", "exploited"):
        if key in typed:
            typed[key] = typed[key] == "true"
    for key in ("scanned_after", "scanned_before"):
        if key in typed:
            typed[key] = datetime.fromisoformat(typed[key])
    return catalog.ImageFilter(**typed), sort, offset


def _sql(query: Any) -> str:
    return str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def sql_floor(url: str, params: dict[str, str]) -> float:
    """Seconds for the list's statements (count, page ids, their rows) run bare, best of 3."""
    f, sort, offset = _filter(params)
    count = _sql(catalog.filtered(f, func.count(), repository=False))
    ids = _sql(catalog.ordered(catalog.filtered(f, Image.id, repository="repo" in sort), sort)
               .limit(50).offset(offset))
    best = float("inf")
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        for _ in range(3):
            started = time.perf_counter()
            conn.execute(count).fetchall()
            page = [row[0] for row in conn.execute(ids).fetchall()]
            conn.execute(_sql(catalog.filtered(catalog.ImageFilter(), Image, Repository.host,
                                               Repository.name).where(Image.id.in_(page))))
            best = min(best, time.perf_counter() - started)
    return best


def copy_floor(url: str, query: Any) -> tuple[int, float]:
    """Rows and seconds of ``COPY (query) TO STDOUT`` in CSV."""
    rows, started = 0, time.perf_counter()
    with psycopg.connect(url.replace("+psycopg", "")) as conn, conn.cursor() as cur, \
            cur.copy(f"COPY ({_sql(query)}) TO STDOUT (FORMAT csv)") as copy:
        for block in copy:
            rows += bytes(block).count(b"\n")
    return rows, time.perf_counter() - started


async def _timed_get(client: httpx.AsyncClient, path: str, params: dict[str, str]) -> float:
    started = time.perf_counter()
    response = await client.get(path, params=params)
    response.raise_for_status()
    return time.perf_counter() - started


async def _csv_rate(client: httpx.AsyncClient, path: str) -> tuple[int, float]:
    rows, started = -1, time.perf_counter()  # not counting the header
    async with client.stream("GET", path) as response:
        response.raise_for_status()
        async for chunk in response.aiter_bytes():
            rows += chunk.count(b"\n")
    return rows, time.perf_counter() - started


async def measure(url: str, token: str, runtime: Runtime, repeat: int) -> None:
    """Print the list latencies and CSV rates."""
    app = create_app(runtime, Jobs(runtime))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=600,
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        await _timed_get(client, "/api/v1/images", {})  # warm the pool and the caches
        every: list[float] = []
        print(f"{'filter':<58} {'p50 ms':>7} {'p95 ms':>7} {'floor ms':>8} {'ratio':>6}")
        for params in QUERIES:
            times = [await _timed_get(client, "/api/v1/images", params) for _ in range(repeat)]
            every += times
            floor = await asyncio.to_thread(sql_floor, url, params)
            p50, p95 = statistics.median(times), _p95(times)
            print(f"{params!s:<58} {p50 * 1e3:7.1f} {p95 * 1e3:7.1f} {floor * 1e3:8.1f} "
                  f"{p95 / floor:6.1f}")
        print(f"list, all filters: p50 {statistics.median(every) * 1e3:.1f} ms, "
              f"p95 {_p95(every) * 1e3:.1f} ms (target <= 100 ms)")
        await _csv_report(client, url)


async def _csv_report(client: httpx.AsyncClient, url: str) -> None:
    everything = catalog.ImageFilter()
    floors = {  # the same rows, unformatted, straight out of COPY
        "images.csv": csv_export.images_query(everything, "-scanned_at"),
        "findings.csv": csv_export.findings_query(everything, "-scanned_at"),
    }
    for name, query in floors.items():
        rows, seconds = await _csv_rate(client, f"/api/v1/{name}")
        floor_rows, floor_seconds = await asyncio.to_thread(copy_floor, url, query)
        assert rows == floor_rows, (rows, floor_rows)
        print(f"csv {name}: {rows:,} rows in {seconds:.2f} s = {rows / seconds:,.0f} rows/s "
              f"(target >= 50,000); COPY TO STDOUT floor {floor_rows / floor_seconds:,.0f} "
              f"rows/s; {seconds / floor_seconds:.1f}x the floor's time")


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--images", type=int, default=100_000)
    # 40 requests per filter: with fewer, "p95" is just the slowest request of the run
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    from spyglass.service.settings import Settings

    with fresh_database(args.pg) as url, tempfile.TemporaryDirectory() as tmp:
        runtime = Runtime.from_settings(Settings(database_url=url, queue_url="",
                                                 data_dir=Path(tmp)))
        try:
            upgrade(runtime.db.engine)
            findings, seconds = load(url, args.images)
            print(f"loaded {args.images:,} images and {findings:,} findings with COPY "
                  f"in {seconds:.1f} s")
            with runtime.db.transaction() as session:
                _, token = create_token(session, "viewer", "bench", now=utcnow())
            asyncio.run(measure(url, token, runtime, args.repeat))
        finally:
            runtime.close()


if __name__ == "__main__":
    main()
