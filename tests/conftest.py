"""Suite-wide fixtures: where the real test data lives, and an isolated data directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers.services import unavailable

REPO = Path(__file__).resolve().parent.parent


def testdata_root() -> Path:
    """``SPYGLASS_TESTDATA``, default ``../shared/data`` beside the checkout."""
    return Path(os.environ.get("SPYGLASS_TESTDATA", REPO.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def testdata() -> Path:
    """The real public test data folder; fails in CI and skips elsewhere when it is missing."""
    root = testdata_root()
    if not (root / "README.md").exists():
        unavailable(f"real test data not found at {root}; set SPYGLASS_TESTDATA")
    return root


# A port on loopback where nothing listens: the default feed sources are public hosts, and a test
# (or a periodic task in a test's worker) must never reach past this machine for them.
DEAD_SOURCE = "http://127.0.0.1:9/no-feeds-in-tests"


@pytest.fixture(autouse=True)
def _isolated_data_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test gets its own SPYGLASS_DATA_DIR so caches never leak between tests, and feed
    sources that point nowhere unless the test names its own."""
    from spyglass.vulndb.feeds.registry import FEEDS

    monkeypatch.setenv("SPYGLASS_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    monkeypatch.setenv("SPYGLASS_OSV_URL", DEAD_SOURCE)
    for feed in FEEDS:
        if not feed.name.startswith("osv/"):  # OSV feeds follow SPYGLASS_OSV_URL
            monkeypatch.setenv(feed.env_var(), f"{DEAD_SOURCE}/{feed.name}")
