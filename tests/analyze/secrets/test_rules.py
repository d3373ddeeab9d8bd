"""Every secret rule finds what it is for and ignores its near misses.

No real-looking secret is written literally here: each positive is assembled from pieces at
test time, so that push-protection scanners (and this analyzer run on the repository) see
nothing.
"""

from __future__ import annotations

import base64

import pytest

from spyglass.analyze.secrets.analyzer import scan
from spyglass.analyze.secrets.rules import RULES

DASHES = "-" * 5


def _j(*parts: str) -> str:
    return "".join(parts)


def _begin(label: str) -> str:
    return _j(DASHES, "BEGIN ", label, DASHES)


def _pem(label: str, headers: str = "") -> str:
    body = base64.encodebytes(bytes(range(7, 250)) * 2).decode()
    return _j(_begin(label), "\n", headers, body, DASHES, "END ", label, DASHES, "\n")


AWS_ID = _j("AK", "IA", "Q3ZT7WNPX4LR2MHV")
AWS_SECRET = _j("k9Vq2", "Lw8Rt/", "Zp4Xc+Nb7Hs1Dm6Fg3Jy0Ke5Ua8OP")  # 40 characters
GH_BODY = _j("Zq8", "Lx2Vn7Rt4Kp9Ws3Hb6Jd1Fc5Mg0Ny8Qe2Tu")
GITLAB = _j("gl", "pat-", "xR7kQ2mN9vL4pT8wZ3bY")
SLACK = _j("xo", "xb-", "2384756102", "-", "9182736450123", "-", "Qk7Lm2Np9Rs4Tv8Wx3Yz6Ab")
HOOK = _j(
    "https://hooks.", "slack.com/services/", "T0A1B2C3D", "/B9Z8Y7X6W/", "Pq4Rs8Tu2Vw6Xy0Za3Bc7De"
)
STRIPE = _j("sk", "_live_", "4eC39HqLyjWDarjtT1zdp7dcXz")
PASSWORD = _j("s3cr", "et-Pa55word")

