"""The ``spyglass`` command: ``scan``, ``db``, ``serve``, ``worker`` and ``token``.

Every command turns errors from the tree in ``spyglass.errors`` into one message on stderr and
the exit code from ``exitcodes`` - a traceback is a bug.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from spyglass.cli import db, service
from spyglass.cli.console import reporting_errors, stderr
from spyglass.cli.exitcodes import ExitCode

app = typer.Typer(
    name="spyglass",
    help="Container image vulnerability scanner.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db.app, name="db")
service.register(app)  # serve, worker, token


class OutputFormat(StrEnum):
    """What ``scan`` prints."""

    table = "table"
    json = "json"


def _csv(values: list[str] | None) -> list[str]:
    return [part.strip() for value in values or () for part in value.split(",") if part.strip()]


@app.command()
def scan(
    image: Annotated[
        str,
        typer.Argument(
            help="alpine:3.19, docker-archive:PATH[:NAME:TAG], "
            "oci:DIR[:TAG], oci-archive:PATH[:TAG], or PATH.tar"
        ),
    ],
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
    platform: Annotated[
        str | None,
        typer.Option(
            help="os/arch[/variant]: picks from an index, and refuses an image built for another "
            "platform [default: linux/amd64 from an index; a single-platform image as it is]"
        ),
    ] = None,
    insecure_registry: Annotated[
        list[str] | None, typer.Option(help="HOST[:PORT] that may be reached over plain HTTP")
    ] = None,
    analyzers: Annotated[
        list[str] | None, typer.Option(help="only these analyzers or groups")
    ] = None,
    skip_analyzers: Annotated[
        list[str] | None, typer.Option(help="not these analyzers or groups")
    ] = None,
    no_cache: Annotated[
        bool, typer.Option(help="read every layer, ignoring the layer cache")
    ] = False,
    username: Annotated[str | None, typer.Option(envvar="SPYGLASS_USERNAME")] = None,
    password: Annotated[str | None, typer.Option(envvar="SPYGLASS_PASSWORD")] = None,
    severity: Annotated[
        list[str] | None,
        typer.Option(help="only findings of these severities, e.g. HIGH,CRITICAL"),
    ] = None,
    ignore_unfixed: Annotated[
        bool, typer.Option(help="leave out findings that have no fixed version yet")
    ] = False,
    exit_code: Annotated[
        int, typer.Option(min=0, max=255, help="exit with N when findings remain after filters")
    ] = 0,
) -> None:
    """List what is inside an image and the vulnerabilities that affect it."""
    from spyglass.cli.scan import ScanRequest, run_scan

    request = ScanRequest(
        image=image,
        output_format=output_format.value,
        platform=platform,
        insecure_registries=tuple(_csv(insecure_registry)),
        analyzers=tuple(_csv(analyzers)),
        skip_analyzers=tuple(_csv(skip_analyzers)),
        use_cache=not no_cache,
        username=username,
        password=password,
        severities=tuple(_csv(severity)),
        ignore_unfixed=ignore_unfixed,
        exit_code=exit_code,
    )
    code = reporting_errors(lambda: run_scan(request, stderr))
    raise typer.Exit(code)


@app.command()
def version() -> None:
    """Print the Spyglass version."""
    from spyglass import __version__

    typer.echo(__version__)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        stderr.print("interrupted")
        sys.exit(130)


__all__ = ["ExitCode", "app", "main"]
