"""The whole loop of DESIGN.md on the embedded default, as real Dagster runs in this process.

It does what the daemon and a code-location reload do in a deployment: runs each domain's prod job,
trains and monitors the models, ticks the exchange's sensors (need → negotiation, contract →
delivery, per-share uplift → verdict), reloads locations after each registry change, and reports every step
as a `LoopEvent`. `hurricane demo`, the end-to-end test and `bench/time_to_data.py` drive it.
Nothing here names a domain: locations come from `workspace.yaml`, models from their specs.
"""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import dagster as dg

from hurricane_assets.clock import current_hour
from hurricane_assets.dagster_layer.models import SHARE_UPLIFT_SUFFIX
from hurricane_assets.dagster_layer.tick import Tick, run_sensor_tick
from hurricane_assets.dagster_layer.workspace import load_location, workspace_locations
from hurricane_assets.ledger import Ledger
from hurricane_assets.ledger.entry import EntryType

QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
EXCHANGE_MODULE = "hurricane_assets.exchange.definitions"


@dataclass(frozen=True)
class LoopSettings:
    rows: int = 20_000
    seed: int = 7
    drift_days: int = 30
    history_days: int = 120
    as_of: datetime | None = None  # where the world's data ends; None: the clock's hour when the loop starts


@dataclass
class LoopEvent:
    phase: str
    title: str
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


class LoopFailed(RuntimeError):
    pass


def _metadata_value(value):
    return getattr(value, "data", None) if isinstance(value, dg.JsonMetadataValue) else getattr(value, "value", value)


