"""Read the text of release files: ``KEY=value`` files and "<Name> release <version>" lines.

os-release(5) and lsb-release are shell-style assignments; the quoting is undone with the
standard library's ``shlex``. The one-line release files of the Red Hat family, SUSE, Photon and
Mariner have no library, so the few patterns they need are written here.
"""

from __future__ import annotations

import re
import shlex

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RELEASE = re.compile(r"\brelease\s+(\d[\w.\-]*)", re.IGNORECASE)
_FIRST_VERSION = re.compile(r"(?<![\w.])(\d+(?:\.\d+)*)")


def parse_assignments(text: str) -> dict[str, str]:
    """``KEY=value`` lines as a dict; comments, blank and malformed lines are ignored."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, raw = line.partition("=")
        if _KEY.match(key.strip()):
            values[key.strip()] = _unquote(raw.strip())
    return values


def _unquote(raw: str) -> str:
    try:
        return " ".join(shlex.split(raw, comments=False, posix=True))
    except ValueError:  # an unbalanced quote: keep the text without the stray quote
        return raw.strip("\"'")


def release_version(text: str) -> str:
    """The version after the word ``release`` (``CentOS Linux release 7.6.1810 (Core)``)."""
    found = _RELEASE.search(text)
    return found.group(1) if found else ""


def first_version(text: str) -> str:
    """The first dotted number in the text (``VMware Photon OS 4.0`` gives ``4.0``)."""
    found = _FIRST_VERSION.search(text)
    return found.group(1) if found else ""


def major_minor(version: str) -> str:
    """The first two components of a dotted version (``2.0.20220226`` gives ``2.0``)."""
    return ".".join(version.split(".")[:2])
