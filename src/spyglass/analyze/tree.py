"""The merged file tree of an image, and symlink resolution that never leaves it.

Only what the scan recorded is in the tree: directories, symlinks, hard links and the files an
analyzer asked for. Resolution follows the kernel's rules inside the image root: absolute
targets start again at the root, ``..`` at the root stays at the root, and more than
:data:`MAX_LINKS` links (a cycle, or a chain that long) stops with no answer.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType

from spyglass.analyze.layer import FileResults
from spyglass.inventory import DiffId

MAX_LINKS = 40
"""Links followed while resolving one path, as Linux's ELOOP limit."""


class NodeKind(Enum):
    """What a path is in the merged tree."""

    DIR = "dir"
    FILE = "file"
    SYMLINK = "symlink"


_NO_ORIGINS: Mapping[tuple[object, ...], DiffId] = MappingProxyType({})


@dataclass(eq=False, slots=True)
class Node:
    """One path of the merged tree; mutable while layers are applied.

    Slotted, with one shared empty ``origins``: an image has a node per directory, symlink and
    analyzed file, so a node's size is multiplied by tens of thousands.
    """

    kind: NodeKind
    layer: DiffId | None = None
    """The layer that wrote this entry."""
    target: str = ""
    """Symlink target, verbatim."""
    results: FileResults = ()
    origins: Mapping[tuple[object, ...], DiffId] = field(default_factory=lambda: _NO_ORIGINS)
    """Package key -> the lowest layer from which that package was here without a break."""
    children: dict[str, Node] = field(default_factory=dict)


def _parts(path: str) -> list[str]:
    parts = path.split("/")
    if "" in parts or "." in parts:
        return [p for p in parts if p not in ("", ".")]
    return parts  # the usual case: a path the walker already normalised


class FileTree:
    """Paths of the merged image; entries replace, remove and hide as overlay file systems do."""

    def __init__(self) -> None:
        self.root = Node(NodeKind.DIR)

    def get(self, path: str) -> Node | None:
        """The entry at ``path`` itself (symlinks not followed)."""
        node: Node | None = self.root
        for part in _parts(path):
            if node is None or node.kind is not NodeKind.DIR:
                return None
            node = node.children.get(part)
        return node

    def _parent(self, path: str) -> tuple[Node, str] | None:
        parts = _parts(path)
        if not parts:
            return None
        node = self.root
        for part in parts[:-1]:
            child = node.children.get(part)
            if child is None or child.kind is not NodeKind.DIR:
                # An upper layer writing below a lower non-directory makes it a directory.
                child = node.children[part] = Node(NodeKind.DIR)
            node = child
        return node, parts[-1]

    def put(self, path: str, node: Node) -> None:
        """Place ``node`` at ``path``, replacing whatever was there (a whole subtree too)."""
        found = self._parent(path)
        if found is not None:
            found[0].children[found[1]] = node

    def ensure_dir(self, path: str) -> None:
        """Make ``path`` a directory; an existing directory keeps its content."""
        node = self.root
        for part in _parts(path):  # one pass: what is missing or not a directory is replaced
            child = node.children.get(part)
            if child is None or child.kind is not NodeKind.DIR:
                child = node.children[part] = Node(NodeKind.DIR)
            node = child

    def remove(self, path: str) -> None:
        """Delete ``path`` and everything under it (a whiteout)."""
        parent = self.get("/".join(_parts(path)[:-1]))
        if parent is not None and parent.kind is NodeKind.DIR and _parts(path):
            parent.children.pop(_parts(path)[-1], None)

    def clear(self, path: str) -> None:
        """Hide everything under the directory ``path`` (an opaque whiteout)."""
        node = self.get(path)
        if node is not None and node.kind is NodeKind.DIR:
            node.children.clear()

    def walk(self) -> Iterator[tuple[str, Node]]:
        """Every path below the root and its node, in sorted order, parents first."""
        stack: list[tuple[str, Node]] = [("", self.root)]
        while stack:
            prefix, node = stack.pop()
            for name in sorted(node.children, reverse=True):
                child = node.children[name]
                stack.append((f"{prefix}{name}/", child))
            if prefix:
                yield prefix[:-1], node

    def resolve(self, path: str) -> str | None:
        """The real path that ``path`` names after following every symlink, or None.

        None when a component is missing or not a directory, or after :data:`MAX_LINKS` links.
        """
        pending = list(reversed(_parts(path)))
        resolved: list[tuple[str, Node]] = []
        links = 0
        while pending:
            part = pending.pop()
            if part == "..":
                if resolved:  # ".." at the root stays at the root, as the kernel does
                    resolved.pop()
                continue
            parent = resolved[-1][1] if resolved else self.root
            node = parent.children.get(part) if parent.kind is NodeKind.DIR else None
            if node is None:
                return None
            if node.kind is NodeKind.SYMLINK:
                links += 1
                if links > MAX_LINKS or not node.target:
                    return None
                if node.target.startswith("/"):
                    resolved = []
                pending.extend(reversed(_parts(node.target)))
                continue
            resolved.append((part, node))
        return "/".join(name for name, _ in resolved)