def materializations(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    out = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        out[mat.asset_key.to_user_string()] = {k: _metadata_value(v) for k, v in mat.metadata.items()}
    return out


def check_evaluations(result: dg.ExecuteInProcessResult) -> list[tuple[str, str, bool, str]]:
    return [(e.asset_key.to_user_string(), e.check_name, e.passed, e.description or "")
            for e in result.get_asset_check_evaluations()]


class EmbeddedLoop:
    def __init__(self, instance: dg.DagsterInstance, settings: LoopSettings = LoopSettings(),
                 on_event: Callable[[LoopEvent], None] = lambda event: None):
        self.instance = instance
        self.settings = settings
        self.on_event = on_event
        self.events: list[LoopEvent] = []
        # Fixed once: every domain's run (calm, then drifted) describes the same world, even if the loop
        # crosses an hour.
        self.as_of = settings.as_of or current_hour()

    # -- plumbing --------------------------------------------------------------------------------

    def emit(self, phase: str, title: str, started: float, **details) -> LoopEvent:
        event = LoopEvent(phase, title, details, round(time.perf_counter() - started, 3))
        self.events.append(event)
        self.on_event(event)
        return event

    def locations(self) -> dict[str, dg.Definitions]:
        """Every location, reloaded: definitions follow the current contract registry."""
        return {name: load_location(module, reload=True) for name, module in workspace_locations().items()}

    def exchange(self) -> dg.Definitions:
        return load_location(EXCHANGE_MODULE, reload=True)

    def _synthetic(self, drift_days: int | None) -> dict:
        s = self.settings
        return {"resources": {"synthetic": {"config": {"transactions": s.rows, "seed": s.seed,
                                                         "history_days": s.history_days, "drift_days": drift_days,
                                                         "as_of": self.as_of.isoformat()}}},
                **QUIET}

    def _run(self, job: dg.JobDefinition, **kwargs) -> dg.ExecuteInProcessResult:
        result = job.execute_in_process(instance=self.instance, raise_on_error=False, **kwargs)
        if not result.success:
            failures = [e.message for e in result.all_events if e.is_failure]
            raise LoopFailed(f"run of {job.name} failed: {failures[:2]}")
        return result

    def _tick(self, sensor: str) -> Tick:
        tick = run_sensor_tick(self.exchange(), sensor, self.instance, QUIET)
        if not tick.success:
            failures = [e.message for r in tick.results if not r.success for e in r.all_events if e.is_failure]
            raise LoopFailed(f"a run requested by {sensor} failed: {failures[:2]}")
        return tick

    @staticmethod
    def _model_keys(defs: dg.Definitions) -> list[dg.AssetKey]:
        graph = defs.resolve_asset_graph()
        return sorted((k for k in graph.materializable_asset_keys if graph.get(k).kinds & {"scikit-learn", "evidently"}
                       and not k.path[-1].endswith(SHARE_UPLIFT_SUFFIX)),
                      key=lambda k: (k.path[-1].endswith("_monitor"), k.to_user_string()))

    # -- the steps -------------------------------------------------------------------------------

    def materialize_domains(self, drift_days: int | None) -> dict[str, dict]:
        started = time.perf_counter()
        outputs: dict[str, dict] = {}
        checks = []
        for name, defs in self.locations().items():
            job_name = f"{name}_prod"
            if job_name not in {j.name for j in defs.jobs or []}:
                continue
            result = self._run(defs.resolve_job_def(job_name), run_config=self._synthetic(drift_days))
            outputs.update(materializations(result))
            checks += check_evaluations(result)
        self.emit("data", "prod data materialized" + (f" with drift from {drift_days} days ago" if drift_days else ""),
                  started, assets=outputs, checks=checks)
        return outputs

    def models(self, *, train: bool, monitor: bool = True, fed_by_shares_only: bool = False) -> dict[str, dict]:
        """Train and/or monitor the models. `fed_by_shares_only` retrains just the models that depend on
        a delivered share, as the consumers' automation sensors would after a delivery."""
        started = time.perf_counter()
        outputs: dict[str, dict] = {}
        checks = []
        for name, defs in self.locations().items():
            graph = defs.resolve_asset_graph()
            keys = [k for k in self._model_keys(defs)
                    if (monitor if k.path[-1].endswith("_monitor") else train)
                    and not (fed_by_shares_only and not self._fed_by_shares(graph, k))]
            if not keys:
                continue
            result = self._run(defs.resolve_implicit_global_asset_job_def(), asset_selection=keys, run_config=QUIET)
            outputs.update(materializations(result))
            checks += check_evaluations(result)
        title = {(True, True): "models trained and monitored", (False, True): "monitors re-run",
                 (True, False): "models retrained on their shares"}[(train, monitor)]
        self.emit("models", title, started, assets=outputs, checks=checks)
        return outputs

    @staticmethod
    def _fed_by_shares(graph, key: dg.AssetKey) -> bool:
        shares = graph.get(key).metadata.get("hurricane/shares")
        return bool(getattr(shares, "data", None))

    def share_uplift(self) -> dict[str, dict]:
        """The per-share ablation of every model fed by shares, in its own run per location (what
        the automation sensor runs after the retrained model): off the retrain's critical path."""
        started = time.perf_counter()
        outputs: dict[str, dict] = {}
        for defs in self.locations().values():
            keys = [k for k in defs.resolve_asset_graph().materializable_asset_keys
                    if k.path[-1].endswith(SHARE_UPLIFT_SUFFIX)]
            if keys:
                result = self._run(defs.resolve_implicit_global_asset_job_def(), asset_selection=keys, run_config=QUIET)
                outputs.update(materializations(result))
        self.emit("uplift", f"per-share uplift measured for {len(outputs)} model(s)", started, assets=outputs)
        return outputs

    def negotiate(self) -> Tick:
        started = time.perf_counter()
        tick = self._tick("data_need_sensor")
        self.emit("negotiation", f"data-need sensor: {len(tick.results)} negotiation run(s)", started,
                  runs=[materializations(r) for r in tick.results], skipped=tick.skipped_run_keys)
        return tick

    def deliver(self) -> Tick:
        started = time.perf_counter()
        tick = self._tick("share_delivery_sensor")
        self.emit("delivery", f"delivery sensor: {len(tick.results)} delivery run(s)", started,
                  runs=[materializations(r) for r in tick.results], skipped=tick.skipped_run_keys)
        return tick

    def judge(self) -> Tick:
        started = time.perf_counter()
        before = len(Ledger())
        tick = self._tick("share_judge_sensor")
        entries = [(e["entry_type"], e["contract_id"], json.loads(e["payload_json"]))
                   for e in Ledger().read(since_seq=before - 1).to_pylist()]
        # a revocation's counts are in the ERASURE entry after it (the end is recorded before the erasure)
        erased = {cid: {k: payload[k] for k in ("rows_deleted", "files_vacuumed")} for kind, cid, payload in entries
                  if kind == EntryType.ERASURE.value and payload.get("stage") == "share_ended"}
        verdicts = [{"contract_id": cid, **payload, **erased.get(cid, {})} for kind, cid, payload in entries
                    if kind in (EntryType.CONTRACT_TESTED.value, EntryType.REVOKED.value)]
        self.emit("judge", f"share judge: {len(tick.results)} judgement run(s)", started, verdicts=verdicts)
        return tick

    def run(self) -> list[LoopEvent]:
        from hurricane_assets.masking.keys import init_masking_keys

        s = self.settings
        # keys are never created on use: the loop creates them up front (refused if copies exist without one)
        init_masking_keys()
        self.materialize_domains(drift_days=None)
        self.models(train=True)
        self.materialize_domains(drift_days=s.drift_days)
        self.models(train=False)
        self.negotiate()
        self.deliver()
        self.models(train=True, monitor=False, fed_by_shares_only=True)
        self.share_uplift()
        self.judge()
        self.models(train=True)
        return self.events
