"""End to end on a real Debian root: the scan must list what dpkg-query lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from spyglass.analyze.cache import LayerCache
from spyglass.analyze.registry import select
from spyglass.analyze.scan import scan_image
from spyglass.config import cache_dir
from spyglass.image.interface import OpenOptions
from spyglass.image.open import open_image
from tests.helpers.debian import dpkg_query, mmdebstrap
from tests.helpers.services import require_tool
from tests.helpers.tree_layout import write_layout


@pytest.mark.slow
def test_scan_of_mmdebstrap_root_equals_dpkg_query(tmp_path: Path) -> None:
    require_tool("mmdebstrap", "apt-get install mmdebstrap")
    root = mmdebstrap(tmp_path / "root", include=["ca-certificates"])
    layout = write_layout([root], tmp_path / "layout")

    with open_image(f"oci:{layout}", OpenOptions()) as image:
        inventory = scan_image(image, select(["os"]), cache=LayerCache(cache_dir()), progress=None)

    scanned = sorted((p.name, p.version, p.arch or "") for p in inventory.packages)
    assert scanned == dpkg_query(root)
    assert inventory.os is not None and inventory.os.family == "debian"
    assert all(p.purl.startswith("pkg:deb/debian/") for p in inventory.packages)
    assert {p.layer for p in inventory.packages} == {inventory.layers[0].diff_id}
