"""Merge layer results base first, as Docker applies layers, into what the image holds.

Per layer: opaque directories hide lower content, whiteouts delete paths (and everything
under them) from lower layers, then the layer's own directories, symlinks, hard links and
analyzed files replace what was at their paths. Packages come from the files that survive;
each keeps the lowest layer from which the same package (name, epoch, version, release,
arch, found by the same analyzer) sat at the same path without a break. Secrets are kept from
every layer, deleted or not: anyone who pulls the image can read them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from spyglass.analyze.files import normalise
from spyglass.analyze.hidden import contains
from spyglass.analyze.interface import AnalyzerResult
from spyglass.analyze.layer import EMPTY, FileResults, LayerResult
from spyglass.analyze.tree import FileTree, Node, NodeKind
from spyglass.inventory import DiffId, Package, Secret, Unknown

OS_ECOSYSTEMS = frozenset(("deb", "rpm", "apk"))
"""Package types whose databases list the files they own."""


def package_key(analyzer: str, pkg: Package) -> tuple[object, ...]:
    """What makes two packages at the same path 'the same' for layer attribution."""
    return (analyzer, pkg.ecosystem, pkg.name, pkg.epoch, pkg.version, pkg.release, pkg.arch)


class CapturedFiles(Mapping[str, str]):
    """Captured texts of the merged image, looked up through symlinks.

    ``files["etc/os-release"]`` answers with ``usr/lib/os-release`` when the former links to
    the latter. Iteration lists the captured paths and the symlinks that lead to them (or to
    a directory above them).
    """

    def __init__(self, texts: Mapping[str, str], tree: FileTree) -> None:
        self._texts, self._tree = dict(texts), tree
        self._keys: list[str] | None = None

    def __getitem__(self, path: str) -> str:
        plain = normalise(path) or ""
        if plain in self._texts:
            return self._texts[plain]
        real = self._tree.resolve(plain)
        if real is not None and real in self._texts:
            return self._texts[real]
        raise KeyError(path)

    def _aliases(self) -> Iterator[str]:
        for path, node in self._tree.walk():
            real = self._tree.resolve(path) if node.kind is NodeKind.SYMLINK else None
            if real is None:
                continue
            prefix = f"{real}/" if real else ""
            for text_path in self._texts:
                if text_path == real:
                    yield path
                elif text_path.startswith(prefix):
                    yield f"{path}/{text_path[len(prefix):]}"

    def __iter__(self) -> Iterator[str]:
        if self._keys is None:
            self._keys = sorted({*self._texts, *self._aliases()})
        return iter(self._keys)

    def __len__(self) -> int:
        return sum(1 for _ in self)


@dataclass(frozen=True)
class Merged:
    """What the merged image holds: packages with their layer, secrets, unknowns, texts."""

    packages: tuple[Package, ...]
    secrets: tuple[Secret, ...]
    unknowns: tuple[Unknown, ...]
    captured: CapturedFiles
    tree: FileTree


def _origins(previous: Node | None, results: FileResults, diff_id: DiffId) -> dict[
    tuple[object, ...], DiffId
]:
    before = previous.origins if previous is not None and previous.kind is NodeKind.FILE else {}
    return {
        key: before.get(key, diff_id)
        for name, result in results
        for key in (package_key(name, p) for p in result.packages)
    }


def _empty(results: FileResults) -> bool:
    return all(result is EMPTY for _, result in results)


def apply_layer(tree: FileTree, layer: LayerResult) -> None:
    """Apply one layer's changes on top of ``tree``."""
    # On an empty tree, a file in which nothing was found hides nothing: it is left out, which
    # keeps the tree small (in the base layer, that is most files the secrets analyzer read).
    base = not tree.root.children
    for path in layer.opaque_dirs:
        tree.clear(path)
    for path in layer.whiteouts:
        tree.remove(path)
    _hide(tree, layer)
    for path in layer.dirs:
        tree.ensure_dir(path)
    for path, target in layer.symlinks.items():
        tree.put(path, Node(NodeKind.SYMLINK, layer.diff_id, target=target))
    for path in layer.hardlinks:
        if path not in layer.files and not base:
            tree.put(path, Node(NodeKind.FILE, layer.diff_id))
    for path, results in layer.files.items():
        if base and _empty(results):
            continue
        origins = _origins(tree.get(path), results, layer.diff_id)
        tree.put(path, Node(NodeKind.FILE, layer.diff_id, results=results, origins=origins))


def _hide(tree: FileTree, layer: LayerResult) -> None:
    """This layer's files with nothing found replace lower files with results, or their folders.

    Only the paths of files with results (few) and their folders are looked up among the
    layer's digests; the layer's own entries, applied next, win over what this does.
    """
    if not layer.hidden:
        return
    checked: set[str] = set()
    hits: list[str] = []
    for path, node in tree.walk():
        if node.kind is not NodeKind.FILE or not node.results:
            continue
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            candidate = "/".join(parts[:depth])
            if candidate not in checked:
                checked.add(candidate)
                if contains(layer.hidden, candidate):
                    hits.append(candidate)
    for path in sorted(hits):  # a folder before what is under it, which it then replaces
        if not any(path.startswith(f"{done}/") for done in hits if done < path):
            tree.put(path, Node(NodeKind.FILE, layer.diff_id))


def _surviving(tree: FileTree) -> Iterator[tuple[Node, str, AnalyzerResult]]:
    for _, node in tree.walk():
        for name, result in node.results:
            yield node, name, result


def _secrets(layers: Sequence[LayerResult]) -> tuple[Secret, ...]:
    seen: dict[tuple[str, str, int, str], Secret] = {}
    for layer in layers:
        for results in layer.files.values():
            for _, result in results:
                for s in result.secrets:
                    seen.setdefault((s.rule_id, s.path, s.line, s.match), s)
    return tuple(seen.values())


def _packages(surviving: list[tuple[Node, str, AnalyzerResult]]) -> list[Package]:
    packages = []
    for node, name, result in surviving:
        for pkg in result.packages:
            layer = node.origins.get(package_key(name, pkg), node.layer)
            packages.append(replace(pkg, layer=layer))
    return packages


def _not_owned(packages: list[Package], owned: set[str]) -> tuple[Package, ...]:
    """Drop language packages whose file an OS package owns: the distro's data covers them."""
    return tuple(
        p
        for p in packages
        if p.ecosystem in OS_ECOSYSTEMS or (normalise(p.path) or "") not in owned
    )


def merge(layers: Sequence[LayerResult]) -> Merged:
    """Merge layer results, base first, into what the final image holds."""
    tree = FileTree()
    for layer in layers:
        apply_layer(tree, layer)
    texts: dict[str, str] = {}
    owned: set[str] = set()
    unknowns: list[Unknown] = [u for layer in layers for u in layer.unknowns]
    surviving = list(_surviving(tree))
    for _, _, result in surviving:
        texts.update((normalise(p) or p, text) for p, text in result.captured)
        owned.update(normalise(p) or p for p, _ in result.owned_files)
        unknowns.extend(result.unknowns)
    return Merged(
        packages=_not_owned(_packages(surviving), owned),
        secrets=_secrets(layers),
        unknowns=tuple(unknowns),
        captured=CapturedFiles(texts, tree),
        tree=tree,
    )
