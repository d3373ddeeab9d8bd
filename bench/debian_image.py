"""Build (once, cached) a real multi-layer Debian image as an OCI layout for the benchmarks.

Three layers made from three mmdebstrap stages of the machine's own Debian sources: minbase,
then Python/Git/curl, then a C toolchain; each upper layer is the difference from the stage below.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.helpers.debian import mmdebstrap  # noqa: E402
from tests.helpers.tree_layout import write_layout  # noqa: E402

STAGES = (
    (),
    ("python3", "python3-pip", "git", "curl", "ca-certificates"),
    ("python3", "python3-pip", "git", "curl", "ca-certificates", "gcc", "g++", "make"),
)


def build(cache: Path) -> Path:
    """The OCI layout directory of the benchmark image, built on first use."""
    layout = cache / "debian-layout"
    if (layout / "index.json").exists():
        return layout
    stages = cache / "stages"
    stages.mkdir(parents=True, exist_ok=True)
    roots = []
    for i, include in enumerate(STAGES):
        root = stages / f"stage{i}"
        if not (root / "var/lib/dpkg/status").exists():
            shutil.rmtree(root, ignore_errors=True)
            mmdebstrap(root, include=include)
        roots.append(root)
    return write_layout(roots, layout, tag="bench")


if __name__ == "__main__":
    print(build(REPO / ".bench-cache"))
