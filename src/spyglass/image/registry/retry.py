"""When to try a registry request again, and how long to wait first.

429 and the 5xx answers that mean "busy or briefly broken" are retried, as are connection
errors and timeouts, with exponential back-off; a ``Retry-After`` header (seconds or an HTTP
date) overrides the back-off. Waits are capped so a hostile header cannot stall a scan.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

import httpx

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
BACKOFF_BASE = 0.5
BACKOFF_MAX = 30.0
RETRY_AFTER_MAX = 120.0


def backoff(attempt: int) -> float:
    """Seconds to wait before retry number ``attempt + 1``: 0.5, 1, 2, 4… up to 30."""
    return min(BACKOFF_BASE * 2.0**attempt, BACKOFF_MAX)


def retry_after(response: httpx.Response, now: Callable[[], float] = time.time) -> float | None:
    """The wait a ``Retry-After`` header asks for, capped; None when absent or unreadable."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - now()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), RETRY_AFTER_MAX)


def delay_for(response: httpx.Response, attempt: int) -> float:
    """How long to wait after a retryable response: its Retry-After, else the back-off."""
    asked = retry_after(response)
    return backoff(attempt) if asked is None else asked


def is_retryable(exc: httpx.TransportError) -> bool:
    """Connection failures and timeouts are worth retrying; a certificate problem is not."""
    cause: BaseException | None = exc
    for _ in range(10):  # the chain is httpx -> httpcore -> ssl; bounded in case it loops
        if cause is None:
            break
        if isinstance(cause, ssl.SSLCertVerificationError):
            return False
        cause = cause.__cause__ or cause.__context__
    return not isinstance(exc, httpx.UnsupportedProtocol | httpx.ProxyError)
