"""schemathesis against ``/api/v1/openapi.json``: no request it generates gets a server error.

Submitting scans is left out: generated references would be looked up on public registries, and
this machine reaches none; submission is tested with real images in ``test_api.py``.
"""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.service.conftest import Api, alpine_layout

SETTINGS = settings(max_examples=25, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


def _scanned_image(api: Api, root: Path) -> None:
    from spyglass.jobs.scan import scan_entry
    from spyglass.store import queue
    from spyglass.store.models import utcnow

    with api.service.runtime.db.transaction() as session:
        entry, _ = queue.submit(session, alpine_layout(root, {"musl": "1.2.4-r2"}),
                                digest=None, now=utcnow())
    assert scan_entry(api.service.runtime, entry.id) == "scanned"


def test_no_server_error(api: Api, tmp_path: Path) -> None:
    _scanned_image(api, tmp_path / "img")  # so that detail pages and lists have rows
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", api.service.client.app)
    headers = {"Authorization": f"Bearer {api.viewer}"}
    tested = []
    for found in schema.exclude(method="POST", path="/api/v1/scans").get_all_operations():
        operation = found.ok()

        @SETTINGS
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        check()
        tested.append(operation.label)
    assert len(tested) >= 5, tested
