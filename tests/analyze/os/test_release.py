"""OS detection: every case of ../shared/data/os-release, plus the layouts real images have."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from spyglass.analyze.interface import FileInput
from spyglass.analyze.os.release import OSReleaseAnalyzer, detect
from spyglass.inventory import OSRelease
from tests import conftest
from tests.helpers.analyzers import run_tree

UPSTREAM_FAMILY = {
    "azure": "azurelinux",
    "cblmariner": "cbl-mariner",
    "centosstream": "centos-stream",
    "opensuseleap": "opensuse-leap",
    "opensusetumbleweed": "opensuse-tumbleweed",
    "slemicro": "sle-micro",
}
"""Upstream (trivy) family constants, lower-cased, whose spelling differs from our ids;
any other upstream name lower-cased is our id (``RedHat`` is ``redhat``, ``Alma`` is ``alma``)."""


def our_family(upstream: str) -> str:
    """Our family id for an upstream family constant."""
    return UPSTREAM_FAMILY.get(upstream.lower(), upstream.lower())


def _cases() -> list[str]:
    root = conftest.testdata_root() / "os-release"
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else ["missing"]


@pytest.mark.realdata
@pytest.mark.parametrize("case", _cases())
def test_upstream_case(testdata: Path, case: str) -> None:
    folder = testdata / "os-release" / case
    want = json.loads((folder / "want.json").read_text())
    run = run_tree(OSReleaseAnalyzer(), folder)
    assert not run.unknowns
    found = detect(run.captured)
    if want["os"] is None:
        assert found is None
    else:
        assert found is not None
        assert (found.family, found.version) == (
            our_family(want["os"]["family"]),
            want["os"]["version"],
        )


def test_required_wants_release_files_only() -> None:
    analyzer = OSReleaseAnalyzer()
    assert analyzer.required("etc/os-release", 300)
    assert analyzer.required("usr/lib/os-release", 300)
    assert analyzer.required("etc/debian_version", 5)
    assert not analyzer.required("etc/os-release.d/x", 5)
    assert not analyzer.required("home/etc/os-release", 5)
    assert not analyzer.required("etc/os-release", 10 * 1024 * 1024)


def test_analyze_captures_text() -> None:
    data = b'ID=alpine\nNAME="Alpine \xff"\n'
    result = OSReleaseAnalyzer().analyze(
        FileInput("etc/os-release", len(data), 0o644, io.BytesIO(data))
    )
    assert result.captured == (("etc/os-release", 'ID=alpine\nNAME="Alpine \ufffd"\n'),)
    assert not result.packages


DEBIAN_12 = (
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'
    "VERSION_CODENAME=bookworm\n"
)
DISTROLESS = (
    'PRETTY_NAME="Distroless"\nNAME="Debian GNU/Linux"\nID="debian"\nVERSION_ID="12"\n'
    'VERSION="Debian GNU/Linux 12 (bookworm)"\nHOME_URL="https://github.com/GoogleContainerTools/distroless"\n'
)
UBUNTU = (
    'PRETTY_NAME="Ubuntu 22.04.4 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\n'
    'VERSION="22.04.4 LTS (Jammy Jellyfish)"\n'
    "VERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\nUBUNTU_CODENAME=jammy\n"
)
WOLFI = 'ID=wolfi\nNAME="Wolfi"\nPRETTY_NAME="Wolfi"\nVERSION_ID="20230201"\nHOME_URL="https://wolfi.dev"\n'
CHAINGUARD = 'ID=chainguard\nNAME="Chainguard"\nPRETTY_NAME="Chainguard"\nHOME_URL="https://chainguard.dev/"\n'
AMAZON_2 = (
    'NAME="Amazon Linux"\nVERSION="2"\nID="amzn"\nID_LIKE="centos rhel fedora"\nVERSION_ID="2"\n'
)
AMAZON_2023 = (
    'NAME="Amazon Linux"\nVERSION="2023"\nID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\n'
)
UBI_9 = 'NAME="Red Hat Enterprise Linux"\nVERSION="9.3 (Plow)"\nID="rhel"\nVERSION_ID="9.3"\n'
KALI = 'PRETTY_NAME="Kali GNU/Linux Rolling"\nID=kali\nID_LIKE=debian\nVERSION_ID="2024.2"\n'


@pytest.mark.parametrize(
    ("files", "want"),
    [
        pytest.param(
            {"etc/os-release": DEBIAN_12, "etc/debian_version": "12.7\n"},
            OSRelease("debian", "12.7", "Debian GNU/Linux 12 (bookworm)", "bookworm"),
            id="debian-point-release",
        ),
        pytest.param(
            {
                "usr/lib/os-release": DEBIAN_12.replace('VERSION_ID="12"\n', ""),
                "etc/debian_version": "trixie/sid\n",
            },
            OSRelease("debian", "trixie/sid", "Debian GNU/Linux 12 (bookworm)", "bookworm"),
            id="debian-testing",
        ),
        pytest.param(
            {"etc/os-release": DEBIAN_12, "etc/debian_version": "bookworm/sid\n"},
            OSRelease("debian", "12", "Debian GNU/Linux 12 (bookworm)", "bookworm"),
            id="debian-numbered-os-release-wins-over-codename",
        ),
        pytest.param(
            {"etc/os-release": DISTROLESS, "etc/debian_version": "12.5\n"},
            OSRelease("debian", "12.5", "Distroless"),
            id="google-distroless",
        ),
        pytest.param(
            {
                "usr/lib/os-release": UBUNTU,
                "etc/debian_version": "bookworm/sid\n",
                "etc/lsb-release": "",
            },
            OSRelease("ubuntu", "22.04", "Ubuntu 22.04.4 LTS", "jammy"),
            id="ubuntu-with-debian_version",
        ),
        pytest.param(
            {"etc/os-release": "ID=alpine\nVERSION_ID=3.19.1\n", "etc/alpine-release": "3.19.1\n"},
            OSRelease("alpine", "3.19.1"),
            id="alpine",
        ),
        pytest.param(
            {"etc/alpine-release": "3.20.3\n"},
            OSRelease("alpine", "3.20.3", "Alpine Linux 3.20.3"),
            id="alpine-file-only",
        ),
        pytest.param(
            {"etc/os-release": WOLFI}, OSRelease("wolfi", "20230201", "Wolfi"), id="wolfi"
        ),
        pytest.param(
            {"etc/os-release": CHAINGUARD},
            OSRelease("chainguard", "", "Chainguard"),
            id="chainguard-rolling",
        ),
        pytest.param(
            {"etc/os-release": AMAZON_2}, OSRelease("amazon", "2", "Amazon Linux"), id="amazon-2"
        ),
        pytest.param(
            {"etc/os-release": AMAZON_2023},
            OSRelease("amazon", "2023", "Amazon Linux"),
            id="amazon-2023",
        ),
        pytest.param(
            {"etc/system-release": "Amazon Linux AMI release 2018.03\n"},
            OSRelease("amazon", "2018.03", "Amazon Linux AMI release 2018.03"),
            id="amazon-1-file-only",
        ),
        pytest.param(
            {"etc/system-release": "Amazon Linux release 2023.5.20240722 (Amazon Linux)\n"},
            OSRelease("amazon", "2023", "Amazon Linux release 2023.5.20240722 (Amazon Linux)"),
            id="amazon-2023-file-only",
        ),
        pytest.param(
            {
                "etc/os-release": UBI_9,
                "etc/redhat-release": "Red Hat Enterprise Linux release 9.3 (Plow)\n",
            },
            OSRelease("redhat", "9.3", "Red Hat Enterprise Linux"),
            id="ubi",
        ),
        pytest.param(
            {
                "etc/os-release": 'ID="centos"\nNAME="CentOS Linux"\nVERSION_ID="7"\n',
                "etc/centos-release": "CentOS Linux release 7.9.2009 (Core)\n",
                "etc/redhat-release": "CentOS Linux release 7.9.2009 (Core)\n",
            },
            OSRelease("centos", "7.9.2009", "CentOS Linux"),
            id="centos-precise-from-centos-release",
        ),
        pytest.param(
            {"etc/redhat-release": "CentOS Stream release 9\n"},
            OSRelease("centos-stream", "9", "CentOS Stream release 9"),
            id="centos-stream-file-only",
        ),
        pytest.param(
            {"etc/redhat-release": "Rocky Linux release 9.3 (Blue Onyx)\n"},
            OSRelease("rocky", "9.3", "Rocky Linux release 9.3 (Blue Onyx)"),
            id="rebuild-in-redhat-release",
        ),
        pytest.param(
            {
                "etc/SuSE-release": (
                    "SUSE Linux Enterprise Server 12 (x86_64)\nVERSION = 12\nPATCHLEVEL = 3\n"
                )
            },
            OSRelease("sles", "12.3", "SUSE Linux Enterprise Server 12 (x86_64)"),
            id="sles-12-suse-release",
        ),
        pytest.param(
            {"etc/photon-release": "VMware Photon OS 3.0\nPHOTON_BUILD_NUMBER=1f3b2bd\n"},
            OSRelease("photon", "3.0", "VMware Photon OS 3.0"),
            id="photon-release",
        ),
        pytest.param(
            {"etc/mariner-release": "CBL-Mariner 2.0.20220226\nMARINER_BUILD_NUMBER=1d3ff8e\n"},
            OSRelease("cbl-mariner", "2.0", "CBL-Mariner 2.0.20220226"),
            id="mariner-release",
        ),
        pytest.param(
            {"etc/os-release": "ID=alpine\nVERSION_ID=3.18.0\n", "usr/lib/os-release": DEBIAN_12},
            OSRelease("alpine", "3.18.0"),
            id="etc-os-release-wins",
        ),
        pytest.param(
            {"etc/os-release": KALI, "etc/debian_version": "kali-rolling\n"},
            None,
            id="unknown-id-no-guess",
        ),
        pytest.param({"etc/os-release": "", "etc/debian_version": ""}, None, id="empty"),
        pytest.param(
            {"etc/lsb-release": "DISTRIB_ID=LinuxMint\nDISTRIB_RELEASE=21\n"},
            None,
            id="lsb-not-ubuntu",
        ),
        pytest.param({}, None, id="nothing"),
    ],
)
def test_detect(files: dict[str, str], want: OSRelease | None) -> None:
    assert detect(files) == want


def test_unbalanced_quote_does_not_crash() -> None:
    found = detect({"etc/os-release": 'ID="alpine\nVERSION_ID=3.19.0\nPRETTY_NAME="Alpine\n'})
    assert found == OSRelease("alpine", "3.19.0", "Alpine")
