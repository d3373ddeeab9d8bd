"""The secrets analyzer: which files it reads, which it skips, redaction, and that no report
format ever shows a secret in full."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from spyglass.analyze.interface import FileInput
from spyglass.analyze.secrets.analyzer import MAX_FILE, SecretsAnalyzer, redact
from spyglass.inventory import Inventory, Secret
from spyglass.report.json_report import render_json
from spyglass.report.table import render_table
from tests.analyze.secrets.test_rules import GH_BODY, PASSWORD, POSITIVES, _j, _pem
from tests.helpers.analyzers import run_tree

TOKEN = _j("gh", "p_", GH_BODY)


def _analyze(path: str, data: bytes) -> list[tuple[str, int]]:
    result = SecretsAnalyzer().analyze(FileInput(path, len(data), 0o644, io.BytesIO(data)))
    return [(s.rule_id, s.line) for s in result.secrets]


@pytest.mark.parametrize(
    ("path", "size", "wanted"),
    [
        ("app/.env", 100, True),
        ("root/.ssh/id_rsa", 2000, True),
        ("etc/ssl/private/site.key", 2000, True),
        ("usr/local/bin/entrypoint.sh", 900, True),
        ("root/.docker/config.json", 300, True),
        ("app/.env", 4, False),
        ("app/big.log", MAX_FILE + 1, False),
        ("usr/share/doc/openssl/README", 900, False),
        ("usr/share/man/man1/ssh.1", 900, False),
        ("etc/ssl/certs/ca-certificates.crt", 200_000, False),
        ("etc/ssl/certs/ISRG_Root_X1.pem", 2000, False),
        ("usr/share/ca-certificates/mozilla/x.crt", 2000, False),
        ("usr/lib/python3.11/test/keycert.pem", 2000, False),
        ("usr/local/lib/python3.12/test/certdata/key.pem", 2000, False),
        ("usr/lib/x86_64-linux-gnu/libssl.so.3", 600_000, False),
        ("app/logo.PNG", 5000, False),
        ("app/lib/app.jar", 5000, False),
        ("usr/lib/python3/dist-packages/x/__pycache__/a.cpython-311.pyc", 5000, False),
        # Trivy's built-in allow rules: what the distribution ships and third-party code
        ("usr/lib/ssl/misc/CA.pl", 900, False),
        ("usr/share/perl5/Net/SSLeay.pm", 900, False),
        ("srv/app/node_modules/jose/test/fixtures/key.pem", 900, False),
        ("srv/app/node_modules/jose/dist/index.js", 900, False),
        ("opt/venv/lib/python3.11/site-packages/requests/api.py", 900, False),
        ("app/vendor/github.com/x/y/z.go", 900, False),
        ("app/tests/fixtures/id_rsa", 900, False),
        ("app/examples/config.yaml", 900, False),
        ("app/README.md", 900, False),
        ("root/go/pkg/mod/github.com/x/y@v1.0.0/key.pem", 900, False),
        ("usr/local/bundle/gems/rack-3.0.8/lib/rack.rb", 900, False),
        ("app/contest/.env", 900, True),
        ("app/latest/settings.py", 900, True),
        ("srv/app/config/production.json", 900, True),
        ("home/dev/.git-credentials", 900, True),
        ("usr/local/etc/app.conf", 900, True),
    ],
)
def test_required(path: str, size: int, wanted: bool) -> None:
    assert SecretsAnalyzer().required(path, size) is wanted


def test_binary_file_is_skipped_by_a_nul_byte_in_the_first_8_kib() -> None:
    text = f"token={TOKEN}\n".encode()
    assert _analyze("app/a", text) == [("github-pat", 1)]
    assert _analyze("app/a", b"\x7fELF\0\0" + text) == []
    assert _analyze("app/a", b"x" * 9000 + b"\0" + text) == [("github-pat", 1)]


def test_non_utf8_and_crlf_content() -> None:
    data = b"\xff\xfe\xfa bad bytes\r\nline two\r\n" + f"k={TOKEN}\r\n".encode()
    assert _analyze("app/a.ini", data) == [("github-pat", 3)]


def test_pathological_input_stays_linear() -> None:
    """Near-miss keys and tokens repeated many times: the scan finishes and finds nothing."""
    begin = _j("-----", "BEGIN RSA PRIVATE KEY", "-----", "\n")
    data = (begin + "QUJD" * 500 + "\n").encode() * 200 + b"gh" + b"p_" + b"a" * 100_000
    assert _analyze("app/a", data) == []


def test_run_over_a_tree(tmp_path: Path) -> None:
    (tmp_path / "root/.ssh").mkdir(parents=True)
    (tmp_path / "root/.ssh/id_rsa").write_text(_pem("RSA PRIVATE KEY"))
    (tmp_path / "root/.netrc").write_text(f"machine m login u password {PASSWORD}\n")
    (tmp_path / "usr/share/doc/x").mkdir(parents=True)
    (tmp_path / "usr/share/doc/x/README").write_text(f"token {TOKEN}\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app/settings.py").write_text(f'TOKEN = "{TOKEN}"\n')
    run = run_tree(SecretsAnalyzer(), tmp_path)
    found = {(p, s.rule_id) for p, r in run.results.items() for s in r.secrets}
    assert found == {
        ("root/.ssh/id_rsa", "rsa-private-key"),
        ("root/.netrc", "netrc-password"),
        ("app/settings.py", "github-pat"),
    }
    assert "usr/share/doc/x/README" not in run.wanted


@pytest.mark.parametrize(
    ("secret", "shown"),
    [
        ("abcdefghijklmnop", "abcd************"),
        ("hunter22", "hu******"),
        ("abc", "***"),
        ("", ""),
    ],
)
def test_redact(secret: str, shown: str) -> None:
    assert redact(secret) == shown


def _inventory() -> tuple[Inventory, list[str]]:
    """An inventory holding one finding of every positive rule case, and the secrets."""
    secrets: list[Secret] = []
    for _rule, path, content, _secret, _line in POSITIVES:
        data = content.encode()
        result = SecretsAnalyzer().analyze(FileInput(path, len(data), 0o600, io.BytesIO(data)))
        secrets.extend(result.secrets)
    inventory = Inventory(
        reference="example.org/app:1",
        digest=None,
        platform="linux/amd64",
        os=None,
        layers=(),
        packages=(),
        secrets=tuple(secrets),
    )
    values = [c[3] for c in POSITIVES if not c[0].endswith("private-key")]
    return inventory, values


def _exposed(text: str, secret: str) -> bool:
    """Whether any 8 consecutive characters of the secret's hidden part appear in ``text``
    (shorter runs occur in rule ids and titles: ``slack``)."""
    hidden = secret[min(4, len(secret) // 4) :]
    return any(hidden[i : i + 8] in text for i in range(max(1, len(hidden) - 7)))


def test_no_report_format_shows_a_secret() -> None:
    inventory, values = _inventory()
    assert len(inventory.secrets) == len(POSITIVES)
    console = Console(file=io.StringIO(), width=1000, color_system=None)
    render_table(inventory, console)
    outputs = {
        "json": render_json(inventory),
        "table": console.file.getvalue(),  # type: ignore[attr-defined]
        "inventory": json.dumps(inventory.to_dict()),
    }
    for name, text in outputs.items():
        for value in values:
            assert not _exposed(text, value), f"{name} shows part of a secret"
        assert all(s.match in text for s in inventory.secrets), f"{name} lost a finding"
    # The private keys' bodies never leave the analyzer, only their BEGIN lines.
    body = _pem("RSA PRIVATE KEY").splitlines()[1]
    assert all(body not in text for text in outputs.values())
