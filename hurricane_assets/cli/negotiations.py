"""`hurricane negotiations`: start a negotiation from a need file, show its transcript, answer an
escalation."""

from __future__ import annotations

from pathlib import Path

import typer
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hurricane_assets.negotiation_runtime import (
    NegotiationNotFound,
    NegotiationResult,
    NotAwaitingHuman,
    load_result,
    resume_negotiation,
    run_negotiation,
)
from negotiation_graph.messages import Message
from negotiation_graph.strategies.llm import LLMConfigError
from negotiation_graph.terms import NeedSpec

app = typer.Typer(help="Agent negotiations: run one, show its transcript, resume an escalation.", no_args_is_help=True)
console = Console()


def _fail_input(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _terms_summary(message: Message) -> str:
    if message.terms is None:
        return f"quotes {message.terms_sha256[:12]}…" if message.terms_sha256 else ""
    t = message.terms
    columns = ", ".join(f"{c}:{m.value}" for c, m in t.columns.items())
    return f"{t.dataset} [{columns}] ret {t.retention_days}d term {t.term_days}d every {t.freshness_hours}h"


def print_transcript(result: NegotiationResult) -> None:
    table = Table(title=f"negotiation {result.negotiation_id}")
    for header in ("round", "performative", "sender → receiver", "terms", "policy", "reasons / rationale"):
        table.add_column(header, overflow="fold")
    for m in result.transcript:
        policy = ""
        if m.policy_decision is not None:
            verdict = "allow" if m.policy_decision.allowed else "deny"
            policy = f"{verdict} {m.policy_decision.decision_id[:8]}" + (" (human)" if m.policy_decision.requires_human else "")
        notes = ", ".join(m.reason_codes)
        # the rationale is untrusted text from the sender: shown escaped, never interpreted
        rationale = escape(m.rationale)
        table.add_row(str(m.round), m.performative.value, f"{m.sender} → {m.receiver}", escape(_terms_summary(m)), policy,
                      f"{notes} {rationale}".strip())
    console.print(table)
    for agreement in result.pending_approval:
        console.print(f"pending approval: {agreement.producer}.{agreement.dataset} {agreement.terms_sha256[:12]}…")
    if result.status == "awaiting_human":
        console.print(f"[yellow]awaiting a human[/]: hurricane negotiations resume {result.negotiation_id} --approve|--deny --by NAME")
    elif result.outcome is not None:
        console.print(f"outcome: [bold]{result.outcome.status}[/] {', '.join(result.outcome.reason_codes)}")


@app.command()
def run(
    need_file: Path = typer.Argument(..., help="a NeedSpec as YAML or JSON"),
    strategy: str = typer.Option("rules", help="rules (default) or llm (HURRICANE_LLM_* variables)"),
) -> None:
    """Negotiate a need with every producer in the catalog and print the transcript."""
    try:
        need = NeedSpec.model_validate(yaml.safe_load(need_file.read_text()))
    except FileNotFoundError:
        _fail_input(f"{need_file}: no such file")
    except (yaml.YAMLError, ValidationError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else None
        where = ".".join(map(str, first["loc"])) if first else "<yaml>"
        _fail_input(f"{need_file}: {where}: {first['msg'] if first else exc}")
    try:
        print_transcript(run_negotiation(need, strategy=strategy))
    except (ValueError, LLMConfigError) as exc:
        _fail_input(str(exc))


@app.command()
def show(negotiation_id: str) -> None:
    """Print a negotiation's transcript: round, performative, parties, terms, policy decision, rationale."""
    try:
        print_transcript(load_result(negotiation_id))
    except NegotiationNotFound:
        _fail_input(f"no negotiation {negotiation_id!r} in the checkpoints")


@app.command()
def resume(
    negotiation_id: str,
    approve: bool = typer.Option(..., "--approve/--deny", help="approve or deny the escalated agreement"),
    by: str = typer.Option(..., "--by", help="who decides (recorded in the ledger)"),
) -> None:
    """Answer a negotiation that the policy paused for a human."""
    try:
        print_transcript(resume_negotiation(negotiation_id, approve, by))
    except NegotiationNotFound:
        _fail_input(f"no negotiation {negotiation_id!r} in the checkpoints")
    except (NotAwaitingHuman, ValueError) as exc:
        _fail_input(str(exc))
