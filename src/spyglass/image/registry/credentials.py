"""Registry credentials, looked up the way the Docker CLI does.

Order: ``OpenOptions.username``/``password``; then the Docker ``config.json``'s ``credHelpers``
entry for the host, its ``credsStore``, and its ``auths`` entry (``auth`` is base64
``user:password``; ``identitytoken`` is an OAuth2 refresh token). Helpers are the
``docker-credential-NAME`` programs: ``get`` with the server on stdin, JSON on stdout.
Written by hand: the format is Docker's, and no maintained Python package reads it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spyglass.errors import AuthError, UsageError
from spyglass.image.interface import OpenOptions
from spyglass.image.reference import DOCKER_HUB, DOCKER_HUB_API

# Docker stores Docker Hub credentials under its v1 index URL, for history's sake.
DOCKER_HUB_SERVER = "https://index.docker.io/v1/"
_HUB_NAMES = ("index.docker.io", DOCKER_HUB, DOCKER_HUB_API)
_HELPER_TIMEOUT = 30.0
_TOKEN_USER = "<token>"


@dataclass(frozen=True)
class Credentials:
    """A username and password, or an identity (OAuth2 refresh) token."""

    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str | None = field(default=None, repr=False)


def lookup(host: str, options: OpenOptions) -> Credentials | None:
    """Credentials for a registry host (``docker.io`` or ``host:port``), or None for anonymous."""
    if options.username is not None or options.password is not None:
        return Credentials(options.username or "", options.password or "")
    path = config_path(options)
    return _from_config(host, _load(path), path)


def _from_config(host: str, config: dict[str, Any], path: Path) -> Credentials | None:
    server = DOCKER_HUB_SERVER if host in _HUB_NAMES else host
    helpers = config.get("credHelpers") or {}
    key = _key_for(host, helpers)
    if key:
        return run_helper(str(helpers[key]), server)
    if config.get("credsStore"):
        found = run_helper(str(config["credsStore"]), server)
        if found is not None:
            return found
    auths = config.get("auths") or {}
    key = _key_for(host, auths)
    return _from_auths_entry(auths[key], path) if key else None


def config_path(options: OpenOptions) -> Path:
    """``OpenOptions.docker_config``, else ``$DOCKER_CONFIG/config.json``, else ``~/.docker``."""
    if options.docker_config:
        return Path(options.docker_config)
    directory = os.environ.get("DOCKER_CONFIG")
    return Path(directory or Path.home() / ".docker") / "config.json"


def run_helper(name: str, server: str) -> Credentials | None:
    """Ask ``docker-credential-NAME`` for a server's credentials; None when it has none."""
    program = shutil.which(f"docker-credential-{name}")
    if program is None:
        raise AuthError(
            f"the Docker config names credential helper {name!r} but docker-credential-{name} "
            "is not on PATH; install it or remove it from the config"
        )
    try:
        done = subprocess.run(
            [program, "get"],
            input=server.encode(),
            capture_output=True,
            timeout=_HELPER_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AuthError(f"credential helper docker-credential-{name} failed: {exc}") from exc
    if done.returncode == 0:
        return _parse_helper_output(name, done.stdout)
    text = (done.stdout + done.stderr).decode(errors="replace").strip()
    # The protocol's answer for "nothing stored" is this message on a non-zero exit.
    if "credentials not found" in text.lower():
        return None
    raise AuthError(f"credential helper docker-credential-{name} failed for {server}: {text}")


def _parse_helper_output(name: str, stdout: bytes) -> Credentials:
    try:
        data = json.loads(stdout)
        username, secret = str(data["Username"]), str(data["Secret"])
    except (ValueError, KeyError, TypeError) as exc:
        raise AuthError(
            f"credential helper docker-credential-{name} printed something that is not "
            '{"Username": …, "Secret": …} JSON'
        ) from exc
    if username == _TOKEN_USER:
        return Credentials(identity_token=secret)
    return Credentials(username, secret)


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the Docker config {path}: {exc}; fix or move it") from exc
    if not isinstance(data, dict):
        raise UsageError(f"the Docker config {path} is not a JSON object; fix or move it")
    return data


def _key_for(host: str, entries: dict[str, Any]) -> str | None:
    """The key of ``entries`` that names ``host``: keys may be URLs (``https://host/v1/``)."""
    wanted = _HUB_NAMES if host in _HUB_NAMES else (host,)
    for key in entries:
        bare = key.split("://", 1)[-1].split("/", 1)[0]
        if bare in wanted:
            return str(key)
    return None


def _from_auths_entry(entry: dict[str, Any], path: Path) -> Credentials | None:
    if entry.get("identitytoken"):
        return Credentials(identity_token=str(entry["identitytoken"]))
    if entry.get("auth"):
        return _decode_auth(str(entry["auth"]), path)
    if entry.get("username") or entry.get("password"):
        return Credentials(str(entry.get("username", "")), str(entry.get("password", "")))
    return None


def _decode_auth(value: str, path: Path) -> Credentials:
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise UsageError(f"an 'auth' entry in {path} is not base64 of user:password") from exc
    username, sep, password = decoded.partition(":")
    if not sep:
        raise UsageError(f"an 'auth' entry in {path} is not base64 of user:password")
    return Credentials(username, password)
