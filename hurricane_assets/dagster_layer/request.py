"""A person's request, run as the sensor path runs a monitor's need: the exchange's negotiation asset
materialized for the need's partition, then the share asset of the granted contract, both real runs
on the instance under `$HURRICANE_HOME/dagster` (so the UI shows them, tagged as a request)."""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from hurricane_assets.contracts.contract import Contract
from hurricane_assets.dagster_layer.embedded_loop import EXCHANGE_MODULE
from hurricane_assets.dagster_layer.workspace import load_location
from hurricane_assets.exchange.negotiations import DATA_NEEDS, NEGOTIATIONS_KEY
from hurricane_assets.exchange.shares import share_key
from negotiation_graph.terms import NeedSpec

REQUEST_TAGS = {"hurricane/origin": "request"}
# A request's runs report their failures through the caller (one line on the command line): Dagster's
# console logger prints a failed step at ERROR with its stack trace, which QUIET's level lets through.
SILENT = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


class RequestRunFailed(RuntimeError):
    pass


def _check(result: dg.ExecuteInProcessResult, what: str) -> dg.ExecuteInProcessResult:
    if not result.success:
        failures = [e.message for e in result.all_events if e.is_failure]
        raise RequestRunFailed(f"the {what} run {result.run_id} failed: {failures[:1]}")
    return result


def failed_blocking_checks(result: dg.ExecuteInProcessResult) -> list[str]:
    """The descriptions of the blocking checks that failed with ERROR after the asset materialized.
    Such a run failed only after the copy was written and recorded: the caller says so, instead of
    reporting a failed run as if nothing had been delivered."""
    if not result.get_asset_materialization_events():
        return []
    return [f"{e.check_name}: {e.description or 'failed'}" for e in result.get_asset_check_evaluations()
            if not e.passed and e.blocking and e.severity is dg.AssetCheckSeverity.ERROR]


def negotiate_run(need: NeedSpec, instance: dg.DagsterInstance, *, strategy: str = "rules") -> str:
    """Materialize the negotiations asset for this need (its own partition); returns the run id."""
    exchange = load_location(EXCHANGE_MODULE, reload=True)
    instance.add_dynamic_partitions(DATA_NEEDS.name, [need.need_id])
    op = "__".join(NEGOTIATIONS_KEY.path)
    run_config = {**SILENT, "ops": {op: {"config": {"need": need.model_dump_json(), "strategy": strategy}}}}
    job = exchange.resolve_job_def("negotiate_data_need")
    result = job.execute_in_process(run_config=run_config, instance=instance, partition_key=need.need_id,
                                    tags=REQUEST_TAGS, raise_on_error=False)
    return _check(result, "negotiation").run_id


@dataclass(frozen=True)
class DeliveryRun:
    run_id: str
    failed_checks: tuple[str, ...] = ()  # blocking checks that failed after the copy was written


def deliver_run(contract: Contract, instance: dg.DagsterInstance) -> DeliveryRun:
    """Materialize the contract's share asset (the locations are reloaded first: a new contract is a
    new asset). A run that wrote the copy and then failed a blocking check returns those checks;
    any other failure raises `RequestRunFailed`."""
    exchange = load_location(EXCHANGE_MODULE, reload=True)
    job = exchange.resolve_job_def("deliver_shares")
    result = job.execute_in_process(run_config=SILENT, instance=instance, asset_selection=[share_key(contract)],
                                    tags=REQUEST_TAGS, raise_on_error=False)
    failed = failed_blocking_checks(result) if not result.success else []
    if not failed:
        _check(result, "delivery")
    return DeliveryRun(result.run_id, tuple(failed))
