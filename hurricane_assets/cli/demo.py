"""`hurricane demo`: run the platform on the embedded default and say what happened, where."""

from __future__ import annotations

import dagster as dg
import typer
from rich.console import Console
from rich.table import Table

from hurricane_assets.dagster_layer.workspace import hurricane_instance, load_location, workspace_locations
from hurricane_assets.settings import hurricane_paths

console = Console()
# Dagster logs every step at DEBUG; the demo prints its own summary and the UI keeps the full log.
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def materialize_domains(instance: dg.DagsterInstance) -> list[dg.ExecuteInProcessResult]:
    """Run every domain location's prod job (datasets, checks, masked copies) against `instance`."""
    results = []
    for location, module in workspace_locations().items():
        defs = load_location(module, reload=True)
        job_name = f"{location}_prod"
        if job_name not in {j.name for j in defs.jobs or []}:
            continue  # not a domain location (the exchange)
        job = defs.resolve_job_def(job_name)
        console.print(f"[bold]{location}[/]: running job {job_name} …")
        result = job.execute_in_process(
            instance=instance, raise_on_error=False, tags={"hurricane/demo": "true"}, run_config=QUIET
        )
        if not result.success:
            raise typer.Exit(code=1)
        results.append(result)
    return results


def _relative(uri: str) -> str:
    envs = hurricane_paths().envs
    return uri.replace(envs, "envs", 1) if uri.startswith(envs) else uri


def summarize(results: list[dg.ExecuteInProcessResult]) -> Table:
    table = Table(title="Materialized assets", show_lines=False)
    for col in ("asset", "rows", "checks", "where"):
        table.add_column(col)
    for result in results:
        checks: dict[str, list[bool]] = {}
        for evaluation in result.get_asset_check_evaluations():
            checks.setdefault(evaluation.asset_key.to_user_string(), []).append(evaluation.passed)
        for event in result.get_asset_materialization_events():
            mat = event.event_specific_data.materialization
            key = mat.asset_key.to_user_string()
            meta = mat.metadata
            rows = meta.get("dagster/row_count")
            uri = meta.get("dagster/uri")
            passed = checks.get(key, [])
            table.add_row(
                key,
                str(rows.value) if rows else "",
                f"{sum(passed)}/{len(passed)} passed" if passed else "—",
                _relative(str(uri.value)) if uri else "",
            )
    return table


def demo() -> None:
    """Materialize every domain's prod data and masked copies; print what happened and where to look."""
    paths = hurricane_paths()
    console.rule("Data Hurricane demo")
    console.print(f"HURRICANE_HOME = {paths.home}")
    instance = hurricane_instance()
    results = materialize_domains(instance)
    console.print(summarize(results))
    console.print(f"Delta tables under [bold]{paths.envs}[/] (read them with `deltalake.DeltaTable(path).to_pandas()`).")
    console.print("Dagster UI with these runs, assets, checks and lineage: [bold]make ui[/] → http://127.0.0.1:3000")
