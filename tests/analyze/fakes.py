"""Fake analyzers for the walker, merge and scan tests."""

from __future__ import annotations

from collections import Counter

from spyglass.analyze.interface import Analyzer, AnalyzerResult, FileInput
from spyglass.errors import AnalyzerError
from spyglass.inventory import Package, Secret


class Lines(Analyzer):
    """Wants ``etc/thing`` (or any path ending in ``thing``): one package per line ``name ver``."""

    name = "test/lines"
    version = 1

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()

    def required(self, path: str, size: int) -> bool:
        return path.endswith("thing")

    def analyze(self, file: FileInput) -> AnalyzerResult:
        self.seen[file.path] += 1
        text = file.reader.read().decode()
        if text.startswith("BAD"):
            raise AnalyzerError(f"{file.path} starts with BAD")
        if text.startswith("CRASH"):
            raise RuntimeError("boom")
        packages = tuple(
            Package(name=line.split()[0], version=line.split()[1], ecosystem="deb")
            for line in text.splitlines() if line.strip()
        )
        return AnalyzerResult(packages=packages)


class Everything(Analyzer):
    """Wants every file and captures its text, so a test sees the whole merged tree."""

    name = "test/everything"
    version = 1

    def required(self, path: str, size: int) -> bool:
        return True

    def analyze(self, file: FileInput) -> AnalyzerResult:
        text = file.reader.read().decode("utf-8", "replace")
        return AnalyzerResult(captured=((file.path, text),))


class Secrets(Analyzer):
    """Reports a secret for every line starting with ``TOKEN=``."""

    name = "test/secrets"
    version = 1

    def required(self, path: str, size: int) -> bool:
        return path.endswith(".env")

    def analyze(self, file: FileInput) -> AnalyzerResult:
        lines = file.reader.read().decode().splitlines()
        return AnalyzerResult(secrets=tuple(
            Secret("token", "a token", "high", file.path, n, "TOKEN=***")
            for n, line in enumerate(lines, 1) if line.startswith("TOKEN=")
        ))


class Small(Analyzer):
    """Wants ``big`` but only accepts 10 bytes."""

    name = "test/small"
    version = 1
    max_size = 10

    def required(self, path: str, size: int) -> bool:
        return path == "big"

    def analyze(self, file: FileInput) -> AnalyzerResult:
        return AnalyzerResult()
