"""The notebook client: what a data scientist does with the platform, as pandas frames and typed
results, over the same functions the CLI, the sensors and the exchange call.

It holds no logic of its own beyond shaping results into frames: catalog search, contracts and
their masking, negotiation transcripts, the model monitor and the data need it raises, negotiating
and delivering a need, reading a delivered share, the ledger. Every path comes from
`hurricane_paths()` at call time, so one client follows `$HURRICANE_HOME` as it changes.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import pyarrow as pa
from pydantic import BaseModel

from hurricane_assets.catalog import Catalog, load_catalog
from hurricane_assets.clock import utc_now
from hurricane_assets.contracts.check import ContractRejected, check_contract, share_uri_for
from hurricane_assets.contracts.contract import Contract, ContractStatus
from hurricane_assets.contracts.history import LedgerHistory, LedgerUnreadable
from hurricane_assets.contracts.odcs import odcs_path
from hurricane_assets.contracts.store import ContractStore
from hurricane_assets.delivery.deliver import Delivery
from hurricane_assets.delivery.deliver import deliver as deliver_contract
from hurricane_assets.delivery.recorded import copy_differs, open_copy, recorded_copy
from hurricane_assets.identity.signer import Signer
from hurricane_assets.ledger import Ledger
from hurricane_assets.ledger.verify import VerificationResult, verify_ledger
from hurricane_assets.lineage.reader import contract_events, read_events
from hurricane_assets.models.spec import ModelSpec, load_model_spec, load_model_specs
from hurricane_assets.models.store import versions
from hurricane_assets.monitoring.monitor import MonitorResult, run_monitor
from hurricane_assets.monitoring.need import DataNeed, NeedError, build_data_need
from hurricane_assets.negotiation_runtime import NegotiationNotFound, load_result
from hurricane_assets.progress import steps
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.sharing.negotiate import NeedOutcome, negotiate_need
from hurricane_assets.sharing.platform import SharingPlatform
from hurricane_assets.sharing.request import (
    DeliveryCheckFailed,
    RequestDenied,
    RequestError,
    RequestOutcome,
    granted_contract,
    parse_request,
    refusals,
    request_need,
)
from hurricane_assets.storage import table_exists
from negotiation_graph.runner import negotiation_id_for
from negotiation_graph.terms import NeedSpec

__all__ = ["DataRequest", "DeliveryCheckFailed", "HurricaneClient", "RequestDenied", "RequestError", "ShareUnavailable", "records"]


class ShareUnavailable(LookupError):
    """A contract's copy cannot be read: it is no longer active, or was never delivered."""


@dataclass(frozen=True)
class DataRequest:
    """A need, negotiated to signed contracts, and each contract's delivery (empty when not delivered)."""

    outcome: NeedOutcome
    deliveries: tuple[Delivery, ...]

    @property
    def negotiation_id(self) -> str:
        return self.outcome.negotiation.negotiation_id

    @property
    def contracts(self) -> tuple[Contract, ...]:
        return self.outcome.contracts

    def table(self) -> pd.DataFrame:
        """One row per signed contract, with what its delivery wrote."""
        delivered = {d.contract_id: d for d in self.deliveries}
        rows = []
        for c in self.contracts:
            d = delivered.get(c.contract_id)
            rows.append({
                "contract_id": c.contract_id,
                "producer": c.producer,
                "dataset": c.dataset,
                "environment": c.terms.environment.value,
                "columns": len(c.terms.columns),
                "rows_delivered": d.rows if d else None,
                "table_version": d.table_version if d else None,
                "share_uri": share_uri_for(c.terms),
            })
        return pd.DataFrame(rows, columns=["contract_id", "producer", "dataset", "environment", "columns",
                                           "rows_delivered", "table_version", "share_uri"])


def records(items: Iterable[BaseModel]) -> pd.DataFrame:
    """Typed results (drifted features, wanted items …) as a frame, one row per item."""
    return pd.DataFrame([item.model_dump(mode="python") for item in items])


