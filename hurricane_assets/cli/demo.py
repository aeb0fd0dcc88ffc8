"""`hurricane demo`: the whole loop of DESIGN.md on the embedded default, printed as a timeline.

prod data → models trained → drift injected → monitor checks fail → data need and prompt →
negotiation (offers, refusals, counter-offers, policy decisions) → contracts → masked delivery →
retrain → AUC before/after → useless share revoked → ledger verified. Every step is a real Dagster
run on the instance under `$HURRICANE_HOME/dagster`, so `make ui` shows it all afterwards.
"""

from __future__ import annotations

import os
import shutil

import typer
from rich.console import Console
from rich.table import Table

from hurricane_assets.cli.timeline import auc_story, show_event
from hurricane_assets.dagster_layer.embedded_loop import EmbeddedLoop, LoopFailed, LoopSettings
from hurricane_assets.dagster_layer.workspace import hurricane_instance
from hurricane_assets.ledger.verify import verify_ledger
from hurricane_assets.settings import hurricane_paths

console = Console()
KEPT_ON_RESET = {"keys"}  # signing and masking keys survive a fresh start; everything else is state


def reset_home() -> None:
    home = hurricane_paths().home
    if not home.exists():
        return
    for child in home.iterdir():
        if child.name not in KEPT_ON_RESET:
            shutil.rmtree(child) if child.is_dir() else child.unlink()


def demo(
    rows: int = typer.Option(int(os.environ.get("HURRICANE_ROWS", "20000")), help="transactions to generate (other datasets scale from it)"),
    seed: int = typer.Option(7, help="seed of the synthetic organisation"),
    drift_days: int = typer.Option(30, help="the drift starts this many days before today"),
    fresh: bool = typer.Option(True, help="start from an empty $HURRICANE_HOME (keys are kept)"),
) -> None:
    """Run the whole loop on the embedded default and print what happened and where to look."""
    paths = hurricane_paths()
    console.rule("[bold]Data Hurricane demo[/]")
    if fresh:
        reset_home()
    console.print(f"HURRICANE_HOME = {paths.home}   ({rows} transactions, seed {seed}, drift {drift_days} days)")
    loop = EmbeddedLoop(hurricane_instance(), LoopSettings(rows=rows, seed=seed, drift_days=drift_days), on_event=show_event)
    try:
        events = loop.run()
    except LoopFailed as exc:
        console.print(f"[red]the loop failed:[/] {exc}")
        raise typer.Exit(code=1) from None

    console.rule("[bold]AUC before and after[/]", align="left")
    table = Table()
    for col in ("model", "before drift", "after drift", "retrained, own data only", "retrained with shares", "recovered"):
        table.add_column(col)
    for model, auc in auc_story(events).items():
        if {"before_drift", "after_drift", "after_retrain"} <= auc.keys():
            lost = auc["before_drift"] - auc["after_drift"]
            recovered = (auc["after_retrain"] - auc["after_drift"]) / lost if lost > 0 else 1.0
            table.add_row(model, f"{auc['before_drift']:.3f}", f"{auc['after_drift']:.3f}",
                          f"{auc['retrain_without_shares']:.3f}", f"{auc['after_retrain']:.3f}", f"{recovered:.0%}")
    console.print(table)

    result = verify_ledger()
    status = "[green]OK[/]" if result.ok else f"[red]FAILED at #{result.first_bad_seq}: {result.problem}[/]"
    console.rule("[bold]hurricane ledger verify[/]", align="left")
    console.print(f"{status}: {result.entries} entries, {result.signatures_checked} signatures, "
                  f"{result.checkpoints_checked} checkpoints")
    console.rule("[bold]Where to look[/]", align="left")
    console.print(f"Delta tables: {paths.envs}   contracts (ODCS): {paths.contracts}   lineage: {paths.lineage}")
    console.print("hurricane contracts list · hurricane negotiations show <id> · hurricane ledger show")
    console.print("Dagster UI with every run, the asset graph, checks and metadata: [bold]make ui[/] → http://127.0.0.1:3000")
    if not result.ok:
        raise typer.Exit(code=1)
