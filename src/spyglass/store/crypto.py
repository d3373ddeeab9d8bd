"""Registry credentials encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256, `cryptography`).

The key is ``SPYGLASS_SECRET_KEY`` when set (a Fernet key: 32 bytes, url-safe base64); otherwise
``secret.key`` in the data directory, created on first use with mode 0600. Every process that
decrypts (API and workers) must see the same key: at scale, set ``SPYGLASS_SECRET_KEY``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from spyglass.errors import DataError, UsageError

SECRET_KEY_ENV = "SPYGLASS_SECRET_KEY"
KEY_FILE = "secret.key"
_GENERATE = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key())"'


def _fernet(key: bytes, where: str) -> Fernet:
    try:
        return Fernet(key.strip())
    except ValueError as exc:
        raise UsageError(
            f"{where} is not a Fernet key (32 bytes, url-safe base64); make one with {_GENERATE}"
        ) from exc


def _key_file(data_dir: Path) -> bytes:
    path = data_dir / KEY_FILE
    try:
        # O_EXCL: two processes starting at once must not each write a different key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot create the key file {path} ({exc}); set {SECRET_KEY_ENV}") from exc
    key = Fernet.generate_key()
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key


@dataclass(frozen=True)
class SecretBox:
    """Encrypts and decrypts registry passwords with one key."""

    fernet: Fernet = field(repr=False)

    @classmethod
    def from_config(cls, data_dir: Path) -> SecretBox:
        """The key from ``SPYGLASS_SECRET_KEY``, else from (or into) ``data_dir/secret.key``."""
        configured = os.environ.get(SECRET_KEY_ENV, "").strip()
        if configured:
            return cls(_fernet(configured.encode(), SECRET_KEY_ENV))
        try:
            key = _key_file(data_dir)
        except OSError as exc:
            raise DataError(f"cannot read {data_dir / KEY_FILE} ({exc})") from exc
        return cls(_fernet(key, str(data_dir / KEY_FILE)))

    def encrypt(self, secret: str) -> bytes:
        """The token to store for ``secret``."""
        return self.fernet.encrypt(secret.encode())

    def decrypt(self, token: bytes, what: str) -> str:
        """The secret in ``token``; ``DataError`` when it was encrypted with another key."""
        try:
            return self.fernet.decrypt(token).decode()
        except InvalidToken as exc:
            raise DataError(
                f"cannot decrypt the credentials of {what}: the secret key changed; set "
                f"{SECRET_KEY_ENV} back, or enter the password again"
            ) from exc
