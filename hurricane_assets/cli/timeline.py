"""The demo's timeline: each step of the loop as it happened, read from the runs' own metadata."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hurricane_assets.cli.display import short_path
from hurricane_assets.cli.negotiations import print_transcript
from hurricane_assets.dagster_layer.embedded_loop import LoopEvent
from hurricane_assets.negotiation_runtime import load_result

console = Console()


def _models(assets: dict[str, dict], suffix: str) -> dict[str, dict]:
    return {k: v for k, v in assets.items() if k.endswith(suffix)}


def _heading(event: LoopEvent, text: str) -> None:
    console.rule(f"[bold]{text}[/]  [dim]({event.seconds:.1f} s)[/]", align="left")


def show_data(event: LoopEvent) -> None:
    _heading(event, event.title)
    assets = event.details["assets"]
    prod = {k: v for k, v in assets.items() if not k.endswith(("_preprod", "_dev"))}
    copies = len(assets) - len(prod)
    checks = event.details["checks"]
    failed = [c for c in checks if not c[2]]
    table = Table(show_header=True, box=None)
    table.add_column("dataset", no_wrap=True)
    table.add_column("rows", justify="right", no_wrap=True)
    uris = {key: str(meta.get("dagster/uri", "")) for key, meta in prod.items()}
    where = {key: short_path(uri) for key, uri in uris.items()}
    # short_path shortens only what lies under the home; elsewhere (S3) the URIs stay whole and say where
    local = all(where[key] != uri for key, uri in uris.items())
    table.add_column("where (under HURRICANE_HOME)" if local else "where", overflow="fold")
    for key, meta in prod.items():
        table.add_row(key, str(meta.get("dagster/row_count", "")), where[key])
    console.print(table)
    console.print(f"{copies} masked copies in preprod/dev; {len(checks) - len(failed)}/{len(checks)} dataset checks passed")


def show_models(event: LoopEvent) -> None:
    _heading(event, event.title)
    for key, meta in _models(event.details["assets"], "_model").items():
        shares = meta.get("hurricane/shares") or []
        console.print(f"{key}: holdout ROC AUC {meta['hurricane/auc']:.3f}" + (f" with {len(shares)} share(s)" if shares else ""))
    for key, meta in _models(event.details["assets"], "_monitor").items():
        if "hurricane/stale_model" in meta:  # not scored: a share the model reads has ended
            console.print(f"{key}: not measured: {escape(str(meta['hurricane/stale_model']))}")
            continue
        console.print(f"{key}: ROC AUC {meta['hurricane/auc_current']:.3f} vs baseline {meta['hurricane/auc_baseline']:.3f}, "
                      f"drifted features {meta.get('hurricane/drifted_features') or {}}")
        if "hurricane/data_need" in meta:
            need = meta["hurricane/data_need"]
            console.print(f"  [red]checks failed[/] → data need [bold]{need['need_id']}[/] for {need['purpose']} in {need['environment']}")
            for item in need.get("wanted", [])[:6]:
                console.print(f"    wants {item['key']} (weight {item['weight']:.2f}): {item['why']}")
            console.print(f"  prompt: [italic]{meta.get('hurricane/prompt', '')}[/]")
        elif "hurricane/no_data_need" in meta:
            console.print(f"  [red]checks failed[/], no data need: {escape(str(meta['hurricane/no_data_need']))}")
    for asset, check, passed, description in event.details["checks"]:
        if not passed:
            console.print(f"  [red]✗ {asset} {check}[/]: {description}")


def show_uplift(event: LoopEvent) -> None:
    _heading(event, event.title)
    for key, meta in _models(event.details["assets"], "_share_uplift").items():
        console.print(f"{key.removesuffix('_share_uplift')}: holdout ROC AUC {meta['hurricane/auc']:.3f} (without shares "
                      f"{meta['hurricane/auc_without_shares']:.3f}, uplift {meta['hurricane/uplift']:+.3f})")
        for contract_id, uplift in (meta.get("hurricane/share_uplift") or {}).items():
            console.print(f"    share {contract_id}: uplift {uplift:+.4f} at the 95 % lower bound "
                          f"(keep if ≥ {meta['hurricane/min_uplift']})")


def show_negotiation(event: LoopEvent) -> None:
    _heading(event, event.title)
    for run in event.details["runs"]:
        meta = run.get("exchange/negotiations", {})
        if "hurricane/negotiation_id" in meta:
            print_transcript(load_result(meta["hurricane/negotiation_id"]))
        for contract in meta.get("hurricane/contracts") or []:
            console.print(f"contract [bold]{contract['contract_id']}[/]: {contract['producer']}.{contract['dataset']} → "
                          f"{contract['environment']}, columns {contract['columns']}")


def show_delivery(event: LoopEvent) -> None:
    _heading(event, event.title)
    for run in event.details["runs"]:
        for key, meta in run.items():
            report = meta.get("hurricane/privacy_report") or {}
            masked = {c["column"]: c.get("operator") for c in report.get("columns", []) if c.get("status") != "dropped"}
            console.print(f"{key}: {meta.get('dagster/row_count')} rows → {short_path(str(meta.get('dagster/uri')))}")
            entry = meta.get("hurricane/delivered_entry")
            recorded = f"ledger entry {entry}" if entry else "unchanged since the last delivery (no new ledger entry)"
            console.print(f"    masking per column: {masked}; {recorded}")


def show_judge(event: LoopEvent) -> None:
    _heading(event, event.title)
    for verdict in event.details["verdicts"]:
        if "keep" in verdict:
            word = "[green]keep[/]" if verdict["keep"] else "[red]revoke[/]"
            console.print(f"{verdict['contract_id']}: {word} — {verdict['reason']}")
        else:
            console.print(f"{verdict['contract_id']}: revoked, copy erased ({verdict.get('rows_deleted')} rows, "
                          f"{verdict.get('files_vacuumed')} files): {verdict.get('reason')}")


RENDERERS = {"data": show_data, "models": show_models, "negotiation": show_negotiation, "delivery": show_delivery,
             "uplift": show_uplift, "judge": show_judge}


def show_event(event: LoopEvent) -> None:
    RENDERERS.get(event.phase, lambda e: _heading(e, e.title))(event)


def auc_story(events: list[LoopEvent]) -> dict[str, Any]:
    """Before drift, after drift, after retraining with the shares, for every monitored model."""
    story: dict[str, dict[str, float]] = {}
    for event in events:
        if event.phase == "uplift":  # the ablation of the retrained model: with and without its shares
            for key, meta in _models(event.details["assets"], "_share_uplift").items():
                model = key.removesuffix("_share_uplift")
                if "after_retrain" not in story.get(model, {}):
                    story.setdefault(model, {}).update(after_retrain=meta["hurricane/auc"],
                                                        retrain_without_shares=meta["hurricane/auc_without_shares"])
        if event.phase != "models":
            continue
        for key, meta in _models(event.details["assets"], "_monitor").items():
            model = key.removesuffix("_monitor")
            entry = story.setdefault(model, {})
            entry.setdefault("before_drift", meta["hurricane/auc_baseline"])
            if "hurricane/data_need" in meta:
                entry["after_drift"] = meta["hurricane/auc_current"]
        for key, meta in _models(event.details["assets"], "_model").items():
            if "hurricane/auc_without_shares" in meta and "after_retrain" not in story.get(key, {}):
                story.setdefault(key, {}).update(after_retrain=meta["hurricane/auc"],
                                                  retrain_without_shares=meta["hurricane/auc_without_shares"])
    return story
