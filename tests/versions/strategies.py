"""Hypothesis strategies for valid versions of each ecosystem; each docstring quotes the rule."""

from __future__ import annotations

from hypothesis import strategies as st

SearchStrategy = st.SearchStrategy

_num = st.integers(min_value=0, max_value=30)
_big = st.integers(min_value=0, max_value=10**12)


def _digits(low: int = 1, high: int = 4) -> SearchStrategy[str]:
    return st.text("0123456789", min_size=low, max_size=high)


@st.composite
def _dpkg(draw: st.DrawFn) -> str:
    epoch = draw(st.none() | st.integers(0, 12))
    upstream = draw(st.sampled_from("0123456789")) + draw(
        st.text("0123456789abzABZ.+~", max_size=8)
    )
    revision = draw(st.none() | st.text("0123456789abz.+~", min_size=1, max_size=5))
    if draw(st.booleans()):
        upstream += ":" + draw(_digits(1, 2))
        epoch = epoch or 0
    if draw(st.booleans()):
        upstream += "-" + draw(_digits(1, 2))
        revision = revision or "1"
    head = f"{epoch}:" if epoch is not None else ""
    return head + upstream + (f"-{revision}" if revision is not None else "")


def dpkg_versions() -> SearchStrategy[str]:
    """deb-version(7): "[epoch:]upstream_version[-debian_revision]"; "The upstream_version may
    contain only alphanumerics and the characters . + - ~ (full stop, plus, hyphen, tilde) and
    should start with a digit"; a colon or hyphen in it needs an epoch or a revision."""
    return _dpkg()


@st.composite
def _rpm(draw: st.DrawFn) -> str:
    part = st.text("0123456789abcXYZ._+~^", min_size=1, max_size=8)
    epoch = draw(st.none() | st.integers(0, 5))
    release = draw(st.none() | part)
    head = f"{epoch}:" if epoch is not None else ""
    return head + draw(part) + (f"-{release}" if release is not None else "")


def rpm_versions() -> SearchStrategy[str]:
    """rpm: "[epoch:]version[-release]"; version and release hold no "-"; rpmvercmp treats
    anything but ASCII letters, digits, "~" and "^" as separators."""
    return _rpm()


_APK_PRE = ("alpha", "beta", "pre", "rc")
_APK_POST = ("cvs", "svn", "git", "hg", "p")


def apk_versions() -> SearchStrategy[str]:
    """apk-tools: "digit{.digit}...{letter}{_suf{#}}...{~hash}{-r#}" with suffixes alpha, beta,
    pre, rc (before the release) and cvs, svn, git, hg, p (after it)."""
    suffix = st.tuples(st.sampled_from(_APK_PRE + _APK_POST), st.none() | _digits(1, 3))
    return st.builds(
        lambda first, dots, letter, suffixes, hash_, rev: (
            first
            + "".join(f".{d}" for d in dots)
            + (letter or "")
            + "".join(f"_{name}{n or ''}" for name, n in suffixes)
            + (f"~{hash_}" if hash_ else "")
            + (f"-r{rev}" if rev is not None else "")
        ),
        _digits(1, 3),
        st.lists(_digits(1, 3), max_size=3),
        st.none() | st.sampled_from("abz"),
        st.lists(suffix, max_size=2),
        st.none() | st.text("0123456789abcdef", min_size=1, max_size=4),
        st.none() | _num,
    )


def pep440_versions() -> SearchStrategy[str]:
    """PEP 440: "[N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]"."""
    return st.builds(
        lambda epoch, release, pre, post, dev, local: (
            (f"{epoch}!" if epoch else "")
            + ".".join(map(str, release))
            + (f"{pre[0]}{pre[1]}" if pre else "")
            + (f".post{post}" if post is not None else "")
            + (f".dev{dev}" if dev is not None else "")
            + (f"+{local}" if local else "")
        ),
        st.none() | st.integers(1, 3),
        st.lists(_num, min_size=1, max_size=4),
        st.none() | st.tuples(st.sampled_from(["a", "b", "rc"]), _num),
        st.none() | _num,
        st.none() | _num,
        st.none() | st.from_regex(r"[a-z0-9]{1,4}(\.[a-z0-9]{1,4}){0,2}", fullmatch=True),
    )


def _semver_ids(numeric_zero_ok: bool = False) -> SearchStrategy[list[str]]:
    ident = st.one_of(
        st.integers(0, 50).map(str),
        st.from_regex(r"[0-9]*[A-Za-z-][0-9A-Za-z-]{0,4}", fullmatch=True),
    )
    return st.lists(ident, max_size=3)