class HurricaneClient:
    def __init__(self, catalog: Catalog | None = None, *, domain: str | None = None):
        """`domain`: who this client asks as in `request` (default `$HURRICANE_DOMAIN`)."""
        self.catalog = catalog if catalog is not None else load_catalog()
        self.domain = domain if domain is not None else os.environ.get("HURRICANE_DOMAIN")

    # -- the world -------------------------------------------------------------------------------

    def world_exists(self) -> bool:
        """Every dataset has a prod table and every model has been trained at least once."""
        paths = hurricane_paths()
        tables = all(table_exists(paths.table_uri("prod", domain, name)) for domain, name, _ in self.catalog.datasets())
        return tables and all(versions(spec.domain, spec.name) for spec in self._model_specs())

    def build_world(self, *, rows: int = 3_000, seed: int = 7, drift_days: int = 30) -> pd.DataFrame:
        """The reference organisation up to a failing monitor, as real Dagster runs on the instance
        under `$HURRICANE_HOME/dagster` (the embedded loop's first steps): prod data, models trained,
        the drift arrives, monitors re-run. One row per step."""
        if rows < 1 or drift_days < 1:
            raise ValueError(f"build_world: rows and drift_days must be at least 1, got rows={rows}, drift_days={drift_days}")
        # Dagster is imported only here: everything else in the client is the pure core.
        from hurricane_assets.dagster_layer.embedded_loop import EmbeddedLoop, LoopSettings
        from hurricane_assets.dagster_layer.workspace import hurricane_instance
        from hurricane_assets.identity import DefaultKeySource, init_trust_root
        from hurricane_assets.masking.keys import init_masking_keys

        # keys are never created on use: like `hurricane demo`, building a world creates the missing
        # ones up front (`hurricane keys init`, `hurricane masking init-keys`; both refuse, naming the
        # key, where a pinned key or the key of existing masked copies is missing)
        init_trust_root(list(self.catalog.domains), DefaultKeySource())
        init_masking_keys()
        loop = EmbeddedLoop(hurricane_instance(), LoopSettings(rows=rows, seed=seed, drift_days=drift_days))
        with warnings.catch_warnings():
            # In a notebook kernel an event loop is already running, so each in-process run's own
            # loop cleanup is skipped (by Dagster, on purpose) and leaves this harmless warning.
            warnings.filterwarnings("ignore", "coroutine 'BaseEventLoop.shutdown_asyncgens' was never awaited",
                                    RuntimeWarning)
            loop.materialize_domains(drift_days=None)
            loop.models(train=True)
            loop.materialize_domains(drift_days=drift_days)
            loop.models(train=False)
        return pd.DataFrame([{"phase": e.phase, "step": e.title, "seconds": e.seconds} for e in loop.events])

    def ensure_world(self, **settings) -> pd.DataFrame:
        """`build_world(**settings)` unless a world already exists (then an empty frame)."""
        if self.world_exists():
            return pd.DataFrame(columns=["phase", "step", "seconds"])
        return self.build_world(**settings)

    # -- the catalog -----------------------------------------------------------------------------

    def catalog_search(self, **criteria) -> pd.DataFrame:
        """Columns matching every criterion of `Catalog.search` (entity, column, tag, classification,
        max_classification), one row per column with its manifest facts."""
        rows = [
            {"domain": ref.domain, "dataset": ref.dataset, "column": ref.column, "type": ref.spec.type,
             "classification": ref.spec.classification.value, "pii": ref.spec.pii.value if ref.spec.pii else None,
             "quasi_identifier": ref.spec.quasi_identifier, "refers_to": ref.spec.refers_to,
             "nullable": ref.spec.nullable, "tags": ref.spec.tags}
            for ref in self.catalog.search(**criteria)
        ]
        return pd.DataFrame(rows, columns=["domain", "dataset", "column", "type", "classification", "pii",
                                           "quasi_identifier", "refers_to", "nullable", "tags"])

    # -- models ----------------------------------------------------------------------------------

    def _model_specs(self) -> list[ModelSpec]:
        return [spec for domain in self.catalog.domains for spec in load_model_specs(domain, catalog=self.catalog).values()]

    def monitor(self, domain: str, model: str) -> MonitorResult:
        """Run the model's monitor now: drift against its training window and live ROC AUC."""
        return run_monitor(load_model_spec(domain, model, catalog=self.catalog), catalog=self.catalog)

    def data_need(self, domain: str, model: str, result: MonitorResult | None = None) -> DataNeed:
        """The need the failing monitor raises (the monitor is run unless `result` is given); a
        monitor that passes raises no need, as in the Dagster monitor asset."""
        spec = load_model_spec(domain, model, catalog=self.catalog)
        result = result if result is not None else run_monitor(spec, catalog=self.catalog)
        if result.passed:
            raise NeedError(f"{domain}.{model} {result.model_version}: monitor {result.monitor_id} passed "
                            f"(ROC AUC {result.auc_current:.3f}, drift share {result.drift_share:.2f}): no data need")
        return build_data_need(result, spec, catalog=self.catalog)

    def model_history(self, domain: str, model: str) -> pd.DataFrame:
        """Every monitor run of the model recorded by Dagster, oldest first: time, model version,
        baseline and current ROC AUC, drift share, whether it raised a need."""
        from hurricane_assets.dagster_layer.history import monitor_history
        from hurricane_assets.dagster_layer.workspace import hurricane_instance

        rows = monitor_history(hurricane_instance(), load_model_spec(domain, model, catalog=self.catalog))
        frame = pd.DataFrame([{k: v for k, v in r.items() if k != "drift_scores"} for r in rows],
                             columns=["time", "run_id", "model_version", "auc_baseline", "auc_current", "drift_share",
                                      "raised_need"])
        frame["time"] = pd.to_datetime(frame["time"], unit="s", utc=True)
        return frame

    def drift_history(self, domain: str, model: str) -> pd.DataFrame:
        """Each feature's drift score at every monitor run: one row per run, one column per feature."""
        from hurricane_assets.dagster_layer.history import monitor_history
        from hurricane_assets.dagster_layer.workspace import hurricane_instance

        rows = monitor_history(hurricane_instance(), load_model_spec(domain, model, catalog=self.catalog))
        frame = pd.DataFrame([r["drift_scores"] for r in rows], index=pd.to_datetime([r["time"] for r in rows], unit="s", utc=True))
        frame.index.name = "time"
        return frame

    def retrain(self, domain: str, model: str) -> pd.DataFrame:
        """Retrain the model on its own data and its active shares and re-run its monitor, as one
        real Dagster run; one row per materialized asset with its ROC AUC."""
        from hurricane_assets.dagster_layer.history import retrain_run
        from hurricane_assets.dagster_layer.workspace import hurricane_instance

        outputs = retrain_run(hurricane_instance(), load_model_spec(domain, model, catalog=self.catalog))
        # the AUC without the shares is measured by the `<model>_share_uplift` asset of the same run
        without = next((m["hurricane/auc_without_shares"] for m in outputs.values() if "hurricane/auc_without_shares" in m), None)
        return pd.DataFrame([{"asset": key, "auc": meta.get("hurricane/auc", meta.get("hurricane/auc_current")),
                              "auc_without_shares": without if key == f"{domain}/{model}" else None,
                              "shares": meta.get("hurricane/shares")} for key, meta in outputs.items()
                             if key.startswith(f"{domain}/{model}")])

    # -- negotiation, contracts, delivery --------------------------------------------------------

    def request_data(self, need: NeedSpec | DataNeed, deliver: bool = True, *, strategy: str = "rules",
                     now: datetime | None = None) -> DataRequest:
        """Negotiate the need under policy, sign what was agreed, and deliver each signed contract."""
        spec = need.to_need_spec() if isinstance(need, DataNeed) else need
        platform = SharingPlatform.from_environment(self.catalog)
        outcome = negotiate_need(spec, platform, strategy=strategy, now=now)
        deliveries: tuple[Delivery, ...] = ()
        if deliver:
            # a contract of this need may since have been renewed or revoked (a later request for
            # the same dataset supersedes it): only what is active now is delivered
            current = [platform.store.get(c.contract_id) for c in outcome.contracts]
            deliveries = tuple(deliver_contract(c, **platform.delivering, now=now) for c in current
                               if c.status is ContractStatus.active)
        return DataRequest(outcome, deliveries)

    def request(self, dataset: str, columns: Iterable[str], purpose: str, env: str = "preprod", *,
                consumer: str | None = None, strategy: str = "rules", progress: bool = True) -> pd.DataFrame:
        """Ask for `columns` of `dataset` ("payments.transactions") for `purpose` in `env`, as
        `consumer` (default: the client's domain). The request becomes a data need and takes the
        sensor path's negotiation and delivery as real Dagster runs; returns the delivered, masked
        copy (the join key and the granted columns). Raises `RequestDenied` naming each refused
        column with the producer policy and reason that refused it (`.delivered` holds what was
        granted, if anything, `.signed` every contract signed), `DeliveryCheckFailed` when the copy was
        written but failed its blocking join check (`.delivered` holds it), `RequestError` for a malformed
        request."""
        outcome = self.request_outcome(dataset, columns, purpose, env, consumer=consumer, strategy=strategy,
                                       progress=progress)
        if not outcome.granted:
            raise outcome.denial()
        failed = outcome.check_failure()
        if failed is not None:
            raise failed
        return outcome.frame

    def request_outcome(self, dataset: str, columns: Iterable[str], purpose: str, env: str = "preprod", *,
                        consumer: str | None = None, strategy: str = "rules", progress: bool = True) -> RequestOutcome:
        """`request`, with what it came to returned instead of raised: the contracts signed, the copy
        delivered, the columns refused."""
        request = parse_request(self.catalog, dataset, list(columns), purpose, env, consumer or self.domain)
        platform = SharingPlatform.from_environment(self.catalog)
        need = self._current_need(request, platform)
        # Dagster is imported only here and in build_world: the rest of the client is the pure core.
        from hurricane_assets.dagster_layer.request import deliver_run, negotiate_run
        from hurricane_assets.dagster_layer.workspace import hurricane_instance

        instance = hurricane_instance()
        with steps(progress) as step, warnings.catch_warnings():
            warnings.filterwarnings("ignore", "coroutine 'BaseEventLoop.shutdown_asyncgens' was never awaited",
                                    RuntimeWarning)
            with step(f"negotiating {request.name} for {request.purpose} in {request.environment}"):
                negotiate_run(need, instance, strategy=strategy)
            report = load_result(negotiation_id_for(need, platform.gate.bundle_sha256))
            signed = tuple(c for c in platform.store.list() if c.negotiation_id == report.negotiation_id
                           and c.status is ContractStatus.active)
            contract = granted_contract(signed, request)
            frame, failed_checks = None, ()
            if contract is not None:
                with step(f"delivering {request.name} masked into {request.consumer}'s {request.environment}"):
                    failed_checks = deliver_run(contract, instance).failed_checks
                frame = self.read_share(contract.contract_id)
            with step("explaining what was refused"):
                refused = tuple(refusals(request, report, contract, platform.gate))
        return RequestOutcome(request, report.negotiation_id, signed, contract, frame, refused, failed_checks)

    def _current_need(self, request, platform: SharingPlatform) -> NeedSpec:
        """The request's need: the same one while its contract is active (asking again changes
        nothing), a fresh one once that contract was superseded, revoked or expired."""
        contracts = platform.store.list()
        for attempt in range(len(contracts) + 1):
            need = request_need(self.catalog, request, attempt=attempt)
            negotiation_id = negotiation_id_for(need, platform.gate.bundle_sha256)
            ours = [c for c in contracts if c.negotiation_id == negotiation_id
                    and (c.producer, c.dataset, c.consumer) == (request.producer, request.dataset, request.consumer)]
            if not ours or any(c.status is ContractStatus.active for c in ours):
                return need
        return need

    def contracts(self, consumer: str | None = None, status: ContractStatus | str | None = None) -> pd.DataFrame:
        """Contracts, newest first, optionally of one consumer and/or one status."""
        wanted = ContractStatus(status) if status is not None else None
        found = [c for c in ContractStore(catalog=self.catalog).list(status=wanted)
                 if consumer is None or c.consumer == consumer]
        rows = [
            {"contract_id": c.contract_id, "version": c.version, "status": c.status.value, "producer": c.producer,
             "consumer": c.consumer, "dataset": c.dataset, "environment": c.terms.environment.value,
             "purpose": c.terms.purpose, "signed_at": c.signed_at, "expires_at": c.expires_at,
             "negotiation_id": c.negotiation_id}
            for c in sorted(found, key=lambda c: c.signed_at, reverse=True)
        ]
        return pd.DataFrame(rows, columns=["contract_id", "version", "status", "producer", "consumer", "dataset",
                                           "environment", "purpose", "signed_at", "expires_at", "negotiation_id"])

    def contract(self, contract_id: str) -> Contract:
        return ContractStore(catalog=self.catalog).get(contract_id)

    def contract_columns(self, contract_id: str) -> pd.DataFrame:
        """What crosses under a contract: each column's masking next to its catalog classification."""
        contract = self.contract(contract_id)
        spec = self.catalog.dataset(contract.producer, contract.dataset)
        rows = [{"column": column, "masking": method.value, "classification": spec.columns[column].classification.value,
                 "pii": spec.columns[column].pii.value if spec.columns[column].pii else None}
                for column, method in contract.terms.columns.items()]
        return pd.DataFrame(rows, columns=["column", "masking", "classification", "pii"])

    def contract_odcs(self, contract_id: str) -> str:
        """The contract's ODCS export (YAML), as OpenMetadata and other catalogs import it."""
        self.contract(contract_id)  # an unknown or malformed id fails here, naming it
        return odcs_path(contract_id).read_text()

    def lineage(self, contract_id: str) -> pd.DataFrame:
        """The OpenLineage events of a contract's share: its negotiation runs, delivery runs and
        drop, oldest first (from the default file transport)."""
        events = contract_events(self.contract(contract_id), read_events())
        rows = [{"time": e.get("eventTime"), "event": e.get("eventType", "DROP"),
                 "job": (e.get("job") or {}).get("name"), "run_id": (e.get("run") or {}).get("runId"),
                 "parent_run_id": (((e.get("run") or {}).get("facets") or {}).get("parent") or {}).get("run", {}).get("runId"),
                 "inputs": [i["name"] for i in e.get("inputs", [])], "outputs": [o["name"] for o in e.get("outputs", [])]}
                for e in events]
        return pd.DataFrame(rows, columns=["time", "event", "job", "run_id", "parent_run_id", "inputs", "outputs"])

    def read_share(self, contract_id: str, *, now: datetime | None = None) -> pd.DataFrame:
        """The consumer's delivered copy under an active contract, checked first (signatures, the
        ledger's record and status, expiry); the copy is read where settings put it, never from a
        path in the contract file, and only while it is what the ledger's last DELIVERED entry says
        was written (version and columns: `delivery/recorded.py`), so a copy edited in the consumer's
        folder (a column added from prod, say) is refused, not served."""
        contract = self.contract(contract_id)
        if contract.status is not ContractStatus.active:
            raise ShareUnavailable(f"contract {contract_id} is {contract.status.value}, not active: "
                                   "its copy may not be read")
        try:
            history = LedgerHistory.read(Ledger())
            check_contract(contract, signer=Signer(), history=history, now=now if now is not None else utc_now())
        except (ContractRejected, LedgerUnreadable) as exc:
            raise ShareUnavailable(f"contract {contract_id} may not be read: {getattr(exc, 'reason', exc)}") from None
        uri = share_uri_for(contract.terms)
        copy, recorded = open_copy(uri), recorded_copy(history, contract_id)
        if recorded is None:
            raise ShareUnavailable(f"contract {contract_id} is active but not delivered yet: " + (
                f"no table at {uri}" if copy is None else f"the ledger holds no DELIVERED entry for the table at {uri}"))
        differs = copy_differs(copy, recorded)
        if differs is not None:
            raise ShareUnavailable(f"contract {contract_id}: the copy at {uri} is not what the ledger recorded "
                                   f"({differs}); deliver the contract again to replace it")
        # the snapshot just checked, not the table's current version (a commit since is not checked)
        return pa.table(copy.to_pyarrow_dataset().to_table()).to_pandas()

    def transcript(self, negotiation_id: str) -> pd.DataFrame:
        """Every message of a negotiation: who said what, the terms offered, the policy's decision."""
        try:
            result = load_result(negotiation_id)
        except NegotiationNotFound:
            raise NegotiationNotFound(f"no negotiation {negotiation_id!r} in {hurricane_paths().checkpoints}") from None
        rows = [
            {"round": m.round, "performative": m.performative.value, "sender": m.sender, "receiver": m.receiver,
             "dataset": m.terms.dataset if m.terms else None,
             "masking": {c: method.value for c, method in m.terms.columns.items()} if m.terms else None,
             "policy_allowed": m.policy_decision.allowed if m.policy_decision else None,
             "reason_codes": m.reason_codes, "rationale": m.rationale}
            for m in result.transcript
        ]
        return pd.DataFrame(rows, columns=["round", "performative", "sender", "receiver", "dataset", "masking",
                                           "policy_allowed", "reason_codes", "rationale"])

    # -- the ledger ------------------------------------------------------------------------------

    def ledger(self, tail: int = 20) -> pd.DataFrame:
        """The latest `tail` entries (payloads hold hashes and references, never data)."""
        if tail < 1:
            raise ValueError(f"ledger: tail must be at least 1, got {tail}")
        rows = Ledger().tail(tail)
        columns = ["seq", "ts", "entry_type", "actor", "negotiation_id", "contract_id", "payload_json", "entry_hash"]
        return pd.DataFrame([{k: r[k] for k in columns} for r in rows], columns=columns)

    def verify_ledger(self) -> VerificationResult:
        return verify_ledger()
