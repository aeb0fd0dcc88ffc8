"""`hurricane negotiations`: start a negotiation from a need file, show its transcript, answer an
escalation."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hurricane_assets.cli.errors import fail
from hurricane_assets.clock import utc_now
from negotiation_graph.messages import Message
from negotiation_graph.terms import NeedSpec

if TYPE_CHECKING:  # the runtime (LangGraph, the checkpointers) is imported by the commands that run it
    from hurricane_assets.negotiation_runtime import NegotiationResult

app = typer.Typer(help="Agent negotiations: run one, show its transcript, resume an escalation.", no_args_is_help=True)
console = Console()


def shown(text: str) -> str:
    """Untrusted text as the terminal may show it: rich markup escaped, and control characters
    (ANSI escapes that clear the screen, move the cursor or forge hyperlinks) written as `\\xNN`."""
    printable = "".join(c if c.isprintable() or c == " " else c.encode("unicode_escape").decode() for c in text)
    return escape(printable)


def _terms_summary(message: Message) -> str:
    if message.terms is None:
        return f"quotes {message.terms_sha256[:12]}…" if message.terms_sha256 else ""
    t = message.terms
    columns = ", ".join(f"{c}:{m.value}" for c, m in t.columns.items())
    return f"{t.dataset} [{columns}] ret {t.retention_days}d term {t.term_days}d every {t.freshness_hours}h"


def _party(name: str) -> str:
    """`agent:risk/consumer` → `risk`: the role is clear from the performative."""
    return name.removeprefix("agent:").split("/")[0]


def print_transcript(result: NegotiationResult) -> None:
    # at 80 columns: short parties and verdicts whole, terms and reasons fold
    table = Table(title=f"negotiation {result.negotiation_id}", title_justify="left", box=None, padding=(0, 1))
    table.add_column("#", no_wrap=True)
    table.add_column("message", no_wrap=True)
    table.add_column("from → to", no_wrap=True)
    table.add_column("terms", overflow="fold", ratio=3)
    table.add_column("policy", no_wrap=True)
    table.add_column("reasons / rationale", overflow="fold", ratio=2)
    for m in result.transcript:
        policy = ""
        if m.policy_decision is not None:
            verdict = "allow" if m.policy_decision.allowed else "deny"
            policy = f"{verdict} {m.policy_decision.decision_id[:6]}" + (" (human)" if m.policy_decision.requires_human else "")
        notes = shown(", ".join(m.reason_codes))
        # the rationale is untrusted text from the sender (an LLM's, possibly steered by a planted
        # instruction): shown escaped, never interpreted
        rationale = shown(m.rationale)
        table.add_row(str(m.round), m.performative.value, shown(f"{_party(m.sender)} → {_party(m.receiver)}"),
                      shown(_terms_summary(m)), policy, f"{notes} {rationale}".strip())
    console.print(table)
    for m in result.transcript:
        if m.decided_by:  # who answered an escalation: on its own line, never folded
            console.print(f"round {m.round} {m.performative.value}: decided by {shown(m.decided_by)}")
    for agreement in result.pending_approval:
        console.print(f"pending approval: {agreement.producer}.{agreement.dataset} {agreement.terms_sha256[:12]}…")
    if result.status == "awaiting_human":
        console.print(f"[yellow]awaiting a human[/]: hurricane negotiations resume {result.negotiation_id} "
                      "--approve|--deny --by APPROVER [--key FILE]")
    elif result.status == "unfinished":
        console.print(f"[yellow]unfinished[/] (stopped mid-way): hurricane negotiations resume {result.negotiation_id} "
                      "finishes it")
    elif result.outcome is not None:
        console.print(f"outcome: [bold]{result.outcome.status}[/] {', '.join(result.outcome.reason_codes)}")


@app.command()
def run(
    need_file: Path = typer.Argument(..., help="a NeedSpec as YAML or JSON"),
    strategy: str = typer.Option("rules", help="rules (default) or llm (HURRICANE_LLM_* variables)"),
    as_json: bool = typer.Option(False, "--json", help="print the negotiation report as JSON"),
) -> None:
    """Negotiate a need with every producer in the catalog and print the transcript."""
    from hurricane_assets.negotiation_runtime import NeedMismatch, run_negotiation

    try:
        need = NeedSpec.model_validate(yaml.safe_load(need_file.read_text()))
    except FileNotFoundError:
        fail(f"{need_file}: no such file")
    except (yaml.YAMLError, ValidationError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else None
        where = ".".join(map(str, first["loc"])) if first else "<yaml>"
        fail(f"{need_file}: {where}: {first['msg'] if first else exc}")
    try:
        result = run_negotiation(need, strategy=strategy)
    except NeedMismatch as exc:
        fail(f"{need_file}: {exc}")
    _print(result, as_json)


def _checkpoints() -> str:
    """Where the negotiations were looked for, so a wrong home or database shows in the error."""
    from hurricane_assets.settings import hurricane_paths, postgres_settings

    postgres = postgres_settings()
    if postgres:
        return f"the PostgreSQL checkpoints at {postgres.host}:{postgres.port}/{postgres.database}"
    return str(hurricane_paths().checkpoints)


def _print(result: NegotiationResult, as_json: bool) -> None:
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        print_transcript(result)


@app.command()
def show(
    negotiation_id: str,
    as_json: bool = typer.Option(False, "--json", help="print the negotiation report as JSON"),
) -> None:
    """Print a negotiation's transcript: round, performative, parties, terms, policy decision, rationale."""
    from hurricane_assets.negotiation_runtime import NegotiationNotFound, load_result

    try:
        _print(load_result(negotiation_id), as_json)
    except NegotiationNotFound:
        fail(f"no negotiation {negotiation_id[:60]!r} in {_checkpoints()}")


@app.command()
def resume(
    negotiation_id: str,
    approve: bool | None = typer.Option(None, "--approve/--deny", help="approve or deny the escalated agreement; "
                                        "without it, finish a negotiation whose run or resume stopped mid-way"),
    by: str | None = typer.Option(None, "--by", help="the registered approver who decides (hurricane approvers add)"),
    key: Path | None = typer.Option(None, "--key", help="the approver's private key "
                                    "(default $HURRICANE_HOME/approvers/<by>.ed25519)"),
) -> None:
    """Answer a negotiation that the policy paused for a human, with the approver's signature; or,
    with no answer, finish one that stopped mid-way (an answer already recorded is kept)."""
    from hurricane_assets.approval.approval import negotiation_approval_payload, sign_approval
    from hurricane_assets.approval.approvers import read_private_key
    from hurricane_assets.cli.approvers import default_key_path
    from hurricane_assets.negotiation_runtime import NegotiationNotFound, load_result, resume_negotiation

    if approve is not None and by is None:
        fail("--by APPROVER is required with --approve/--deny")
    now = utc_now()  # the command line is the edge where the clock enters (HURRICANE_NOW pins it)
    try:
        envelope = None
        if approve is not None:
            pending = load_result(negotiation_id)
            private = read_private_key(key if key is not None else default_key_path(by))
            envelope = sign_approval(private, by, negotiation_approval_payload(negotiation_id, pending.pending_approval,
                                                                               approve), now=now)
        print_transcript(resume_negotiation(negotiation_id, envelope, now=now))
    except NegotiationNotFound:
        fail(f"no negotiation {negotiation_id[:60]!r} in {_checkpoints()}")
