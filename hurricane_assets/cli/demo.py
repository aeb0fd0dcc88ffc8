"""`hurricane demo`: the whole loop of DESIGN.md on the embedded default, printed as a timeline.

prod data → models trained → drift injected → monitor checks fail → data need and prompt →
negotiation (offers, refusals, counter-offers, policy decisions) → contracts → masked delivery →
retrain → AUC before/after → useless share revoked → ledger verified. Every step is a real Dagster
run on the instance under `$HURRICANE_HOME/dagster`, so `make ui` shows it all afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
from contextlib import ExitStack
from enum import Enum

import typer
from rich.console import Console
from rich.table import Table

from hurricane_assets.cli.display import short_path
from hurricane_assets.cli.errors import INTERRUPTED
from hurricane_assets.settings import hurricane_paths

console = Console()


class Stack(str, Enum):
    embedded = "embedded"
    services = "services"
KEPT_ON_RESET = {"keys", "trust", "exchange"}  # masking keys, trust root, the log's key; everything else is state


def reset_home() -> None:
    """Empty the home but keep keys: each domain keeps `domains/<d>/keys`, its witness copy goes with the ledger."""
    home = hurricane_paths().home
    if not home.exists():
        return
    for child in home.iterdir():
        if child.name == "domains" and child.is_dir():
            for domain in child.iterdir():
                for part in domain.iterdir() if domain.is_dir() else []:
                    if part.name != "keys":
                        shutil.rmtree(part) if part.is_dir() else part.unlink()
        elif child.name not in KEPT_ON_RESET:
            shutil.rmtree(child) if child.is_dir() else child.unlink()


def provision_keys() -> None:
    """`hurricane keys init`: the domains' keys and the trust root (kept across demo runs)."""
    from hurricane_assets.cli.keys import domain_identities
    from hurricane_assets.identity import DefaultKeySource, TrustRootError, init_trust_root

    try:
        _, created = init_trust_root(domain_identities(), DefaultKeySource())
    except TrustRootError as exc:
        console.print(f"[red]keys:[/] {exc}")
        raise typer.Exit(code=2) from None
    console.print(f"keys: {'created ' + ', '.join(created) if created else 'present, pinned in the trust root'}")


def demo(
    rows: int = typer.Option(int(os.environ.get("HURRICANE_ROWS", "20000")), min=1,
                             help="transactions to generate (other datasets scale from it)"),
    seed: int = typer.Option(7, min=0, help="seed of the synthetic organisation"),
    drift_days: int = typer.Option(30, min=1, help="the drift starts this many days before today"),
    fresh: bool | None = typer.Option(None, "--fresh/--no-fresh", show_default=False,
                                      help="embedded: start from an empty $HURRICANE_HOME (keys are kept; the "
                                           "default). The services demo always starts empty and leaves "
                                           "$HURRICANE_HOME as it was"),
    stack: Stack = typer.Option(Stack.embedded, help="embedded (one folder, SQLite) or services (a throwaway "
                              "PostgreSQL, a moto S3 server and one code server per location, stopped at the end)"),
) -> None:
    """Run the whole loop on the embedded default and print what happened and where to look."""
    if stack == "services" and fresh is False:
        # its state lives in services and a folder that exist for one run: there is nothing to continue from
        raise typer.BadParameter("the services demo always starts from empty services and its own throwaway "
                                 "home; it does not touch $HURRICANE_HOME", param_hint="'--no-fresh'")
    console.rule("[bold]Data Hurricane demo[/]")
    if stack != "services":
        _demo(rows, seed, drift_days, stack, fresh, [])
        return
    _services_demo(rows, seed, drift_days)


def _services_demo(rows: int, seed: int, drift_days: int) -> None:
    """The demo on the local stack, with Ctrl-C handled: the stack's servers and Dagster's helpers
    do not get the terminal's SIGINT (see local_stack/interrupts.py); the demo says so in one line,
    stops them in order, says whether anything is left, and exits 130."""
    from hurricane_assets.local_stack.interrupts import StackInterrupts

    started: list = []  # the LocalStack, once it exists, for what it left behind
    with StackInterrupts(_interrupt_notice) as interrupts:
        try:
            _demo(rows, seed, drift_days, "services", None, started)
        except BaseException:
            if not interrupts.interrupted:
                raise
        else:
            if not interrupts.interrupted:
                return
    if threading.current_thread() is threading.main_thread():
        # the process is ending: one more Ctrl-C must not raise a KeyboardInterrupt in its exit path
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    left = started[0].left_behind() if started else []
    if left:
        typer.echo(f"interrupted: could not stop everything; left: {'; '.join(left)}", err=True)
    else:
        typer.echo("stopped", err=True)
    raise typer.Exit(code=INTERRUPTED)


def _interrupt_notice(count: int) -> None:
    if count == 1:
        typer.echo("interrupted: stopping the local stack…", err=True)
    elif count == 2:
        typer.echo("interrupted again: still stopping the local stack (a few seconds; its servers are not left "
                   "running)", err=True)


def _demo(rows: int, seed: int, drift_days: int, stack: str, fresh: bool | None, started: list) -> None:
    with ExitStack() as services:
        if stack == "services":
            local = _start_services(services, started)
        elif fresh is not False:
            reset_home()
        provision_keys()
        console.print(f"HURRICANE_HOME = {hurricane_paths().home}   ({rows} transactions, seed {seed}, "
                      f"drift {drift_days} days)")
        events = _run_loop(rows, seed, drift_days)
        if stack == "services":
            _check_code_servers(local)
        _report(events, stack)


