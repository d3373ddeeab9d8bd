"""Offline bundles: export from one store, import into another (across backends), reject junk."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from spyglass.errors import FeedError
from spyglass.vulndb.bundle import export_bundle, import_bundle, read_bundle
from spyglass.vulndb.feeds.interface import FetchState
from spyglass.vulndb.feeds.kev import KevFeed
from spyglass.vulndb.feeds.osv import OsvFeed
from spyglass.vulndb.store import VulnStore


@pytest.mark.realdata
def test_round_trip_into_the_other_backend(
    store: VulnStore, advisories: Path, tmp_path: Path
) -> None:
    source = VulnStore.open(f"sqlite:///{tmp_path / 'source.db'}")
    crates = OsvFeed("crates.io").parse(advisories / "osv-crates/crates")
    source.replace("osv/crates.io", crates, FetchState(1, {}, "sha256:c"), "local")
    kev = KevFeed().parse(advisories / "kev/known_exploited_vulnerabilities.json")
    source.replace("cisa/kev", kev, FetchState(1, {}, "sha256:k"), "local")
    bundle = tmp_path / "vulndb.tar.gz"
    written = export_bundle(source, bundle)
    assert [f.name for f in written] == ["cisa/kev", "osv/crates.io"]

    assert import_bundle(store, bundle) == [("cisa/kev", 1404), ("osv/crates.io", 1206)]
    assert store.feed_data("osv/crates.io") == source.feed_data("osv/crates.io")
    assert store.fetch_state("osv/crates.io").content_hash == "sha256:c"
    status = store.status("cisa/kev")
    assert status is not None and status.source.startswith("bundle:vulndb.tar.gz")
    source.close()


def test_export_of_unknown_feed(tmp_path: Path) -> None:
    store = VulnStore.open(f"sqlite:///{tmp_path / 'v.db'}")
    with pytest.raises(FeedError, match="not in the store"):
        export_bundle(store, tmp_path / "b.tar.gz", ["osv/PyPI"])
    store.close()


def test_junk_and_truncated_bundles_are_rejected(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a bundle")
    with pytest.raises(FeedError, match="cannot be read"):
        read_bundle(junk)
    other = tmp_path / "other.tar.gz"
    with tarfile.open(other, "w:gz") as tar:
        tar.add(junk, "metadata.json")
    with pytest.raises(FeedError):
        read_bundle(other)