def semver_versions(prefix: str = "") -> SearchStrategy[str]:
    """SemVer 2.0: "MAJOR.MINOR.PATCH[-pre][+build]"; "Numeric identifiers MUST NOT include
    leading zeroes"; "Build metadata MUST be ignored when determining version precedence"."""
    return st.builds(
        lambda major, minor, patch, pre, build: (
            f"{prefix}{major}.{minor}.{patch}"
            + (f"-{'.'.join(pre)}" if pre else "")
            + (f"+{'.'.join(build)}" if build else "")
        ),
        _big,
        _num,
        _num,
        _semver_ids(),
        st.lists(st.from_regex(r"[0-9A-Za-z-]{1,4}", fullmatch=True), max_size=2),
    )


def go_versions() -> SearchStrategy[str]:
    """x/mod/semver: "vMAJOR[.MINOR[.PATCH[-PRERELEASE][+BUILD]]]"; "v1" and "v1.2" are
    shorthands for "v1.0.0" and "v1.2.0" and take no prerelease or build."""
    short = st.builds(
        lambda m, n: f"v{m}" + (f".{n}" if n is not None else ""), _num, st.none() | _num
    )
    return semver_versions("v") | short


def nuget_versions() -> SearchStrategy[str]:
    """NuGet: "Major.Minor.Patch[.Revision][-Prerelease][+Metadata]"; "1.0" and "1.0.0.0" are
    both "1.0.0"; prerelease labels compare case-insensitively."""
    return st.builds(
        lambda numbers, pre: ".".join(map(str, numbers)) + (f"-{'.'.join(pre)}" if pre else ""),
        st.lists(_num, min_size=1, max_size=4),
        _semver_ids(),
    )


_MAVEN_WORDS = [
    "alpha",
    "beta",
    "milestone",
    "rc",
    "cr",
    "snapshot",
    "ga",
    "final",
    "release",
    "sp",
    "a",
    "b",
    "m",
    "x",
    "foo",
    "",
]


def maven_versions() -> SearchStrategy[str]:
    """ComparableVersion: "mixing of '-' (hyphen) and '.' (dot) separators", "transition between
    characters and digits also constitutes a separator", well-known qualifiers, any others."""
    token = st.one_of(
        _digits(1, 3),
        st.sampled_from(_MAVEN_WORDS).filter(bool),
        st.builds(lambda w, n: f"{w}{n}", st.sampled_from(["a", "b", "m", "rc"]), _num),
    )
    return st.builds(
        lambda first, rest: first + "".join(sep + tok for sep, tok in rest),
        token,
        st.lists(st.tuples(st.sampled_from([".", "-", ""]), token), max_size=4),
    ).map(lambda s: s.replace("--", "-"))


def gem_versions() -> SearchStrategy[str]:
    """Gem::Version: "[0-9]+(\\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?"; "If any
    part contains letters (currently only a-z are supported) then that version is considered
    prerelease"."""
    return st.from_regex(
        r"[0-9]{1,3}(\.([0-9]{1,2}|[a-c]{1,2}[0-9]?)){0,4}(-[a-c0-9]{1,3})?", fullmatch=True
    )


def composer_versions() -> SearchStrategy[str]:
    """PHP version_compare: "special version strings ... any string not found in this list <
    dev < alpha = a < beta = b < RC = rc < # < pl = p", parts split at . - _ + and at
    letter/digit boundaries; Composer drops a leading "v"."""
    part = st.one_of(
        _digits(1, 3),
        st.sampled_from(["dev", "alpha", "a", "beta", "b", "RC", "rc", "pl", "p", "foo", "stable"]),
    )
    return st.builds(
        lambda v, first, rest: v + first + "".join(sep + p for sep, p in rest),
        st.sampled_from(["", "v"]),
        _digits(1, 3),
        st.lists(st.tuples(st.sampled_from([".", "-", "_", "+"]), part), max_size=4),
    )


BY_KIND: dict[str, SearchStrategy[str]] = {
    "deb": dpkg_versions(),
    "rpm": rpm_versions(),
    "apk": apk_versions(),
    "pypi": pep440_versions(),
    "npm": semver_versions() | semver_versions("v"),
    "cargo": semver_versions(),
    "golang": go_versions(),
    "nuget": nuget_versions(),
    "maven": maven_versions(),
    "gem": gem_versions(),
    "composer": composer_versions(),
}
"""A strategy of valid versions for every kind ``spyglass.versions`` compares."""
