"""Package URLs (purl) for every ecosystem, built with packageurl-python.

OS packages need the detected distro for their namespace and ``distro`` qualifier, which is
only known after the layers are merged; so purls are assigned after the merge, for all packages
in one place.
"""

from __future__ import annotations

from dataclasses import replace

from packageurl import PackageURL

from spyglass.inventory import OSRelease, Package

# The purl namespace for rpm packages is the vendor; distros that use another family's id.
_RPM_NAMESPACE = {"redhat": "redhat", "rhel": "redhat", "alma": "almalinux", "rocky": "rocky"}


def _namespace(pkg: Package, os: OSRelease | None) -> str | None:
    if pkg.ecosystem in ("deb", "apk", "rpm"):
        if os is None:
            return None
        return _RPM_NAMESPACE.get(os.family, os.family) if pkg.ecosystem == "rpm" else os.family
    if pkg.ecosystem in ("maven", "composer", "golang", "npm") and "/" in pkg.name:
        if pkg.ecosystem == "maven":
            return pkg.name.split(":", 1)[0] if ":" in pkg.name else None
        return pkg.name.rsplit("/", 1)[0]
    if pkg.ecosystem == "maven" and ":" in pkg.name:
        return pkg.name.split(":", 1)[0]
    return None


def _name(pkg: Package) -> str:
    if pkg.ecosystem == "maven" and ":" in pkg.name:
        return pkg.name.split(":", 1)[1]
    if pkg.ecosystem in ("composer", "golang", "npm") and "/" in pkg.name:
        return pkg.name.rsplit("/", 1)[1]
    return pkg.name


def _qualifiers(pkg: Package, os: OSRelease | None) -> dict[str, str]:
    qualifiers: dict[str, str] = {}
    if pkg.ecosystem in ("deb", "apk", "rpm"):
        if pkg.arch:
            qualifiers["arch"] = pkg.arch
        if pkg.epoch:
            qualifiers["epoch"] = str(pkg.epoch)
        if pkg.source_name and pkg.source_name != pkg.name:
            qualifiers["upstream"] = pkg.source_name
        if os is not None and os.version:
            qualifiers["distro"] = f"{os.family}-{os.version}"
    return qualifiers


def package_purl(pkg: Package, os: OSRelease | None) -> str:
    """The purl of a package, given the image's OS (needed for OS package namespaces)."""
    version = pkg.version
    if pkg.ecosystem == "rpm" and pkg.release:
        version = f"{pkg.version}-{pkg.release}"
    return PackageURL(
        type=pkg.ecosystem,
        namespace=_namespace(pkg, os),
        name=_name(pkg),
        version=version or None,
        qualifiers=_qualifiers(pkg, os) or None,
    ).to_string()


def with_purl(pkg: Package, os: OSRelease | None) -> Package:
    """The package with its purl set (an analyzer's own purl is kept when it gave one)."""
    return pkg if pkg.purl else replace(pkg, purl=package_purl(pkg, os))
