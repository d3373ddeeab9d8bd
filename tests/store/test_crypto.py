"""Registry credentials encryption: the key from configuration or a 0600 key file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from spyglass.errors import DataError, UsageError
from spyglass.store.crypto import KEY_FILE, SECRET_KEY_ENV, SecretBox


def test_key_file_is_created_once_with_owner_only_permissions(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_KEY_ENV, raising=False)
    token = SecretBox.from_config(tmp_path).encrypt("s3cret")
    key = tmp_path / KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert b"s3cret" not in token
    assert SecretBox.from_config(tmp_path).decrypt(token, "registry 'r'") == "s3cret"


def test_configured_key_wins_and_another_key_cannot_decrypt(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_KEY_ENV, Fernet.generate_key().decode())
    token = SecretBox.from_config(tmp_path).encrypt("s3cret")
    assert not (tmp_path / KEY_FILE).exists()
    monkeypatch.setenv(SECRET_KEY_ENV, Fernet.generate_key().decode())
    with pytest.raises(DataError, match="secret key changed"):
        SecretBox.from_config(tmp_path).decrypt(token, "registry 'r'")


def test_a_key_that_is_not_a_fernet_key_is_a_usage_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_KEY_ENV, "correct horse battery staple")
    with pytest.raises(UsageError, match=SECRET_KEY_ENV):
        SecretBox.from_config(tmp_path)
