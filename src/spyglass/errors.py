"""Every error Spyglass raises on purpose, as one tree.

    SpyglassError                    base: str(exc) is a sentence a person can act on
    ├── UsageError                   bad arguments or configuration (exit 2)
    ├── ImageError                   the image could not be read (exit 3)
    │   ├── ReferenceError_          an image reference that does not parse
    │   ├── RegistryError            talking to a registry failed
    │   │   ├── RegistryUnreachable  connection refused, DNS, TLS, timeouts
    │   │   ├── AuthError            credentials refused or missing
    │   │   ├── NotFoundError        repository, tag, digest or blob does not exist
    │   │   └── RateLimited          429 after every retry
    │   ├── ManifestError            unsupported or malformed manifest / index / config
    │   │   └── PlatformNotFound     no manifest in the index for the requested platform
    │   ├── ArchiveError             docker-archive / OCI layout / oci-archive problems
    │   └── LayerError               a layer could not be read
    │       ├── DigestMismatch       bytes do not hash to the digest that names them
    │       └── CorruptLayer         truncated, bad compression or bad tar
    ├── AnalyzerError                an analyzer could not parse one file (becomes an Unknown)
    ├── InvalidVersion               a version string the ecosystem's rules reject (also ValueError)
    └── DataError                    vulnerability data or the store is unavailable (exit 4)
        └── FeedError                one feed could not be fetched or parsed; old data stays

Third-party exceptions (httpx, tarfile, sqlite3, zstandard…) never cross a module boundary:
every seam wraps them with ``raise XError(...) from exc``.
"""

from __future__ import annotations


class SpyglassError(Exception):
    """Base of every deliberate Spyglass error; the message says what failed and what to do."""


class UsageError(SpyglassError):
    """Bad command-line arguments or configuration."""


class ImageError(SpyglassError):
    """The image could not be read."""


class ReferenceError_(ImageError):
    """An image reference that does not parse."""


class RegistryError(ImageError):
    """Talking to a registry failed."""


class RegistryUnreachable(RegistryError):
    """The registry could not be reached at all (connection, DNS, TLS, timeout)."""


class AuthError(RegistryError):
    """The registry refused the credentials, or wants credentials we do not have."""


class NotFoundError(RegistryError):
    """Repository, tag, digest or blob does not exist."""


class RateLimited(RegistryError):
    """The registry kept answering 429 Too Many Requests."""


class ManifestError(ImageError):
    """A manifest, index or config that is unsupported or malformed."""


class PlatformNotFound(ManifestError):
    """The index has no manifest for the requested platform."""


class ArchiveError(ImageError):
    """A docker-archive, OCI layout or oci-archive that cannot be read."""


class LayerError(ImageError):
    """A layer could not be read."""


class DigestMismatch(LayerError):
    """Bytes that do not hash to the digest that names them."""


class CorruptLayer(LayerError):
    """A truncated layer, bad compression or a broken tar stream."""


class AnalyzerError(SpyglassError):
    """An analyzer could not parse one file; the scan records it as an Unknown and goes on."""


class DataError(SpyglassError):
    """Vulnerability data or the store is unavailable."""


class InvalidVersion(SpyglassError, ValueError):
    """A version string that the ecosystem's own rules reject."""

    def __init__(self, kind: str, version: str, why: str = "") -> None:
        self.kind = kind
        self.version = version
        detail = f": {why}" if why else ""
        super().__init__(f"{version!r} is not a valid {kind} version{detail}")


class FeedError(DataError):
    """One vulnerability feed could not be fetched or parsed; the previous data stays in use."""
