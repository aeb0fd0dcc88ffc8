"""`hurricane catalog search`: find columns across every domain's data products."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from hurricane_assets.catalog import load_catalog
from hurricane_assets.catalog.manifest import Classification

app = typer.Typer(help="The catalog of every domain's data products.", no_args_is_help=True)
console = Console()


def _matches(text: str, row: dict) -> bool:
    haystack = " ".join([row["domain"], row["dataset"], row["column"], row["description"], *row["tags"]]).lower()
    return all(word in haystack for word in text.lower().split())


@app.command("search")
def search(
    text: str = typer.Argument("", help="words that must all appear in the column's name, dataset, description or tags"),
    entity: str | None = typer.Option(None, help="columns of datasets about, or columns referring to, this entity"),
    column: str | None = typer.Option(None, help="exactly this column name"),
    tag: str | None = typer.Option(None, help="columns or datasets with this tag"),
    classification: Classification | None = typer.Option(None, help="exactly this classification"),
    max_classification: Classification | None = typer.Option(None, help="this classification or lower"),
    as_json: bool = typer.Option(False, "--json", help="print a JSON list instead of a table"),
) -> None:
    """Columns matching every criterion, one row per column (domain.dataset, column, class, PII)."""
    refs = load_catalog().search(entity=entity, column=column, tag=tag, classification=classification,
                                 max_classification=max_classification)
    rows = [
        {"domain": r.domain, "dataset": r.dataset, "column": r.column, "type": r.spec.type, "classification": r.spec.classification.value,
         "pii": r.spec.pii.value if r.spec.pii else None, "quasi_identifier": r.spec.quasi_identifier,
         "refers_to": r.spec.refers_to, "tags": list(r.spec.tags), "description": r.spec.description}
        for r in refs
    ]
    rows = [r for r in rows if _matches(text, r)]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"{len(rows)} column(s)", title_justify="left")
    table.add_column("dataset", no_wrap=True)
    table.add_column("column", no_wrap=True)
    table.add_column("class", no_wrap=True)
    table.add_column("PII / joins", overflow="fold")
    for r in rows:
        note = r["pii"] or (f"→ {r['refers_to']}" if r["refers_to"] else "")
        if r["quasi_identifier"]:
            note = f"{note} QI".strip()
        table.add_row(f"{r['domain']}.{r['dataset']}", r["column"], r["classification"], note)
    console.print(table)