# (rule id, path, content, the secret the finding redacts, line)
POSITIVES = [
    ("rsa-private-key", "app/key.pem", _pem("RSA PRIVATE KEY"), _begin("RSA PRIVATE KEY"), 1),
    ("ec-private-key", "app/ec.pem", "x\n" + _pem("EC PRIVATE KEY"), _begin("EC PRIVATE KEY"), 2),
    ("dsa-private-key", "root/dsa", _pem("DSA PRIVATE KEY"), _begin("DSA PRIVATE KEY"), 1),
    (
        "openssh-private-key",
        "root/.ssh/id_ed25519",
        _pem("OPENSSH PRIVATE KEY"),
        _begin("OPENSSH PRIVATE KEY"),
        1,
    ),
    (
        "pgp-private-key",
        "home/u/secret.asc",
        _pem("PGP PRIVATE KEY BLOCK", "Version: GnuPG v2\nComment: x\n\n"),
        _begin("PGP PRIVATE KEY BLOCK"),
        1,
    ),
    ("private-key", "etc/ssl/private/site.key", _pem("PRIVATE KEY"), _begin("PRIVATE KEY"), 1),
    (
        "encrypted-private-key",
        "srv/k.pem",
        _pem("ENCRYPTED PRIVATE KEY"),
        _begin("ENCRYPTED PRIVATE KEY"),
        1,
    ),
    (
        "rsa-private-key",
        "srv/legacy.pem",
        _pem("RSA PRIVATE KEY", "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00FF\n\n"),
        _begin("RSA PRIVATE KEY"),
        1,
    ),
    ("aws-access-key-id", "app/.env", f"A=1\nAWS_ACCESS_KEY_ID={AWS_ID}\n", AWS_ID, 2),
    (
        "aws-access-key-id",
        "app/c.json",
        '{"k": "' + AWS_ID.replace("AK", "AS", 1) + '"}',
        AWS_ID.replace("AK", "AS", 1),
        1,
    ),
    (
        "aws-secret-access-key",
        "root/.aws/credentials",
        f"[default]\naws_secret_access_key = {AWS_SECRET}\n",
        AWS_SECRET,
        2,
    ),
    (
        "aws-secret-access-key",
        "app/settings.yaml",
        f'aws:\n  SecretAccessKey: "{AWS_SECRET}"\n',
        AWS_SECRET,
        2,
    ),
    ("github-pat", "app/.env", _j("T=gh", "p_", GH_BODY), _j("gh", "p_", GH_BODY), 1),
    ("github-oauth", "app/a.txt", _j("gh", "o_", GH_BODY), _j("gh", "o_", GH_BODY), 1),
    ("github-app-token", "app/a.txt", _j("x gh", "s_", GH_BODY), _j("gh", "s_", GH_BODY), 1),
    ("github-app-token", "app/a.txt", _j("gh", "u_", GH_BODY), _j("gh", "u_", GH_BODY), 1),
    ("github-refresh-token", "app/a.txt", _j("gh", "r_", GH_BODY), _j("gh", "r_", GH_BODY), 1),
    (
        "github-fine-grained-pat",
        "app/a.txt",
        _j("github", "_pat_", "11ABCDEFG0123456789abc", "_", "Zq8Lx2" * 9, "Zq8Lx"),
        _j("github", "_pat_", "11ABCDEFG0123456789abc", "_", "Zq8Lx2" * 9, "Zq8Lx"),
        1,
    ),
    ("gitlab-pat", "ci/.gitlab-token", f"token: {GITLAB}\n", GITLAB, 1),
    ("slack-token", "app/bot.py", f'TOKEN = "{SLACK}"\n', SLACK, 1),
    ("slack-webhook", "app/notify.sh", f"curl -X POST {HOOK}\n", HOOK, 1),
    ("stripe-secret-key", "app/.env", f"STRIPE={STRIPE}\n", STRIPE, 1),
    (
        "stripe-secret-key",
        "app/.env",
        "R=" + STRIPE.replace("sk", "rk", 1),
        STRIPE.replace("sk", "rk", 1),
        1,
    ),
    (
        "netrc-password",
        "root/.netrc",
        f"machine example.org\n  login bob\n  password {PASSWORD}\n",
        PASSWORD,
        3,
    ),
    ("pgpass-password", "root/.pgpass", f"# c\ndb.example:5432:*:app:{PASSWORD}\n", PASSWORD, 2),
    (
        "git-credentials",
        "home/u/.git-credentials",
        f"https://bob:{PASSWORD}@git.example.org\n",
        PASSWORD,
        1,
    ),
    (
        "docker-config-auth",
        "root/.docker/config.json",
        '{"auths": {"r.example": {\n  "auth": "'
        + base64.b64encode(b"bob:pw-1234").decode()
        + '"}}}',
        base64.b64encode(b"bob:pw-1234").decode(),
        2,
    ),
    (
        "npmrc-auth",
        "home/node/.npmrc",
        f"registry=https://r.example/\n//r.example/:_authToken={PASSWORD}\n",
        PASSWORD,
        2,
    ),
    (
        "pip-index-credentials",
        "etc/pip.conf",
        f"[global]\nindex-url = https://bob:{PASSWORD}@pypi.example/simple\n",
        PASSWORD,
        2,
    ),
]

