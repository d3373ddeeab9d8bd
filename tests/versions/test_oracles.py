"""Random versions checked against the ecosystems' own tools: dpkg and rpm (python3-rpm).

Each tool runs once over a whole batch (one shell loop for dpkg, one Python process for rpm's
bindings, which exist only for the system Python), with a seeded RNG so a failure reproduces.
"""

from __future__ import annotations

import os
import random
import subprocess

import pytest

from spyglass.errors import InvalidVersion
from spyglass.versions import compare, dpkg, valid
from tests.helpers.services import require_tool, unavailable

PAIRS = 10_000
SEED = 20240601

_DPKG_LOOP = r"""
while IFS="$(printf '\t')" read -r a b; do
  dpkg --compare-versions "$a" lt "$b" 2>/dev/null; r=$?
  if [ $r = 0 ]; then echo -1
  elif [ $r = 1 ]; then
    if dpkg --compare-versions "$a" eq "$b" 2>/dev/null; then echo 0; else echo 1; fi
  else echo E; fi
done
"""
_DPKG_VALIDATE = r"""
while IFS= read -r v; do
  if dpkg --validate-version -- "$v" >/dev/null 2>&1; then echo 1; else echo 0; fi
done
"""
_RPM_COMPARE = r"""
import sys, rpm
for line in sys.stdin:
    a, b = line.rstrip("\n").split("\t")
    va, vb = rpm.ver(a), rpm.ver(b)
    print((va > vb) - (va < vb))
"""


def _pick(rng: random.Random, alphabet: str, low: int, high: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


def _mutate(rng: random.Random, text: str, alphabet: str) -> str:
    """A near neighbour, so that pairs share prefixes and reach the subtle rules."""
    i = rng.randrange(len(text) + 1)
    choice = rng.random()
    if choice < 0.4:
        return text[:i] + rng.choice(alphabet) + text[i:]
    if choice < 0.7 and len(text) > 1:
        return text[:i] + text[i + 1 :]
    return text[:i] + rng.choice(alphabet) + text[i + 1 :]


def _dpkg_version(rng: random.Random) -> str:
    epoch = f"{rng.choice(['0', '1', '2', '01', '10'])}:" if rng.random() < 0.3 else ""
    upstream = rng.choice("0123456789") + _pick(rng, "0123456789.+~abzAZ:-", 0, 8)
    revision = f"-{_pick(rng, '0123456789.+~abz', 1, 5)}" if rng.random() < 0.6 else ""
    return epoch + upstream + revision


def _rpm_version(rng: random.Random) -> str:
    epoch = f"{rng.randint(0, 3)}:" if rng.random() < 0.3 else ""
    version = _pick(rng, "0123456789.~^_+abcXYZé", 1, 8)
    release = f"-{_pick(rng, '0123456789.~^abcél', 1, 6)}" if rng.random() < 0.7 else ""
    return epoch + version + release


def _pairs(make: object, alphabet: str) -> list[tuple[str, str]]:
    rng = random.Random(SEED)
    pairs = []
    for _ in range(PAIRS):
        a = make(rng)  # type: ignore[operator]
        b = _mutate(rng, a, alphabet) if rng.random() < 0.6 else make(rng)  # type: ignore[operator]
        pairs.append((a, b))
    return pairs


def _run(argv: list[str], lines: list[str]) -> list[str]:
    result = subprocess.run(
        argv, input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        unavailable(f"{argv[0]} failed: {result.stderr.strip()[:200]}")
    return result.stdout.split()


def _ours(kind: str, a: str, b: str) -> str:
    try:
        return str(compare(kind, a, b))
    except InvalidVersion:
        return "E"


def test_dpkg_agrees_on_random_pairs() -> None:
    require_tool("dpkg", "apt-get install dpkg")
    pairs = [(a, b) for a, b in _pairs(_dpkg_version, "0123456789.~+-:a") if "\t" not in a + b]
    theirs = _run(["sh", "-c", _DPKG_LOOP], [f"{a}\t{b}" for a, b in pairs])
    disagreements = [
        (a, b, want, _ours("deb", a, b))
        for (a, b), want in zip(pairs, theirs, strict=True)
        if _ours("deb", a, b) != want
    ]
    assert disagreements == []


def test_dpkg_validity_agrees_on_random_strings() -> None:
    require_tool("dpkg", "apt-get install dpkg")
    rng = random.Random(SEED)
    texts = [_pick(rng, "0123456789:-.~+aZ_ !", 1, 7) for _ in range(1500)]
    texts = [t for t in texts if t.strip() == t] + ["1:-1", "a", "1-", ":1", "1:", "+1:1"]
    theirs = _run(["sh", "-c", _DPKG_VALIDATE], texts)
    disagreements = [
        (t, want)
        for t, want in zip(texts, theirs, strict=True)
        if str(int(valid("deb", t))) != want
    ]
    assert disagreements == []


def test_rpm_agrees_on_random_pairs() -> None:
    python = "/usr/bin/python3"  # rpm's bindings exist for the system Python only
    probe = [python, "-c", "import rpm"]
    if not os.path.exists(python) or subprocess.run(probe, capture_output=True).returncode:
        unavailable("Debian's python3-rpm is not installed (apt-get install python3-rpm)")
    pairs = _pairs(_rpm_version, "0123456789.~^-:a")
    pairs = [(a, b) for a, b in pairs if _valid_rpm(a) and _valid_rpm(b)]
    assert len(pairs) > PAIRS * 0.9
    theirs = _run([python, "-c", _RPM_COMPARE], [f"{a}\t{b}" for a, b in pairs])
    disagreements = [
        (a, b, want, _ours("rpm", a, b))
        for (a, b), want in zip(pairs, theirs, strict=True)
        if _ours("rpm", a, b) != want
    ]
    assert disagreements == []


def _valid_rpm(text: str) -> bool:
    return valid("rpm", text)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("1.0-1", (0, "1.0", "1")),
        ("2:1.0", (2, "1.0", "")),
        ("1:2.3-4-5+deb12u1", (1, "2.3-4", "5+deb12u1")),
        (" 1:2:3 ", (1, "2:3", "")),
    ],
)
def test_dpkg_split(text: str, parts: tuple[int, str, str]) -> None:
    assert dpkg.split(text) == parts
