"""OS detection: capture the release files of each layer, decide the distro after the merge.

The decision needs several files of the *final* file system (os-release names Debian, while
``etc/debian_version`` holds the point release), so :class:`OSReleaseAnalyzer` only keeps the
text of the files and :func:`detect` decides on the merged set.

Order of evidence: an os-release with an ``ID`` (``etc/os-release`` first, as os-release(5)
says) names the family, and a family's own file refines the version; without one, the
distro-specific files are tried, the most specific first (Ubuntu also ships
``etc/debian_version``, so that file comes last). Written by hand: the few release formats
have no maintained Python parser that works on files rather than the running host.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar

from spyglass.analyze.interface import Analyzer, AnalyzerResult, FileInput, PathHint
from spyglass.analyze.os import families
from spyglass.analyze.os.fields import parse_assignments
from spyglass.inventory import OSRelease

OS_RELEASE_FILES = ("etc/os-release", "usr/lib/os-release")

RELEASE_FILES: frozenset[str] = frozenset(
    {
        *OS_RELEASE_FILES,
        *families.RPM_RELEASE_FILES,
        "etc/lsb-release",
        "etc/debian_version",
        "etc/alpine-release",
        "etc/SuSE-release",
        "etc/photon-release",
        "etc/mariner-release",
        "etc/azurelinux-release",
    }
)
"""Every path the analyzer captures (paths in the image, no leading slash)."""

_MAX_SIZE = 64 * 1024  # release files are a few hundred bytes; anything bigger is not one


class OSReleaseAnalyzer(Analyzer):
    """Captures the text of the release files; :func:`detect` decides after the merge."""

    name: ClassVar[str] = "os/release"
    version: ClassVar[int] = 1
    group: ClassVar[str] = "os"
    path_hint: ClassVar[PathHint | None] = PathHint(
        names=frozenset(f.rpartition("/")[2].lower() for f in RELEASE_FILES)
    )

    def required(self, path: str, size: int) -> bool:
        """Wants the known release files, when they are small."""
        return path in RELEASE_FILES and size <= _MAX_SIZE

    def analyze(self, file: FileInput) -> AnalyzerResult:
        """Keeps the file's text (undecodable bytes replaced) for :func:`detect`."""
        text = file.reader.read(_MAX_SIZE).decode("utf-8", errors="replace")
        return AnalyzerResult(captured=((file.path, text),))


def detect(files: Mapping[str, str]) -> OSRelease | None:
    """The distribution named by the merged release files (path -> text), or None."""
    fields = _os_release_fields(files)
    if fields.get("ID"):
        return _from_os_release(fields, files)
    for fallback in _FALLBACKS:
        found = fallback(files)
        if found is not None:
            return found
    return None


def _os_release_fields(files: Mapping[str, str]) -> dict[str, str]:
    for path in OS_RELEASE_FILES:
        fields = parse_assignments(files.get(path, ""))
        if fields.get("ID"):
            return fields
    return {}


def _from_os_release(fields: dict[str, str], files: Mapping[str, str]) -> OSRelease | None:
    family = families.OS_RELEASE_IDS.get(fields["ID"].lower())
    if family is None:
        return None
    if family == "centos" and "stream" in fields.get("NAME", "").lower():
        family = "centos-stream"
    version = _version(family, fields, files)
    if not version and family not in families.ROLLING:
        return None
    name = fields.get("PRETTY_NAME") or fields.get("NAME", "")
    codename = fields.get("VERSION_CODENAME") or fields.get("UBUNTU_CODENAME", "")
    return OSRelease(family=family, version=version, name=name, codename=codename)


def _version(family: str, fields: dict[str, str], files: Mapping[str, str]) -> str:
    """The family's own file when it is more precise, else os-release's ``VERSION_ID``."""
    refined = _refined_version(family, files)
    if family == "debian" and not refined[:1].isdigit():
        # testing and sid say "trixie/sid" there; a numbered os-release is then better
        return fields.get("VERSION_ID") or refined
    return refined or fields.get("VERSION_ID", "")


def _refined_version(family: str, files: Mapping[str, str]) -> str:
    if family == "debian":
        return files.get("etc/debian_version", "").strip()
    if family == "alpine":
        return files.get("etc/alpine-release", "").strip()
    path = families.FAMILY_RELEASE_FILE.get(family)
    text = files.get(path, "") if path else ""
    if text and families.family_of_release_line(text) == family:
        return families.rpm_line_version(family, text)
    return ""


def _alpine(files: Mapping[str, str]) -> OSRelease | None:
    version = files.get("etc/alpine-release", "").strip()
    return OSRelease("alpine", version, name=f"Alpine Linux {version}") if version else None


def _rpm_family(files: Mapping[str, str]) -> OSRelease | None:
    for path in families.RPM_RELEASE_FILES:
        text = files.get(path, "").strip()
        family = families.family_of_release_line(text) if text else None
        version = families.rpm_line_version(family, text) if family else ""
        if family and version:
            return OSRelease(family, version, name=text.splitlines()[0].strip())
    return None


def _suse(files: Mapping[str, str]) -> OSRelease | None:
    text = files.get("etc/SuSE-release", "")
    found = families.suse_release(text) if text.strip() else None
    return OSRelease(found[0], found[1], name=text.splitlines()[0].strip()) if found else None


def _photon_like(path: str, family: str) -> Callable[[Mapping[str, str]], OSRelease | None]:
    def detect_one(files: Mapping[str, str]) -> OSRelease | None:
        text = files.get(path, "")
        version = families.photon_like_version(text)
        return OSRelease(family, version, name=text.splitlines()[0].strip()) if version else None

    return detect_one


def _ubuntu(files: Mapping[str, str]) -> OSRelease | None:
    found = families.lsb_ubuntu(files.get("etc/lsb-release", ""))
    if found is None:
        return None
    return OSRelease("ubuntu", found[0], name=f"Ubuntu {found[0]}", codename=found[1])


def _debian(files: Mapping[str, str]) -> OSRelease | None:
    version = files.get("etc/debian_version", "").strip()
    return OSRelease("debian", version, name=f"Debian {version}") if version else None


_FALLBACKS: tuple[Callable[[Mapping[str, str]], OSRelease | None], ...] = (
    _alpine,
    _rpm_family,
    _suse,
    _photon_like("etc/photon-release", "photon"),
    _photon_like("etc/mariner-release", "cbl-mariner"),
    _photon_like("etc/azurelinux-release", "azurelinux"),
    _ubuntu,
    _debian,
)
"""Detectors for images without a usable os-release, the most specific first."""
