"""Layers merged as Docker applies them: whiteouts, opaque dirs, overwrites, symlinks, origins."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from spyglass.analyze.interface import Analyzer, AnalyzerResult
from spyglass.analyze.layer import LayerResult
from spyglass.analyze.merge import Merged, merge
from spyglass.analyze.tree import NodeKind
from spyglass.analyze.walker import walk_layer
from spyglass.inventory import DiffId, Package
from tests.analyze.fakes import Everything, Lines, Secrets
from tests.helpers.images import (
    Dir,
    Entry,
    OpaqueWhiteout,
    Symlink,
    Whiteout,
    compress,
    layer_tar,
    sha256,
)


def walked(
    layers: Sequence[Mapping[str, Entry]], analyzers: Sequence[Analyzer]
) -> list[LayerResult]:
    results = []
    for entries in layers:
        tar = layer_tar(entries)
        stream = io.BytesIO(compress(tar, "gzip"))
        results.append(walk_layer(stream, analyzers, diff_id=DiffId(sha256(tar))))
    return results


def merged(*layers: Mapping[str, Entry], analyzers: Sequence[Analyzer] = ()) -> Merged:
    return merge(walked(layers, analyzers or [Lines(), Everything()]))


def files(result: Merged) -> dict[str, str]:
    """Merged regular files -> text, and symlinks -> '-> target'."""
    out = {}
    for path, node in result.tree.walk():
        if node.kind is NodeKind.FILE:
            out[path] = result.captured.get(path, "")
        elif node.kind is NodeKind.SYMLINK:
            out[path] = "-> " + node.target
    return out


def test_whiteout_deletes_a_file_and_a_directory_with_everything_under_it() -> None:
    result = merged(
        {"a/x": b"1", "a/sub/y": b"2", "b/z": b"3", "keep": b"4"},
        {"a": Whiteout(), "b/z": Whiteout()},
    )
    assert files(result) == {"keep": "4"}


def test_opaque_dir_hides_lower_content_but_keeps_its_own_layer() -> None:
    result = merged({"d/old": b"1", "d/sub/old": b"2", "e": b"3"},
                    {"d": OpaqueWhiteout(), "d/new": b"4"})
    assert files(result) == {"d/new": "4", "e": "3"}


def test_upper_files_replace_lower_ones_also_by_symlink_or_dir() -> None:
    result = merged(
        {"etc/thing": b"old 1\n", "a/thing": b"gone 1\n", "b/thing": b"gone 2\n"},
        {"etc/thing": b"new 2\n", "a/thing": Symlink("/etc/thing"), "b/thing": Dir(),
         "b/thing/inner": b"x"},
    )
    assert [p.name for p in result.packages] == ["new"]
    assert files(result)["a/thing"] == "-> /etc/thing"
    assert files(result)["b/thing/inner"] == "x"


def test_writing_below_a_lower_symlink_makes_it_a_directory() -> None:
    result = merged({"var/run": Symlink("../run")}, {"var/run/x": b"1"})
    assert files(result) == {"var/run/x": "1"}


def test_package_keeps_the_lowest_layer_it_was_continuously_present_from() -> None:
    layers = walked([
        {"etc/thing": b"a 1\nb 1\n", "opt/thing": b"c 1\n"},
        {"etc/thing": b"a 1\nb 2\nd 1\n", "opt/thing": Whiteout()},
        {"etc/thing": b"a 1\nb 2\nd 1\n", "opt/thing": b"c 1\n"},
    ], [Lines()])
    base, middle, top = (layer.diff_id for layer in layers)
    origin = {p.name: p.layer for p in merge(layers).packages}
    assert origin == {"a": base, "b": middle, "d": middle, "c": top}


def test_opaque_parent_breaks_continuity() -> None:
    layers = walked([{"d/thing": b"a 1\n"}, {"d": OpaqueWhiteout(), "d/thing": b"a 1\n"}],
                    [Lines()])
    assert [p.layer for p in merge(layers).packages] == [layers[1].diff_id]


def test_secrets_count_from_every_layer_even_deleted() -> None:
    result = merged({"app/.env": b"TOKEN=abc\n"}, {"app/.env": Whiteout()},
                    analyzers=[Secrets()])
    assert [(s.path, s.line) for s in result.secrets] == [("app/.env", 1)]
    assert result.secrets[0].layer is not None


def test_unknowns_of_deleted_files_are_dropped() -> None:
    result = merged({"a/thing": b"BAD", "b/thing": b"BAD"}, {"a/thing": Whiteout()},
                    analyzers=[Lines()])
    assert [u.path for u in result.unknowns] == ["b/thing"]


OS_RELEASE = b'ID=debian\nVERSION_ID="12"\n'


@pytest.mark.parametrize("target", [
    "../usr/lib/os-release",
    "/usr/lib/os-release",
    "../../../../usr/lib/os-release",  # above the root clamps to the root
    "/../../usr/lib/../lib/./os-release",
    "chain",
])
def test_captured_files_resolve_symlinks_inside_the_image(target: str) -> None:
    result = merged({"usr/lib/os-release": OS_RELEASE, "etc/chain": Symlink("hop"),
                     "etc/hop": Symlink("/usr/lib/os-release")},
                    {"etc/os-release": Symlink(target)})
    assert result.captured["etc/os-release"] == OS_RELEASE.decode()
    assert result.captured["/etc/os-release"] == OS_RELEASE.decode()
    assert "etc/os-release" in set(result.captured)


def test_directory_symlinks_and_escapes_stay_inside() -> None:
    result = merged({"usr/lib/os-release": OS_RELEASE, "etc": Symlink("../../usr/lib"),
                     "evil": Symlink("../../../../etc/passwd")})
    assert result.captured["etc/os-release"] == OS_RELEASE.decode()
    assert "etc/os-release" in list(result.captured)
    assert result.tree.resolve("evil") is None  # etc/passwd is not in this image
    assert result.tree.resolve("usr/../../../usr/lib") == "usr/lib"


def test_cycles_and_long_chains_stop() -> None:
    chain = {f"l{i}": Symlink(f"l{i + 1}") for i in range(45)}
    result = merged({"a": Symlink("b"), "b": Symlink("a"), "self": Symlink("self/x"),
                     "l45": b"end", **chain})
    assert result.tree.resolve("a") is None and result.tree.resolve("self") is None
    assert result.tree.resolve("l10") == "l45"  # 35 links
    assert result.tree.resolve("l0") is None  # 45 links, over the limit of 40
    assert "a" not in result.captured


def test_language_packages_owned_by_an_os_package_are_left_to_the_distro() -> None:
    def layer(path: str, result: AnalyzerResult) -> LayerResult:
        return LayerResult(DiffId("sha256:" + "1" * 64), files={path: (("x", result),)})

    dpkg = AnalyzerResult(
        packages=(Package("python3-six", "1.16", "deb", path="var/lib/dpkg/status"),),
        owned_files=(("/usr/lib/python3/dist-packages/six-1.16.dist-info/METADATA",
                      "python3-six"),),
    )
    metadata = "usr/lib/python3/dist-packages/six-1.16.dist-info/METADATA"
    six = Package("six", "1.16", "pypi", path=metadata)
    other = Package("requests", "2", "pypi", path="usr/local/lib/requests.dist-info/METADATA")
    result = merge([
        layer("var/lib/dpkg/status", dpkg),
        layer(six.path, AnalyzerResult(packages=(six,))),
        layer(other.path, AnalyzerResult(packages=(other,))),
    ])
    assert sorted(p.name for p in result.packages) == ["python3-six", "requests"]


def _saved_layers(archive: Path) -> list[LayerResult]:
    """A minimal ``docker save`` reader: each layer walked with the Everything analyzer."""
    with tarfile.open(archive) as tar:
        def read(name: str) -> bytes:
            member = tar.extractfile(name)
            assert member is not None
            return member.read()

        manifest = json.loads(read("manifest.json"))[0]
        diff_ids = json.loads(read(manifest["Config"]))["rootfs"]["diff_ids"]
        return [
            walk_layer(io.BytesIO(read(name)), [Everything()], diff_id=diff_id)
            for name, diff_id in zip(manifest["Layers"], diff_ids, strict=True)
        ]


@pytest.mark.realdata
@pytest.mark.parametrize(("name", "want"), [
    ("whiteout_image.tar", {"bar.txt"}),
    ("whiteout_dir.tar", {"a/baz", "b/bar"}),
    ("overwritten_file.tar", {"bar.txt", "foo.txt"}),
])
def test_go_containerregistry_mutate_stacks(testdata: Path, name: str, want: set[str]) -> None:
    result = merge(_saved_layers(testdata / "images/go-containerregistry/mutate" / name))
    assert set(files(result)) == want
    if name == "overwritten_file.tar":
        assert files(result)["foo.txt"] == "-> bar.txt"
        assert result.captured["foo.txt"] == result.captured["bar.txt"]


@pytest.mark.realdata
def test_scalibr_symlink_images(testdata: Path) -> None:
    folder = testdata / "images/osv-scalibr"

    def resolved(name: str) -> dict[str, str | None]:
        tree = merge(_saved_layers(folder / name)).tree
        return {p: tree.resolve(p) for p, n in tree.walk() if n.kind is NodeKind.SYMLINK}

    basic = resolved("layerscanning/symlink-basic.tar")
    assert set(basic.values()) == {"dir1/sample.txt"}
    assert set(resolved("layerscanning/symlink-cycle.tar").values()) == {None}
    assert set(resolved("layerscanning/symlink-depth-exceeded.tar").values()) == {"dir1/sample.txt"}
    attack = resolved("layerscanning/symlink-attack.tar")
    assert attack == {"dir1/attack-symlink-absolute.txt": None, "dir1/attack-symlink.txt": None}
    unpacked = resolved("unpack/symlinks.tar")
    assert unpacked["dir2/dir3/absolute-symlink-inside-root.txt"] == "dir1/sample.txt"
    assert unpacked["dir1/attack-symlink.txt"] is None
    dangling = resolved("layerscanning/symlink-dangling.tar")
    assert None in dangling.values()


def test_empty_results_hide_lower_ones_and_are_left_out_of_the_base_layer() -> None:
    result = merged({"a/thing": b"", "b/thing": b"x 1\n", "c/thing": b""},
                    {"b/thing": b"", "c/x": b"y 1\n"}, analyzers=[Lines()])
    assert result.packages == ()  # the upper, empty b/thing replaced the lower one
    assert result.tree.get("a/thing") is None  # nothing found, nothing hidden: not kept
    assert result.tree.get("b/thing") is not None


def test_cached_form_of_files_with_nothing_found_is_small() -> None:
    (layer,) = walked([{"a/thing": b"", "b/thing": b"", "c/thing": b"x 1\n"}], [Lines()])
    data = json.loads(json.dumps(layer.to_dict()))
    assert list(data["files"]) == ["c/thing"] and len(data["hidden"]) == 24  # 16 bytes, base64
    assert LayerResult.from_dict(data) == layer


def test_a_file_with_nothing_found_replaces_a_lower_folder_with_results() -> None:
    result = merged({"app/thing/a-thing": b"x 1\n", "app/b-thing": b"y 1\n"}, {"app/thing": b""},
                    analyzers=[Lines()])
    assert [p.name for p in result.packages] == ["y"]
    node = result.tree.get("app/thing")
    assert node is not None and node.kind is NodeKind.FILE
