"""What a task needs at run time: the settings and the open database."""

from __future__ import annotations

from dataclasses import dataclass

from spyglass.service.settings import Settings
from spyglass.store.engine import Database


@dataclass(frozen=True)
class Runtime:
    """Settings and database shared by the API, the tasks and the sweeper of one process."""

    settings: Settings
    db: Database

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        """Connect to the settings' database."""
        return cls(settings, Database.connect(settings.database_url))

    def close(self) -> None:
        """Release the database connections."""
        self.db.close()
