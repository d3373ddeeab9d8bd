"""The CISA Known Exploited Vulnerabilities catalogue (JSON): which CVEs are exploited.

KEV lists CVE ids, not packages; the store answers "is this advisory (or any alias) known
exploited" from it, and rules can act on that.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spyglass.errors import FeedError
from spyglass.vulndb.feeds.documents import read_json_file
from spyglass.vulndb.feeds.interface import Feed
from spyglass.vulndb.model import Exploited, FeedData, Skipped

DEFAULT_URL = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"


class KevFeed(Feed):
    """CISA KEV: CVE ids known to be exploited in the wild."""

    name = "cisa/kev"
    version = 1

    def default_source(self) -> str:
        """CISA's published JSON catalogue."""
        return DEFAULT_URL

    def parse(self, path: Path) -> FeedData:
        """Read the catalogue JSON at ``path``."""
        return parse_catalogue(read_json_file(path, "KEV catalogue"))


def parse_catalogue(data: Any) -> FeedData:
    """Entries of a KEV catalogue document; entries without a ``cveID`` are skipped."""
    if not isinstance(data, dict) or not isinstance(data.get("vulnerabilities"), list):
        raise FeedError("not a KEV catalogue: no 'vulnerabilities' list")
    entries: list[Exploited] = []
    skipped: list[Skipped] = []
    for index, item in enumerate(data["vulnerabilities"]):
        if not isinstance(item, dict) or not isinstance(item.get("cveID"), str):
            skipped.append(Skipped(f"vulnerabilities[{index}]", "entry without a cveID"))
            continue
        entries.append(
            Exploited(
                vuln_id=item["cveID"].strip(),
                date_added=str(item.get("dateAdded") or ""),
                due_date=str(item.get("dueDate") or ""),
                vendor=str(item.get("vendorProject") or ""),
                product=str(item.get("product") or ""),
                name=str(item.get("vulnerabilityName") or ""),
                ransomware=str(item.get("knownRansomwareCampaignUse") or ""),
            )
        )
    return FeedData(exploited=tuple(entries), skipped=tuple(skipped))
