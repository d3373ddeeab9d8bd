"""The secret rules: what a credential looks like, how severe it is, where it is looked for.

Each rule has a stable id, a regular expression on bytes whose ``secret`` group is the value
to redact, and keywords: small expressions of which at least one must match somewhere in a
file before the rule's expression runs at all. Each keyword starts with a literal, so that
Python's ``re`` skips through the file as fast as a substring search; rules share keywords
where they can (all private keys share ``PRIVATE KEY``), and each distinct keyword is searched
once per file. Rules with ``names`` apply only to files with one
of those base names (or path suffixes): credentials in well-known configuration files, where
a plain ``password`` is meaningful.

Expressions are written so that they cannot backtrack badly: every repeated part is a single
character class or is bounded.
"""

from __future__ import annotations

from dataclasses import dataclass

CRITICAL, HIGH, MEDIUM = "CRITICAL", "HIGH", "MEDIUM"


@dataclass(frozen=True)
class Rule:
    """One kind of secret."""

    id: str
    title: str
    severity: str
    pattern: bytes
    """A regular expression on bytes with a named group ``secret``."""
    keywords: tuple[bytes, ...]
    """Expressions (starting with a literal); the rule runs only where one of them matches."""
    names: tuple[str, ...] = ()
    """When set, the rule runs only on files whose path ends with ``/`` + one of these."""
    whole_line: bool = False
    """Report the whole ``secret`` group verbatim instead of redacting it (only for lines
    that are not themselves secret, such as a private key's BEGIN line)."""


_B64 = rb"[A-Za-z0-9+/=\r\n\t ]"


def _private_key(rule_id: str, title: str, label: bytes) -> Rule:
    # The BEGIN line, optional RFC 1421 headers, at least 64 base64 characters, then END:
    # a mere mention of the BEGIN line (documentation, parsers) is not a key.
    pattern = (
        rb"(?P<secret>-----BEGIN " + label + rb"-----)[ \t]*\r?\n"
        rb"(?:[A-Za-z][\w-]*:[^\r\n]*\r?\n)*" + _B64 + rb"{64,}-----END " + label + rb"-----"
    )
    return Rule(rule_id, title, HIGH, pattern, (b"PRIVATE KEY",), whole_line=True)


_TOKEN_END = rb"(?![A-Za-z0-9_])"

