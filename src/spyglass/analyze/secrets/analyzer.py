"""secrets: credentials in file content (private keys, cloud and SaaS tokens, config passwords).

Which files are read (``required``, by path and size alone):

- every file of 8 bytes to 10 MiB, except
- names with a binary suffix (``.so``, ``.so.N``, images, archives, fonts, ``.pyc``,
  ``.class``, ``.mo``, databases…), and
- noise paths: documentation (``usr/share/doc``, ``man``, ``info``), locales, zoneinfo,
  icons and fonts, public CA certificates (``etc/ssl/certs``, ``usr/share/ca-certificates``,
  ``etc/pki/ca-trust``, ``etc/pki/tls/certs``), C headers, package databases, and
  CPython's own test suite (``usr/lib/python3*/test``, which ships sample keys on purpose), and
- what Trivy's built-in allow rules leave out by default, because that is what its users
  expect and what keeps third-party sample keys out of the report: ``usr/share``, ``usr/lib``
  and ``usr/include`` (files the distribution ships), test, example and vendor folders,
  Markdown files, installed language packages (``node_modules``, ``site-packages``,
  ``dist-packages``, ``*.dist-info``, Go's module cache, installed Ruby gems) and locale
  folders. Application code and configuration (``app/``, ``srv/``, ``opt/``, ``etc/``,
  ``root/``, ``home/``, ``usr/local/``…) stay scanned.

Which files are scanned (``analyze``): those without a NUL byte in their first 8 KiB (a NUL
means binary). For each file, the rules' keywords are first looked for (each distinct keyword
once; see ``rules``); only the rules whose keywords occur are combined into one alternation
(compiled once per combination and cached) and run in a single pass. Most files contain
no keyword and cost only the keyword searches (a dozen, each as fast as a substring search).

A finding's ``match`` is redacted: the secret's first characters (at most 4, fewer for
short secrets) followed by ``*`` for the rest; for a private key, the BEGIN line only.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import ClassVar

from spyglass.analyze.interface import Analyzer, AnalyzerResult, FileInput
from spyglass.analyze.secrets.rules import RULES, Rule
from spyglass.inventory import Secret

MAX_FILE = 10 * 1024 * 1024
MIN_FILE = 8
BINARY_PROBE = 8192
_NOISE_PREFIXES = (
    "usr/share/doc/",
    "usr/share/man/",
    "usr/share/info/",
    "usr/share/locale/",
    "usr/share/i18n/",
    "usr/share/zoneinfo/",
    "usr/share/icons/",
    "usr/share/fonts/",
    "usr/share/mime/",
    "usr/share/ca-certificates/",
    "usr/lib/locale/",
    "usr/include/",
    "etc/ssl/certs/",
    "etc/pki/ca-trust/",
    "etc/pki/tls/certs/",
    "var/lib/dpkg/",
    "var/lib/rpm/",
    "var/lib/apk/",
    "lib/apk/db/",
    "proc/",
    "sys/",
    "dev/",
)
_PYTHON_TESTS = re.compile(r"^usr/(?:local/)?lib/python[23][^/]*/test/")
# Trivy's built-in allow rules ("usr-dirs", "tests", "examples", "vendor", "locale-dir",
# "markdown", "node.js", "golang", "python", "dist-info", "rubygems"), as path rules.
_DISTRO_DIRS = ("usr/share/", "usr/lib/", "usr/include/", "lib/")
_ALLOWED = re.compile(
    r"(?:^|/)(?:tests?|testdata|__tests__|examples?|vendor|locale|node_modules"
    r"|site-packages|dist-packages|[^/]+\.dist-info|pkg/mod|gems/[^/]+)/"
    r"|\.md$",
    re.IGNORECASE,
)
_BINARY_SUFFIXES = (
    ".so", ".a", ".o", ".pyc", ".pyo", ".class", ".jar", ".war", ".ear", ".whl", ".egg",
    ".png", ".jpg", ".jpeg", ".gif", ".ico", ".bmp", ".webp", ".svgz",
    ".gz", ".tgz", ".bz2", ".xz", ".zst", ".zip", ".7z", ".tar", ".deb", ".rpm",
    ".woff", ".woff2", ".ttf", ".otf", ".pcf", ".mo", ".db", ".sqlite", ".wasm", ".node",
)  # fmt: skip


def redact(secret: str) -> str:
    """At most the first 4 characters (a quarter of a short secret), the rest as ``*``."""
    keep = min(4, len(secret) // 4)
    return secret[:keep] + "*" * (len(secret) - keep)


def _binary_name(base: str) -> bool:
    return base.endswith(_BINARY_SUFFIXES) or ".so." in base


def wanted_path(path: str) -> bool:
    """Whether a path is scanned at all (the size rule aside)."""
    if path.startswith(_NOISE_PREFIXES) or _PYTHON_TESTS.match(path):
        return False
    if path.startswith(_DISTRO_DIRS) or _ALLOWED.search(path):
        return False
    return not _binary_name(path.rpartition("/")[2].lower())


def _applies(rule: Rule, path: str) -> bool:
    return not rule.names or any(path == n or path.endswith("/" + n) for n in rule.names)


_KEYWORDS = {k: re.compile(k) for rule in RULES for k in rule.keywords}


def candidate_rules(path: str, data: bytes) -> tuple[int, ...]:
    """Indexes of the rules that apply to this path and whose keywords occur in ``data``."""
    seen: dict[bytes, bool] = {}

    def occurs(keyword: bytes) -> bool:
        if keyword not in seen:
            seen[keyword] = _KEYWORDS[keyword].search(data) is not None
        return seen[keyword]

    return tuple(
        i
        for i, rule in enumerate(RULES)
        if _applies(rule, path) and any(occurs(k) for k in rule.keywords)
    )


@lru_cache(maxsize=256)
def _combined(indexes: tuple[int, ...]) -> re.Pattern[bytes]:
    """One alternation of the given rules; rule ``i`` is group ``r{i}``, its secret ``s{i}``."""
    parts = [
        b"(?P<r%d>%s)" % (i, RULES[i].pattern.replace(b"(?P<secret>", b"(?P<s%d>" % i))
        for i in indexes
    ]
    return re.compile(b"|".join(parts))


def scan(path: str, data: bytes) -> list[Secret]:
    """Every secret in ``data`` (the content of ``path``), redacted, with 1-based lines."""
    indexes = candidate_rules(path, data)
    if not indexes:
        return []
    found: list[Secret] = []
    line, counted = 1, 0
    for match in _combined(indexes).finditer(data):
        index = int((match.lastgroup or "r0")[1:])
        rule, start = RULES[index], match.start(f"s{index}")
        line += data.count(b"\n", counted, start)
        counted = start
        value = match.group(f"s{index}").decode("utf-8", "replace")
        shown = value if rule.whole_line else redact(value)
        found.append(Secret(rule.id, rule.title, rule.severity, path, line, shown))
    return found


class SecretsAnalyzer(Analyzer):
    """Secrets in the content of text files."""

    name: ClassVar[str] = "secrets"
    version: ClassVar[int] = 2
    group: ClassVar[str] = "secrets"
    max_size: ClassVar[int] = MAX_FILE

    def required(self, path: str, size: int) -> bool:
        """Text-like files of 8 bytes to 10 MiB outside noise paths (see the module doc)."""
        return MIN_FILE <= size <= MAX_FILE and wanted_path(path)

    def analyze(self, file: FileInput) -> AnalyzerResult:
        """Redacted secrets of one file; nothing for a binary file."""
        # The probe first: an executable of megabytes is then never read whole.
        if b"\0" in file.reader.read(BINARY_PROBE):
            return AnalyzerResult()
        file.reader.seek(0)
        data = file.reader.read(MAX_FILE + 1)
        return AnalyzerResult(secrets=tuple(scan(file.path, data)))