NEGATIVES = [
    ("rsa-private-key", "app/doc.py", f'HEADER = "{_begin("RSA PRIVATE KEY")}"\n'),
    ("private-key", "app/cert.pem", _pem("CERTIFICATE")),
    ("private-key", "app/pub.pem", _pem("PUBLIC KEY")),
    ("aws-access-key-id", "app/docs.md", _j("AKIA", "IOSFODNN7", "EXAMPLE")),
    ("aws-access-key-id", "app/a.txt", _j("AKIA", "q3zt7wnpx4lr2mhv")),
    ("aws-access-key-id", "app/a.txt", AWS_ID + "XYZ"),
    ("aws-secret-access-key", "app/a.txt", f"secret = {AWS_SECRET}\n"),
    ("aws-secret-access-key", "app/a.txt", "aws_secret_access_key = " + AWS_SECRET[:30] + "\n"),
    ("github-pat", "app/a.txt", _j("gh", "p_", GH_BODY[:20])),
    ("github-pat", "app/a.txt", _j("gh", "x_", GH_BODY)),
    ("github-fine-grained-pat", "app/a.txt", _j("github", "_pat_", "short")),
    ("gitlab-pat", "app/a.txt", _j("gl", "pat-", "short")),
    ("slack-token", "app/a.txt", _j("xo", "xq-", "2384756102-9182736450123-Qk7Lm2Np")),
    ("slack-token", "app/a.txt", _j("xo", "xb-", "short")),
    ("slack-webhook", "app/a.txt", "see https://hooks.slack.com/services/ for details\n"),
    ("stripe-secret-key", "app/a.txt", _j("sk", "_test_", "4eC39HqLyjWDarjtT1zdp7dc")),
    ("netrc-password", "app/notes.txt", f"password {PASSWORD}\n"),
    ("pgpass-password", "root/.pgpass", "# host:port:db:user:password\n"),
    ("git-credentials", "home/u/.git-credentials", "https://git.example.org\n"),
    ("git-credentials", "app/README", f"https://bob:{PASSWORD}@git.example.org\n"),
    ("docker-config-auth", "app/config.json", '{"auth": "Ym9iOnB3LTEyMzQ="}'),
    ("docker-config-auth", "root/.docker/config.json", '{"credsStore": "desktop"}'),
    ("npmrc-auth", "home/node/.npmrc", "//r.example/:_authToken=${NPM_TOKEN}\n"),
    (
        "pip-index-credentials",
        "etc/pip.conf",
        "[global]\nindex-url = https://pypi.example/simple\n",
    ),
]


def test_every_rule_has_a_positive_and_a_negative_case() -> None:
    ids = {r.id for r in RULES}
    assert len(ids) == len(RULES)
    assert {c[0] for c in POSITIVES} == ids
    negated = {c[0] for c in NEGATIVES}
    assert ids - negated <= {"ec-private-key", "dsa-private-key", "openssh-private-key",
                             "pgp-private-key", "encrypted-private-key", "github-oauth",
                             "github-app-token", "github-refresh-token"}  # fmt: skip


def test_private_key_rules_share_one_negative_shape() -> None:
    """The BEGIN line alone (a parser, documentation) is never a key, for every key type."""
    for label in ("EC", "DSA", "OPENSSH", "ENCRYPTED"):
        assert scan("a.py", f"x = '{_begin(label + ' PRIVATE KEY')}'\n".encode()) == []
    assert scan("a.txt", f"{_begin('PGP PRIVATE KEY BLOCK')}\n\n".encode()) == []
    for prefix in ("o", "s", "u", "r"):
        assert scan("a.txt", _j("gh", prefix, "_", GH_BODY[:12]).encode()) == []


@pytest.mark.parametrize(("rule_id", "path", "content", "secret", "line"), POSITIVES)
def test_positive(rule_id: str, path: str, content: str, secret: str, line: int) -> None:
    found = scan(path, content.encode())
    assert [(s.rule_id, s.line) for s in found] == [(rule_id, line)]
    (finding,) = found
    if rule_id.endswith("private-key"):
        assert finding.match == secret  # the BEGIN line only
    else:
        assert finding.match != secret
        assert finding.match.rstrip("*") == secret[: len(finding.match.rstrip("*"))]
        assert len(finding.match.rstrip("*")) <= 4 and len(finding.match) == len(secret)
    assert finding.path == path and finding.severity in ("CRITICAL", "HIGH", "MEDIUM")


@pytest.mark.parametrize(("rule_id", "path", "content"), NEGATIVES)
def test_negative(rule_id: str, path: str, content: str) -> None:
    assert [s.rule_id for s in scan(path, content.encode())] == []


def test_several_findings_keep_their_own_lines() -> None:
    text = _j("a\n", AWS_ID, "\n\n", "x gh", "p_", GH_BODY, "\n", _pem("RSA PRIVATE KEY"))
    found = [(s.rule_id, s.line) for s in scan("app/all.txt", text.encode())]
    assert found == [("aws-access-key-id", 2), ("github-pat", 4), ("rsa-private-key", 5)]