RULES: tuple[Rule, ...] = (
    _private_key("rsa-private-key", "RSA private key", rb"RSA PRIVATE KEY"),
    _private_key("ec-private-key", "EC private key", rb"EC PRIVATE KEY"),
    _private_key("dsa-private-key", "DSA private key", rb"DSA PRIVATE KEY"),
    _private_key("openssh-private-key", "OpenSSH private key", rb"OPENSSH PRIVATE KEY"),
    _private_key("pgp-private-key", "PGP private key block", rb"PGP PRIVATE KEY BLOCK"),
    _private_key("private-key", "Private key (PKCS#8)", rb"PRIVATE KEY"),
    _private_key(
        "encrypted-private-key", "Encrypted private key (PKCS#8)", rb"ENCRYPTED PRIVATE KEY"
    ),
    Rule(
        "aws-access-key-id",
        "AWS access key ID",
        CRITICAL,
        # AWS's documentation placeholder (AKIAIOSFODNN7EXAMPLE) is not a finding. The literal
        # "A" comes first (the lookbehind after it checks the byte before it) so that ``re``
        # skips to each "A" quickly: led by the lookbehind, it tried every position, 20x slower.
        rb"(?P<secret>A(?<![A-Z0-9]A)[KS]IA(?![A-Z0-9]{9}EXAMPLE)[A-Z0-9]{16})(?![A-Z0-9])",
        (b"A[KS]IA",),
    ),
    Rule(
        "aws-secret-access-key",
        "AWS secret access key",
        CRITICAL,
        rb"(?i:aws_?secret_?access_?key|secret_?access_?key)[\"']?[ \t]*[:=>]{1,2}[ \t]*[\"']?"
        rb"(?P<secret>(?![A-Za-z0-9/+]{30}EXAMPLEKEY)[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
        (b"ecret_access_key", b"ECRET_ACCESS_KEY", b"ecretAccessKey", b"ecretaccesskey"),
    ),
    Rule(
        "github-pat",
        "GitHub personal access token",
        CRITICAL,
        rb"(?P<secret>ghp_[A-Za-z0-9]{36,255})" + _TOKEN_END,
        (b"gh[pousr]_",),
    ),
    Rule(
        "github-oauth",
        "GitHub OAuth access token",
        CRITICAL,
        rb"(?P<secret>gho_[A-Za-z0-9]{36,255})" + _TOKEN_END,
        (b"gh[pousr]_",),
    ),
    Rule(
        "github-app-token",
        "GitHub App token",
        CRITICAL,
        rb"(?P<secret>gh[us]_[A-Za-z0-9]{36,255})" + _TOKEN_END,
        (b"gh[pousr]_",),
    ),
    Rule(
        "github-refresh-token",
        "GitHub refresh token",
        CRITICAL,
        rb"(?P<secret>ghr_[A-Za-z0-9]{36,255})" + _TOKEN_END,
        (b"gh[pousr]_",),
    ),
    Rule(
        "github-fine-grained-pat",
        "GitHub fine-grained personal access token",
        CRITICAL,
        rb"(?P<secret>github_pat_[A-Za-z0-9_]{82,255})" + _TOKEN_END,
        (b"github_pat_",),
    ),
    Rule(
        "gitlab-pat",
        "GitLab personal access token",
        CRITICAL,
        rb"(?P<secret>glpat-[A-Za-z0-9_-]{20,50})(?![A-Za-z0-9_-])",
        (b"glpat-",),
    ),
    Rule(
        "slack-token",
        "Slack token",
        HIGH,
        rb"(?P<secret>xox[baprs]-[0-9A-Za-z]{8,}-[0-9A-Za-z-]{8,255})(?![0-9A-Za-z-])",
        (b"xox[baprs]-",),
    ),
    Rule(
        "slack-webhook",
        "Slack incoming webhook URL",
        MEDIUM,
        rb"(?P<secret>https://hooks\.slack\.com/services/T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/"
        rb"[A-Za-z0-9]{16,})",
        (rb"hooks\.slack\.com/services/",),
    ),
    Rule(
        "stripe-secret-key",
        "Stripe live secret or restricted key",
        CRITICAL,
        rb"(?P<secret>[sr]k_live_[0-9A-Za-z]{24,99})(?![0-9A-Za-z])",
        (b"k_live_",),
    ),
    Rule(
        "netrc-password",
        "Password in .netrc",
        HIGH,
        rb"(?<![\w-])password[ \t]+(?P<secret>[^\s]+)",
        (b"password",),
        names=(".netrc", "_netrc"),
    ),
    Rule(
        "pgpass-password",
        "Password in .pgpass",
        HIGH,
        rb"(?m:^)(?!#)[^:\r\n]*:[^:\r\n]*:[^:\r\n]*:[^:\r\n]*:(?P<secret>[^\r\n]+)",
        (b":",),
        names=(".pgpass",),
    ),
    Rule(
        "git-credentials",
        "Password in Git credential store",
        HIGH,
        rb"[a-z][a-z0-9+.-]*://[^:@\s/]+:(?P<secret>[^@\s/]+)@",
        (b"@",),
        names=(".git-credentials", ".config/git/credentials"),
    ),
    Rule(
        "docker-config-auth",
        "Registry credentials in Docker config.json",
        HIGH,
        rb"\"(?:auth|identitytoken|registrytoken)\"[ \t\r\n]*:[ \t\r\n]*"
        rb"\"(?P<secret>[^\"\s]{8,})\"",
        (b'"auth"', b'"identitytoken"', b'"registrytoken"'),
        names=(".docker/config.json", ".dockercfg"),
    ),
    Rule(
        "npmrc-auth",
        "npm registry credentials in .npmrc",
        HIGH,
        rb"(?:_authToken|_auth|_password)[ \t]*=[ \t]*(?P<secret>(?!\$\{)[^\s]+)",
        (b"_auth", b"_password"),
        names=(".npmrc",),
    ),
    Rule(
        "pip-index-credentials",
        "Package index credentials in pip configuration",
        HIGH,
        rb"index-url[ \t]*[=:][ \t]*[a-z][a-z0-9+.-]*://[^:@\s/]+:(?P<secret>[^@\s/]+)@",
        (b"index-url",),
        names=("pip.conf", "pip.ini"),
    ),
)
