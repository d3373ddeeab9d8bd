"""``spyglass serve``, ``spyglass worker``, ``spyglass token …`` and ``spyglass db upgrade``.

The main CLI mounts these with ``register(app)``; ``db upgrade`` is added to the ``db`` sub-app
by ``cli/db.py``. ``serve`` and ``worker`` refuse to start on an outdated schema and name the
command that fixes it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from spyglass.cli.console import reporting_errors, stdout

if TYPE_CHECKING:
    from spyglass.store.engine import Database

token_app = typer.Typer(name="token", help="API bearer tokens.", no_args_is_help=True)


def _logging(level: str) -> None:
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=level.upper(), format=fmt)


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8080,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="API only; run `spyglass worker` elsewhere")
    ] = False,
    concurrency: Annotated[int, typer.Option(help="scans at once in the built-in worker")] = 2,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error")] = "info",
) -> None:
    """Start the REST API (and, unless --no-worker, a worker in the same process)."""
    import uvicorn

    from spyglass.jobs.runtime import Runtime
    from spyglass.jobs.tasks import Jobs
    from spyglass.jobs.worker import EmbeddedWorker
    from spyglass.service.app import create_app
    from spyglass.service.settings import Settings
    from spyglass.store.schema import require_current

    def prepare() -> tuple[Runtime, Jobs]:
        runtime = Runtime.from_settings(Settings.from_env())
        require_current(runtime.db.engine)
        return runtime, Jobs(runtime)

    _logging(log_level)
    runtime, jobs = reporting_errors(prepare)
    worker = None if no_worker else EmbeddedWorker(jobs, concurrency).start()
    try:
        uvicorn.run(create_app(runtime, jobs), host=host, port=port, log_level=log_level.lower())
    finally:
        if worker is not None:
            worker.stop()
        runtime.close()


def worker(
    concurrency: Annotated[int, typer.Option(help="scans at once")] = 2,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error")] = "info",
) -> None:
    """Run a worker: take scans from the queue until interrupted."""
    from spyglass.jobs.runtime import Runtime
    from spyglass.jobs.worker import run_worker
    from spyglass.service.settings import Settings

    _logging(log_level)
    runtime = reporting_errors(lambda: Runtime.from_settings(Settings.from_env()))
    try:
        reporting_errors(lambda: run_worker(runtime, concurrency))
    finally:
        runtime.close()


def upgrade() -> None:
    """Apply the service's schema migrations (and create the vulnerability tables)."""
    from spyglass.service.settings import Settings
    from spyglass.store import schema
    from spyglass.store.engine import make_engine

    def run() -> str:
        engine = make_engine(Settings.from_env().database_url)
        try:
            before = schema.current(engine)
            schema.upgrade(engine)
            after = schema.current(engine)
        finally:
            engine.dispose()
        return f"schema at revision {after}" + ("" if before == after else f" (was {before})")

    stdout.print(reporting_errors(run), highlight=False)


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="admin (read and write) or viewer (read only)")],
    name: Annotated[str, typer.Option(help="who or what the token is for")] = "",
) -> None:
    """Create a token and print it once; only its hash is stored."""
    from spyglass.store.models import utcnow
    from spyglass.store.tokens import create_token

    def run() -> str:
        with _database() as db, db.transaction() as session:
            _, secret = create_token(session, role, name or role, now=utcnow())
        return secret

    typer.echo(reporting_errors(run))


@token_app.command("list")
def token_list() -> None:
    """List tokens (never their secrets)."""
    from spyglass.store.tokens import list_tokens

    def run() -> None:
        with _database() as db, db.transaction() as session:
            tokens = list_tokens(session)
        table = Table("id", "name", "role", "created", "last used", "revoked")
        for t in tokens:
            table.add_row(
                str(t.id),
                t.name,
                t.role,
                f"{t.created_at:%Y-%m-%d %H:%M}",
                f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "-",
                "yes" if t.revoked else "",
            )
        stdout.print(table)

    reporting_errors(run)


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="id from `token list`")]) -> None:
    """Revoke a token: requests with it are refused from now on."""
    from spyglass.errors import UsageError
    from spyglass.store.models import utcnow
    from spyglass.store.tokens import revoke_token

    def run() -> None:
        with _database() as db, db.transaction() as session:
            if not revoke_token(session, token_id, now=utcnow()):
                raise UsageError(f"no live token with id {token_id}; see `spyglass token list`")

    reporting_errors(run)
    stdout.print(f"token {token_id} revoked")


@contextmanager
def _database() -> Iterator[Database]:
    """The service database, checked to be on the current schema."""
    from spyglass.service.settings import Settings
    from spyglass.store.engine import Database
    from spyglass.store.schema import require_current

    db = Database.connect(Settings.from_env().database_url)
    try:
        require_current(db.engine)
        yield db
    finally:
        db.close()


def register(app: typer.Typer) -> None:
    """Mount ``serve``, ``worker`` and ``token`` on the main CLI."""
    app.command()(serve)
    app.command()(worker)
    app.add_typer(token_app, name="token")