def _start_services(services: ExitStack, started: list):
    """The local stack with a home of its own: the user's $HURRICANE_HOME (the embedded demo's state,
    for `make ui` and every command) is neither wiped nor mixed with state that dies with the services."""
    from hurricane_assets.local_stack.stack import LocalStack

    user_home = hurricane_paths().home
    local = LocalStack(own_home=True)
    started.append(local)
    services.enter_context(local)
    console.print(f"stack: PostgreSQL on 127.0.0.1:{local.postgres.port} (Dagster instance, checkpoints), "
                  f"S3 API on {local.s3.endpoint} ({local.s3.uri('org')}), "
                  f"{len(local.code_servers.servers)} code servers (workspace: {local.workspace})")
    console.print(f"{user_home} is left as it is: this run's keys, witness copies and lineage are in "
                  f"{local.home}, removed with the stack")
    return local


def _check_code_servers(local) -> None:
    errors = local.location_errors()
    loaded = sorted(name for name, error in errors.items() if error is None)
    console.print(f"code servers: {len(loaded)}/{len(errors)} locations load over gRPC ({', '.join(loaded)})")
    if len(loaded) != len(errors):
        console.print(f"[red]not loaded:[/] {sorted(set(errors) - set(loaded))}")
        raise typer.Exit(code=1)


def _run_loop(rows: int, seed: int, drift_days: int) -> list:
    from hurricane_assets.cli.timeline import show_event
    from hurricane_assets.dagster_layer.embedded_loop import EmbeddedLoop, LoopFailed, LoopSettings
    from hurricane_assets.dagster_layer.workspace import hurricane_instance
    from hurricane_assets.local_stack.interrupts import interrupted

    loop = EmbeddedLoop(hurricane_instance(), LoopSettings(rows=rows, seed=seed, drift_days=drift_days), on_event=show_event)
    try:
        return loop.run()
    except LoopFailed as exc:
        if interrupted():  # a run that failed because of a Ctrl-C: the demo says so, not "the loop failed"
            raise KeyboardInterrupt from None
        console.print(f"[red]the loop failed:[/] {exc}")
        raise typer.Exit(code=1) from None


def _report(events: list, stack: str) -> None:
    from hurricane_assets.cli.timeline import auc_story
    from hurricane_assets.ledger.ledger import Ledger
    from hurricane_assets.ledger.verify import verify_ledger
    from hurricane_assets.lineage.reader import read_events, run_problems

    console.rule("[bold]AUC before and after[/]", align="left")
    # short headers so the model's name is never cut at 80 columns; the legend says what they mean
    table = Table(caption="AUC on the holdout: before the drift, after it, retrained on the model's own data "
                          "only, retrained with the shares; recovered = share of the lost AUC won back",
                  caption_justify="left")
    table.add_column("model", no_wrap=True)
    for col in ("before", "drifted", "own data", "+ shares", "recovered"):
        table.add_column(col, justify="right", no_wrap=True)
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
                  f"{result.checkpoints_checked} checkpoints;")
    console.print(f"{result.cosigned_entries} entries cosigned by {result.witnesses} witnesses (the domains)")
    ledger = Ledger()
    log_id = ledger.log_id()
    latest = ledger.checkpoints.bind(log_id).latest() if log_id else None
    if latest is not None:
        # `hurricane ledger checkpoint` prints the signed note; its signature lines are wider than 80 columns
        console.print(f"latest checkpoint: {latest.tree_size} entries, root {latest.root_b64}")
        console.print(f"  cosigned by {', '.join(sorted(latest.cosignatures)) or 'nobody yet'}")
    events = read_events()
    problems = run_problems(events)
    runs = len({e["run"]["runId"] for e in events if "run" in e})
    console.rule("[bold]OpenLineage events[/]", align="left")
    console.print(f"lineage OK: {len(events)} events, {runs} runs, each with START and a terminal event"
                  if not problems else f"[red]lineage problems[/]: {'; '.join(problems[:3])}")
    console.rule("[bold]Where to look[/]", align="left")
    if stack == "services":
        _services_where()
    else:
        _embedded_where()
    if not result.ok or problems:
        raise typer.Exit(code=1)


def _embedded_where() -> None:
    paths = hurricane_paths()
    console.print(f"under {paths.home}:")
    console.print(f"  Delta tables {short_path(str(paths.envs))}/, contracts (ODCS) {short_path(str(paths.contracts_root))}/, "
                  f"lineage {short_path(str(paths.lineage))}/")
    console.print("hurricane contracts list · hurricane lineage show <id> · hurricane negotiations show <id> · "
                  "hurricane ledger show")
    console.print("Dagster UI with every run, the asset graph, checks and metadata: [bold]make ui[/] → http://127.0.0.1:3000")


def _services_where() -> None:
    """Read while the stack still runs: the storage root is the stack's bucket, the home its own."""
    paths = hurricane_paths()
    root = paths.storage_root.rstrip("/") + "/"
    console.print("The services stop now and take this run's state with them:")
    console.print(f"  S3 {paths.storage_root}: Delta tables {paths.envs.removeprefix(root)}/, "
                  f"ledger {paths.ledger.removeprefix(root)}/, contracts (ODCS) {str(paths.contracts_root).removeprefix(root)}/")
    console.print("  PostgreSQL: the Dagster runs, event log and negotiation checkpoints")
    console.print(f"  {paths.home}: keys, ledger witness copies and checkpoints, lineage")
    console.print("`hurricane demo` keeps everything under $HURRICANE_HOME, for `make ui` and every command.")
