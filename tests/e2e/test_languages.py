"""End to end on real installs: the scan must list what pip, npm and dpkg listed at build time.

The set-up installs pinned releases for real (a venv and a ``--target`` site-packages with
pip, a small tree with ``npm install``), copies this machine's installed ``python3-yaml``
Debian package, and adds a war from ../shared/data; each becomes one layer of an OCI layout,
scanned with every analyzer. The oracles are ``pip list --format json --path``,
``npm ls --all --json --long``, ``dpkg-query`` and the war case's ``want.json``.
"""

from __future__ import annotations

import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest
from packaging.utils import canonicalize_name

from spyglass.analyze.cache import LayerCache
from spyglass.analyze.lang.python import PythonAnalyzer
from spyglass.analyze.registry import select
from spyglass.analyze.scan import scan_image
from spyglass.image.interface import OpenOptions
from spyglass.image.open import open_image
from spyglass.inventory import DiffId, Inventory, Package
from tests.analyze.lang.cases import got_rows, load_want, want_rows
from tests.helpers import installs
from tests.helpers.installs import Install, InstallFailed
from tests.helpers.services import require_tool, unavailable
from tests.helpers.tree_layout import write_layout

pytestmark = [pytest.mark.slow, pytest.mark.realdata]

VENV = "opt/venv"
VENV_REQUIREMENTS = ("six==1.16.0", "idna==3.4")
SYSTEM_SITE = f"usr/local/lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"
SYSTEM_REQUIREMENTS = ("Jinja2==3.1.2", "MarkupSafe==2.1.3")
NODE_APP = "srv/app"
# debug@2.6.9 needs ms@2.0.0 while the app asks for ms@2.1.3, so npm nests a second copy.
NPM_SPECS = ("chalk@4.1.2", "lodash@4.17.20", "debug@2.6.9", "ms@2.1.3", "@sindresorhus/is@4.6.0")
DEB = "python3-yaml"
DEB_SITE = "usr/lib/python3/dist-packages"
WAR_CASE = "pkgdb/java/trivy-jar-test.war"
WAR_DIR = "usr/local/tomcat/webapps"


@dataclass(frozen=True)
class Scanned:
    """The installs, the inventory of the image made from them, and each install's layer."""

    installs: dict[str, Install]
    inventory: Inventory
    layers: dict[str, DiffId]


def _install_all(base: Path) -> dict[str, Install]:
    parts = base / "parts"
    return {
        "deb": installs.host_deb(parts / "deb", DEB),
        "venv": installs.pip_venv(parts / "venv", VENV, VENV_REQUIREMENTS),
        "system": installs.pip_target(parts / "system", SYSTEM_SITE, SYSTEM_REQUIREMENTS),
        "node": installs.npm_install(parts / "node", NODE_APP, NPM_SPECS, base / "npm-cache"),
    }


def _war_part(base: Path, testdata: Path) -> Install:
    root = base / "parts" / "war"
    (root / WAR_DIR).mkdir(parents=True)
    shutil.copyfile(testdata / WAR_CASE / "test.war", root / WAR_DIR / "test.war")
    return Install(root, ())


@pytest.fixture(scope="session")
def scanned(tmp_path_factory: pytest.TempPathFactory, testdata: Path) -> Scanned:
    """Install everything once per session, make one layer per install, scan with all."""
    require_tool("npm", "apt-get install npm")
    require_tool("dpkg-query", "a Debian machine")
    if not (installs.DPKG / "info" / f"{DEB}.list").exists():
        unavailable(f"{DEB} is not installed on this machine; apt-get install {DEB}")
    base = tmp_path_factory.mktemp("installs")
    try:
        built = _install_all(base)
    except InstallFailed as exc:
        unavailable(f"a real install failed (is the package registry reachable?): {exc}")
        raise
    built["war"] = _war_part(base, testdata)
    roots = installs.stack([i.root for i in built.values()], base / "roots")
    layout = write_layout(roots, base / "layout")
    with open_image(f"oci:{layout}", OpenOptions()) as image:
        inventory = scan_image(image, select(), cache=LayerCache(base / "cache"), progress=None)
    layers = {name: layer.diff_id for name, layer in zip(built, inventory.layers, strict=True)}
    return Scanned(built, inventory, layers)


