"""The human report of ``spyglass scan``: a summary, the packages, and what could not be read."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from spyglass.inventory import Inventory, Package


def _short(digest: str | None) -> str:
    return digest.split(":", 1)[-1][:12] if digest else "-"


def _version(pkg: Package) -> str:
    return pkg.full_version


def _packages_table(inventory: Inventory) -> Table:
    layer_index = {layer.diff_id: i for i, layer in enumerate(inventory.layers)}
    table = Table(title=f"{len(inventory.packages)} packages", title_justify="left")
    for column in ("Package", "Version", "Type", "Source", "Layer", "Path"):
        table.add_column(column, overflow="fold")
    for pkg in sorted(inventory.packages, key=lambda p: (p.ecosystem, p.name, p.version)):
        layer = layer_index.get(pkg.layer) if pkg.layer else None
        table.add_row(
            pkg.name,
            _version(pkg),
            pkg.ecosystem,
            pkg.source_name if pkg.source_name and pkg.source_name != pkg.name else "",
            f"{layer} ({_short(pkg.layer)})" if layer is not None else "-",
            pkg.path,
        )
    return table


def render_table(inventory: Inventory, console: Console) -> None:
    """Print the report for one image."""
    os_text = f"{inventory.os.family} {inventory.os.version}".strip() if inventory.os else "unknown"
    cached = sum(1 for layer in inventory.layers if layer.cached)
    console.print(f"[bold]{inventory.reference}[/bold]")
    console.print(
        f"digest {inventory.digest or '-'}  platform {inventory.platform}  OS {os_text}  "
        f"layers {len(inventory.layers)} ({cached} from cache)"
    )
    console.print(_packages_table(inventory))
    if inventory.secrets:
        secrets = Table(title=f"{len(inventory.secrets)} secrets", title_justify="left")
        for column in ("Rule", "Severity", "Path", "Line", "Match"):
            secrets.add_column(column, overflow="fold")
        for s in inventory.secrets:
            secrets.add_row(s.rule_id, s.severity, s.path, str(s.line), s.match)
        console.print(secrets)
    for unknown in inventory.unknowns:
        where = f" ({unknown.analyzer})" if unknown.analyzer else ""
        console.print(f"[yellow]could not read[/yellow] {unknown.path}{where}: {unknown.reason}")
