"""The human report of ``spyglass scan``: a summary, the packages, the vulnerabilities found in
them, and what could not be read or compared."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from spyglass.inventory import Inventory, Package
from spyglass.match.interface import Finding, MatchResult

_SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}


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


def _fix(finding: Finding) -> str:
    if finding.fixed_versions:
        return ", ".join(finding.fixed_versions)
    return {"unfixed": "no fix yet", "will-not-fix": "will not fix"}.get(
        finding.state, finding.state
    )


def _findings_table(findings: tuple[Finding, ...]) -> Table:
    counts = {s: sum(1 for f in findings if f.severity == s) for s in _SEVERITY_STYLE}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    title = f"{len(findings)} vulnerabilities" + (f" ({summary})" if summary else "")
    table = Table(title=title, title_justify="left")
    for column in ("Package", "Installed", "Vulnerability", "Severity", "Fixed in", "Title"):
        table.add_column(column, overflow="fold")
    for f in findings:
        style = _SEVERITY_STYLE.get(f.severity, "")
        severity = f"[{style}]{f.severity.upper()}[/{style}]" if style else f.severity.upper()
        exploited = " [bold red](exploited)[/bold red]" if f.known_exploited else ""
        table.add_row(
            f.package.name, f.installed_version, f.id + exploited, severity, _fix(f), f.title
        )
    return table


def _vulnerabilities(result: MatchResult | None, console: Console) -> None:
    if result is None:
        return  # the scan said on stderr that there is no data; packages were listed
    if result.findings:
        console.print(_findings_table(result.findings))
    else:
        console.print("[green]no vulnerabilities found[/green]")
    for note in result.notes:
        about = f" ({note.advisory_id})" if note.advisory_id else ""
        console.print(
            f"[yellow]could not match[/yellow] {note.package.name} {note.package.version}"
            f"{about}: {note.reason}",
            highlight=False,
        )


def render_table(inventory: Inventory, console: Console, result: MatchResult | None = None) -> None:
    """Print the report for one image (findings when it was matched)."""
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
    _vulnerabilities(result, console)
