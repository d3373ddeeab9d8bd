"""The one explicit list of analyzers, and selection by name or group.

Add an analyzer by adding its class to ``ANALYZERS`` (one line, kept sorted by name); nothing
registers itself on import.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from spyglass.analyze.interface import Analyzer
from spyglass.analyze.lang.dotnet import DotnetAnalyzer
from spyglass.analyze.lang.gobinary import GoBinaryAnalyzer
from spyglass.analyze.lang.java import JavaAnalyzer
from spyglass.analyze.lang.node import NodeAnalyzer
from spyglass.analyze.lang.php import ComposerAnalyzer
from spyglass.analyze.lang.python import PythonAnalyzer
from spyglass.analyze.lang.python_lock import PythonLockAnalyzer
from spyglass.analyze.lang.ruby import RubyAnalyzer
from spyglass.analyze.lang.rust import RustAnalyzer
from spyglass.analyze.os.release import OSReleaseAnalyzer
from spyglass.analyze.pkgdb.apk import ApkAnalyzer
from spyglass.analyze.pkgdb.dpkg import DpkgAnalyzer
from spyglass.analyze.pkgdb.rpm.analyzer import RpmAnalyzer
from spyglass.analyze.secrets.analyzer import SecretsAnalyzer
from spyglass.errors import UsageError

ANALYZERS: tuple[type[Analyzer], ...] = (
    DotnetAnalyzer,
    GoBinaryAnalyzer,
    JavaAnalyzer,
    NodeAnalyzer,
    ComposerAnalyzer,
    PythonAnalyzer,
    PythonLockAnalyzer,
    RubyAnalyzer,
    RustAnalyzer,
    OSReleaseAnalyzer,
    ApkAnalyzer,
    DpkgAnalyzer,
    RpmAnalyzer,
    SecretsAnalyzer,
)


def select(
    only: Iterable[str] = (),
    skip: Iterable[str] = (),
    *,
    available: Sequence[type[Analyzer]] = ANALYZERS,
    lockfiles: bool = False,
) -> list[Analyzer]:
    """Instances of the analyzers chosen by full name (``pkgdb/dpkg``) or group (``os``).

    ``lockfiles`` is off for image scans: an image is judged by what is installed in it, not by
    the lock files an application left beside it (see ``Analyzer.lockfiles``); analyzers that
    read only lock files (``Analyzer.lockfiles_only``) are then left out.
    """
    only, skip = set(only), set(skip)
    known = {a.name for a in available} | {a.selection_group() for a in available}
    unknown = (only | skip) - known
    if unknown:
        names, choices = ", ".join(sorted(unknown)), ", ".join(sorted(known))
        raise UsageError(f"unknown analyzer(s) {names}; choose from {choices}")

    def picked(a: type[Analyzer]) -> bool:
        keys = {a.name, a.selection_group()}
        idle = a.lockfiles_only and not lockfiles
        return (not only or bool(keys & only)) and not keys & skip and not idle

    return [a(lockfiles=lockfiles) for a in available if picked(a)]
