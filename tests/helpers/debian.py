"""Real Debian root file systems made with mmdebstrap from the machine's own package sources.

Used by the slow end-to-end test and by ``bench/scan.py``. Needs root (``--mode=root``) or
unprivileged user namespaces (``--mode=unshare``).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

SOURCES_CANDIDATES = ("/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list")


def host_suite() -> str:
    """The codename of the machine's Debian release (bookworm on Debian 12)."""
    for line in Path("/etc/os-release").read_text().splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.split("=", 1)[1].strip('"')
    return "stable"


def host_sources() -> list[str]:
    """mmdebstrap mirror arguments: the machine's configured sources file, if there is one."""
    return [path for path in SOURCES_CANDIDATES if Path(path).is_file()][:1]


def mmdebstrap(dest: Path, *, include: Sequence[str] = (), variant: str = "minbase") -> Path:
    """Build a Debian root file system into the directory ``dest`` and return it."""
    mode = "root" if os.geteuid() == 0 else "unshare"
    command = [
        "mmdebstrap", f"--variant={variant}", f"--mode={mode}", "--format=directory",
        "--quiet", *(f"--include={name}" for name in include),
        host_suite(), str(dest), *host_sources(),
    ]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return dest


def dpkg_query(root: Path) -> list[tuple[str, str, str]]:
    """(package, version, architecture) of every installed package, as dpkg-query prints them."""
    output = subprocess.run(
        ["dpkg-query", f"--admindir={root / 'var/lib/dpkg'}", "-W",
         "-f=${db:Status-Status}\t${Package}\t${Version}\t${Architecture}\n"],
        check=True, capture_output=True, text=True,
    ).stdout
    rows = [line.split("\t") for line in output.splitlines() if line]
    installed = [row[1:] for row in rows if row[0] == "installed"]
    return sorted((name, version, arch) for name, version, arch in installed)
