"""Digests of files with nothing found: lookups are exact and aligned, the latest record wins."""

from __future__ import annotations

from spyglass.analyze.hidden import DIGEST, HiddenFiles, contains, path_digest


def test_records_and_lookups() -> None:
    files = HiddenFiles()
    files.add("usr/bin/a", 10, ("lang/go", "secrets"))
    files.add("usr/bin/b", 20, ("secrets",))
    files.add("usr/bin/a", 30, ("secrets",))
    assert files.get("usr/bin/a") == (30, ("secrets",))
    assert files.get("usr/bin/b") == (20, ("secrets",))
    assert files.get("usr/bin/c") is None
    packed = files.packed()
    assert len(packed) == 3 * DIGEST and contains(packed, "usr/bin/b")
    assert not contains(packed, "usr/bin/c") and not contains(b"", "usr/bin/a")


def test_only_whole_digests_match() -> None:
    digest = path_digest("etc/x\udcff")  # surrogate escapes are part of the path
    assert contains(digest, "etc/x\udcff")
    assert not contains(b"\0" + digest + bytes(DIGEST - 1), "etc/x\udcff")
