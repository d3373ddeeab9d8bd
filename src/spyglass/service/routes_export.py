"""``/api/v1/images.csv`` and ``/api/v1/findings.csv``: the image list's filters, as CSV.

The query string is the image list's (parsed by the same dependency); the body is streamed
from a server-side cursor by :mod:`spyglass.service.csv_export`, so the export's size is not
bounded by memory. The sort key is checked before the first byte goes out, so a bad one is a 422.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from spyglass.service import csv_export
from spyglass.service.auth import Viewer, runtime_of
from spyglass.service.routes import ImageFilterQuery, Sort
from spyglass.store import catalog

router = APIRouter(prefix="/api/v1", tags=["export"])

CSV_TYPE = "text/csv; charset=utf-8"
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}},
          "description": "CSV with a header row, streamed"},
}


def _stream(body: Iterator[bytes], filename: str) -> StreamingResponse:
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return StreamingResponse(body, media_type=CSV_TYPE, headers=headers)


@router.get("/images.csv", response_class=StreamingResponse, responses=CSV_RESPONSE)
def export_images(request: Request, _: Viewer, wanted: ImageFilterQuery,
                  sort: Sort = "-scanned_at") -> StreamingResponse:
    """The image list (same filters and sort, no pagination) as CSV, one row per image."""
    catalog.ordered(catalog.filtered(wanted), sort)  # a bad filter or sort fails here, as 422
    body = csv_export.images_csv(runtime_of(request).db, wanted, sort)
    return _stream(body, "images.csv")


@router.get("/findings.csv", response_class=StreamingResponse, responses=CSV_RESPONSE)
def export_findings(request: Request, _: Viewer, wanted: ImageFilterQuery,
                    sort: Sort = "-scanned_at") -> StreamingResponse:
    """Open findings of the images the list's filters keep, as CSV with image columns first;
    ``severity``, ``fixable=true`` and ``exploited=true`` also narrow the findings."""
    catalog.ordered(catalog.filtered(wanted), sort)
    body = csv_export.findings_csv(runtime_of(request).db, wanted, sort)
    return _stream(body, "findings.csv")
