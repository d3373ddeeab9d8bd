"""The analyzer list and selection by name or group."""

from __future__ import annotations

import pytest

from spyglass.analyze.registry import ANALYZERS, select
from spyglass.errors import UsageError

LOCK_FILES = [
    "srv/app/package-lock.json",
    "srv/app/yarn.lock",
    "srv/app/pnpm-lock.yaml",
    "app/Gemfile.lock",
    "app/composer.lock",
    "app/requirements.txt",
    "app/poetry.lock",
    "app/Pipfile.lock",
]


def test_names_are_unique_and_versions_positive() -> None:
    names = [a.name for a in ANALYZERS]
    assert len(names) == len(set(names))
    assert all(a.version >= 1 for a in ANALYZERS)


def test_groups_select_and_skip() -> None:
    assert {a.name for a in select(["os"])} == {
        "os/release", "pkgdb/apk", "pkgdb/dpkg", "pkgdb/rpm"
    }
    assert "secrets" not in {a.name for a in select(skip=["secrets"])}
    with pytest.raises(UsageError, match="unknown analyzer"):
        select(["nosuch"])


@pytest.mark.parametrize("path", LOCK_FILES)
def test_image_scans_do_not_read_lock_files(path: str) -> None:
    assert not any(a.required(path, 4096) for a in select(skip=["secrets"]))
    assert any(a.required(path, 4096) for a in select(lockfiles=True))


def test_image_scans_still_read_installed_packages() -> None:
    installed = [
        "srv/app/node_modules/lodash/package.json",
        "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
        "app/vendor/composer/installed.json",
        "usr/local/bundle/specifications/rack-3.0.8.gemspec",
    ]
    for path in installed:
        assert any(a.required(path, 4096) for a in select()), path