def _of(scanned: Scanned, ecosystem: str) -> list[Package]:
    return [p for p in scanned.inventory.packages if p.ecosystem == ecosystem]


def test_pypi_packages_equal_pip_list(scanned: Scanned) -> None:
    want = Counter(
        (canonicalize_name(p.name), p.version, p.location, scanned.layers[part])
        for part in ("venv", "system")
        for p in scanned.installs[part].listed
    )
    got = Counter(
        (canonicalize_name(p.name), p.version, str(PurePosixPath(p.path).parent.parent), p.layer)
        for p in _of(scanned, "pypi")
    )
    assert got == want
    assert {n for n, _, _, _ in want} >= {"six", "idna", "jinja2", "markupsafe", "pip"}
    assert all(p.path.endswith(".dist-info/METADATA") for p in _of(scanned, "pypi"))


def test_installed_npm_packages_equal_npm_ls(scanned: Scanned) -> None:
    node = scanned.installs["node"]
    want = Counter(
        (p.name, p.version, f"{p.location}/package.json", scanned.layers["node"])
        for p in node.listed
    )
    got = Counter(
        (p.name, p.version, p.path, p.layer)
        for p in _of(scanned, "npm")
        if "node_modules/" in p.path
    )
    assert got == want
    assert ("ms", "2.0.0") in {(n, v) for n, v, _, _ in want}  # the nested copy is there
    assert "@sindresorhus/is" in {n for n, _, _, _ in want}


def test_npm_lock_file_is_not_read_in_an_image_scan(scanned: Scanned) -> None:
    # An image is judged by what is installed (node_modules), as Trivy does: the application's
    # package-lock.json lists the same tree and would report every package twice.
    assert (scanned.installs["node"].root / NODE_APP / "package-lock.json").exists()
    assert [p for p in _of(scanned, "npm") if "node_modules/" not in p.path] == []


def test_maven_packages_equal_want_json(scanned: Scanned, testdata: Path) -> None:
    wanted = load_want(testdata / WAR_CASE)["packages"]
    got = _of(scanned, "maven")
    assert got_rows(got, wanted) == want_rows(wanted)
    assert Counter((p.name, p.version, p.path, p.layer) for p in got) == Counter(
        (w["name"], w["version"], f"{WAR_DIR}/{w['file_path']}", scanned.layers["war"])
        for w in wanted
    )


def test_python_library_of_an_os_package_is_left_to_the_os_package(scanned: Scanned) -> None:
    deb = scanned.installs["deb"]
    # pip itself sees the distribution the Debian package ships…
    shipped = installs.pip_list(Path(sys.executable), deb.root / DEB_SITE, deb.root)
    assert [canonicalize_name(p.name) for p in shipped] == ["pyyaml"]
    (metadata,) = (deb.root / DEB_SITE).glob("*.dist-info/METADATA")
    assert PythonAnalyzer().required(metadata.relative_to(deb.root).as_posix(), 0)
    # …but the scan reports it only as the deb that owns its files.
    assert not [p for p in _of(scanned, "pypi") if p.path.startswith(f"{DEB_SITE}/")]
    debs = _of(scanned, "deb")
    assert sorted((p.name, p.version) for p in debs) == sorted(
        (p.name, p.version) for p in deb.listed
    )
    assert [p.name for p in debs] == [DEB]
    assert debs[0].layer == scanned.layers["deb"]
    assert debs[0].purl.startswith(f"pkg:deb/debian/{DEB}@")
    assert scanned.inventory.os is not None and scanned.inventory.os.family == "debian"


def test_nothing_else_is_found_and_nothing_is_unreadable(scanned: Scanned) -> None:
    assert {p.ecosystem for p in scanned.inventory.packages} == {"deb", "pypi", "npm", "maven"}
    assert scanned.inventory.unknowns == ()
    assert [layer.created_by for layer in scanned.inventory.layers] == [
        f"tree {index}-{name}" for index, name in enumerate(scanned.layers, start=1)
    ]
