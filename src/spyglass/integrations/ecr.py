"""Amazon ECR through boto3: a registry login from ``GetAuthorizationToken``, and the
repositories and tags from the ECR API (no registry catalog, no ``HEAD`` per tag).

The region and account come from the registry host (``<account>.dkr.ecr.<region>.amazonaws.com``);
AWS credentials from ``Link.username``/``password`` (an access key) or else boto3's normal
chain (environment, ``AWS_PROFILE``, SSO, instance or task role). ``Link.endpoint_url`` (or
boto3's ``AWS_ENDPOINT_URL_ECR``) points the API elsewhere: VPC endpoints, tests.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from spyglass import __version__
from spyglass.errors import (
    AuthError,
    NotFoundError,
    RateLimited,
    RegistryError,
    RegistryUnreachable,
    UsageError,
)
from spyglass.integrations.interface import Grant, Link, Login, RegistryProvider, Tag
from spyglass.inventory import Digest

if TYPE_CHECKING:
    from mypy_boto3_ecr import ECRClient

_HOST = re.compile(
    r"^(?P<account>\d{12})\.dkr[.-]ecr(?P<fips>-fips)?\.(?P<region>[a-z0-9-]+)"
    r"\.(amazonaws\.com(\.cn)?|on\.aws)$"
)
_AUTH_CODES = frozenset({
    "AccessDeniedException", "AccessDenied", "UnrecognizedClientException",
    "InvalidSignatureException", "ExpiredTokenException", "InvalidClientTokenId",
    "SignatureDoesNotMatch",
})
_THROTTLE_CODES = frozenset({"ThrottlingException", "TooManyRequestsException"})
_NOT_FOUND_CODES = frozenset({"RepositoryNotFoundException", "RegistryNotFoundException"})
T = TypeVar("T")


@dataclass(frozen=True)
class EcrImage:
    """One image of a repository as ECR describes it."""

    digest: Digest
    tags: tuple[str, ...]
    pushed_at: datetime | None
    size: int | None


def parse_host(host: str) -> tuple[str, str]:
    """The account id and region an ECR registry host names; UsageError if it names none."""
    match = _HOST.match(host.strip().lower())
    if match is None:
        raise UsageError(
            f"{host!r} is not an Amazon ECR registry host; use ACCOUNT.dkr.ecr.REGION.amazonaws.com"
        )
    return match["account"], match["region"]


class EcrProvider(RegistryProvider):
    """An ECR private registry: a 12-hour login token and the ECR API for listing."""

    name = "registry/ecr"
    version = 1

    def __init__(self, link: Link, **kwargs: Any) -> None:
        super().__init__(link, **kwargs)
        self.account, self.region = parse_host(link.host)
        self._ecr = self._call("set up the ECR client", lambda: _client(link, self.region))

    def login(self) -> Grant:
        """``GetAuthorizationToken``: base64 ``AWS:password``, valid until ``expiresAt``."""
        answer = self._call("get an ECR login token",
                            lambda: self._ecr.get_authorization_token(registryIds=[self.account]))
        data = (answer.get("authorizationData") or [{}])[0]
        login = _decode_token(str(data.get("authorizationToken") or ""), self.region)
        expires = data.get("expiresAt")
        return Grant(login, expires.timestamp() if isinstance(expires, datetime) else None)

    def repositories(self) -> list[str]:
        """``DescribeRepositories``, every page."""
        pages = self._pages("describe_repositories", "list the ECR repositories")
        return sorted(repo["repositoryName"] for page in pages for repo in page["repositories"])

    def tags(self, repository: str) -> list[Tag]:
        """``ListImages`` of the tagged images, every page: (tag, digest) pairs."""
        pages = self._pages("list_images", f"list the images of ECR repository {repository!r}",
                            repositoryName=repository, filter={"tagStatus": "TAGGED"})
        found = [Tag(image["imageTag"], Digest(image["imageDigest"]))
                 for page in pages for image in page["imageIds"] if image.get("imageTag")]
        return sorted(found)

    def images(self, repository: str) -> list[EcrImage]:
        """``DescribeImages``, every page: digests with their tags, push time and size."""
        pages = self._pages("describe_images", f"describe the images of ECR repository "
                            f"{repository!r}", repositoryName=repository)
        found = [_image(detail) for page in pages for detail in page["imageDetails"]]
        return sorted(found, key=lambda image: image.digest)

    def _pages(self, operation: str, what: str, **params: Any) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            # Every page is read inside the wrapper: the paginator calls the API lazily.
            paginator = cast(Any, self._ecr).get_paginator(operation)
            return list(paginator.paginate(registryId=self.account, **params))

        return self._call(what, read)

    def _call(self, what: str, call: Callable[[], T]) -> T:
        try:
            return call()
        except (BotoCoreError, ClientError) as exc:
            raise wrap(exc, what, self.region) from exc


def _client(link: Link, region: str) -> ECRClient:
    if (link.username is None) != (link.password is None):
        raise UsageError("an ECR access key needs both the key id (username) and the secret "
                         "(password); give both, or neither to use the AWS credential chain")
    session = boto3.session.Session(aws_access_key_id=link.username,
                                    aws_secret_access_key=link.password, region_name=region)
    config = Config(user_agent_extra=f"spyglass/{__version__}",
                    retries={"mode": "standard"},
                    connect_timeout=10, read_timeout=60)
    return session.client("ecr", endpoint_url=link.endpoint_url, config=config,
                          verify=link.ca_bundle)


def _decode_token(token: str, region: str) -> Login:
    try:
        username, sep, password = base64.b64decode(token, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise RegistryError(f"ECR in {region} sent a login token that is not base64; "
                            "try again, or report it") from exc
    if not sep or not password:
        raise RegistryError(f"ECR in {region} sent a login token without a password; try again")
    return Login(username, password)


def _image(detail: dict[str, Any]) -> EcrImage:
    pushed = detail.get("imagePushedAt")
    return EcrImage(
        Digest(detail["imageDigest"]), tuple(sorted(detail.get("imageTags") or ())),
        pushed if isinstance(pushed, datetime) else None, detail.get("imageSizeInBytes"),
    )


def wrap(exc: BotoCoreError | ClientError, what: str, region: str) -> RegistryError:
    """The error-tree exception for a botocore one, with what to do about it."""
    where = f"ECR in {region}"
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError, ProfileNotFound)):
        return AuthError(f"could not {what}: no usable AWS credentials ({exc}); set AWS_PROFILE "
                         "or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or give the registry an "
                         "access key")
    if isinstance(exc, (BotoConnectionError, HTTPClientError)):  # also TLS and timeouts
        return RegistryUnreachable(f"could not {what}: {where} cannot be reached ({exc}); check "
                                   "the network, proxy or endpoint URL")
    if not isinstance(exc, ClientError):
        return RegistryError(f"could not {what} at {where}: {exc}")
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    message = " ".join(str(error.get("Message", "") or code).split())[:300]
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return _client_error(code, status, message, what, where)


def _client_error(code: str, status: int, message: str, what: str, where: str) -> RegistryError:
    # The code decides; the status covers endpoints that answer in another error format.
    if code in _AUTH_CODES or status in (401, 403):
        return AuthError(
            f"AWS refused the credentials for {where} ({code}: {message}): check AWS_PROFILE / "
            "the access key; the role needs ecr:GetAuthorizationToken, ecr:DescribeRepositories, "
            "ecr:ListImages and ecr:DescribeImages"
        )
    if code in _NOT_FOUND_CODES:
        return NotFoundError(f"could not {what}: {message}; check the repository name and the "
                             "account in the registry host")
    if code in _THROTTLE_CODES or status == 429:
        return RateLimited(f"could not {what}: {where} kept throttling the requests; "
                           "poll less often")
    return RegistryError(f"could not {what}: {where} answered {code}: {message}")
