"""OpenLineage events for negotiations, deliveries and drops of consumer copies.

Jobs, each run with its own runId (a runId names one run of one job; a lineage server merges
events that share one):
- `datahurricane.negotiation / negotiation.<consumer>`: the need's negotiation (START, COMPLETE);
- `datahurricane.negotiation / negotiation.<consumer>.<producer>`: one producer's part of it
  (START, COMPLETE, ABORT), whose `parent` facet names the need's run;
- `datahurricane.<consumer> / share.<producer>__<dataset>.materialize` (START, COMPLETE, FAIL) with
  the producer table as input and the consumer's copy as output, column lineage that marks masked
  columns, the row filter and the retention cutoff's event time as INDIRECT/FILTER dependencies, a
  `parent` facet naming the producer's negotiation run (with the need's run as `root`) and the
  `dataHurricane_contract` facet.
Revocation and expiry emit a DatasetEvent with `lifecycleStateChange: DROP` and a
`dataHurricane_contract` dataset facet naming the contract that ended.

Events go through `OpenLineageClient`, chosen in this order: over HTTP to `$HURRICANE_LINEAGE_URL`
(Marquez, DataZone's `PostLineageEvent`, any OpenLineage endpoint; `$HURRICANE_LINEAGE_API_KEY` as
bearer token); any transport openlineage-python configures itself (`OPENLINEAGE_URL`,
`OPENLINEAGE__TRANSPORT__*`, `openlineage.yml`: Kafka, console, composite …); otherwise to
`<lineage>/events.jsonl`.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from typing import Any

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import (
    DatasetEvent,
    InputDataset,
    Job,
    OutputDataset,
    Run,
    RunEvent,
    RunState,
    StaticDataset,
)
from openlineage.client.facet_v2 import (
    column_lineage_dataset,
    dataset_version_dataset,
    error_message_run,
    lifecycle_state_change_dataset,
    ownership_dataset,
    parent_run,
    schema_dataset,
)
from openlineage.client.serde import Serde
from openlineage.client.transport import Transport
from openlineage.client.transport.file import FileConfig, FileTransport
from openlineage.client.transport.http import HttpConfig, HttpTransport

from hurricane_assets.catalog import Catalog, load_catalog
from hurricane_assets.clock import utc_now
from hurricane_assets.contracts import Contract
from hurricane_assets.contracts.check import share_uri_for
from hurricane_assets.identity import canonical_json
from hurricane_assets.lineage.facets import (
    CONTRACT_FACET_KEY,
    PRODUCER_URI,
    DataHurricaneContractDatasetFacet,
    DataHurricaneContractRunFacet,
)
from hurricane_assets.lineage.naming import dataset_name
from hurricane_assets.settings import hurricane_paths
from negotiation_graph.terms import MaskingMethod

NEGOTIATION_NAMESPACE = "datahurricane.negotiation"
LINEAGE_URL_VARIABLE = "HURRICANE_LINEAGE_URL"
LINEAGE_API_KEY_VARIABLE = "HURRICANE_LINEAGE_API_KEY"
RUN_NAMESPACE = uuid.UUID("5f0c7a4e-3c1e-4b8e-9d57-6b1f2f0f9a11")


def negotiation_run_id(negotiation_id: str, producer: str | None = None) -> str:
    """Stable run ids, so a delivery can name its parent run without a lookup: the need's negotiation
    run, or (with `producer`) that producer's part of it — a different job, so a different run."""
    suffix = f"/{producer}" if producer is not None else ""
    return str(uuid.uuid5(RUN_NAMESPACE, f"negotiation/{negotiation_id}{suffix}"))


def _openlineage_configured() -> bool:
    """openlineage-python's own configuration: a URL, transport variables or a config file."""
    return bool(os.environ.get("OPENLINEAGE_URL") or os.environ.get("OPENLINEAGE_CONFIG")
                or any(k.startswith("OPENLINEAGE__TRANSPORT") for k in os.environ)
                or os.path.exists("openlineage.yml"))


def default_transport() -> Transport | None:
    """The transport events go to; `None` lets `OpenLineageClient` build its configured one."""
    url = os.environ.get(LINEAGE_URL_VARIABLE)
    if url:
        auth = {"type": "api_key", "apiKey": os.environ[LINEAGE_API_KEY_VARIABLE]} if os.environ.get(LINEAGE_API_KEY_VARIABLE) else None
        config = HttpConfig.from_dict({"url": url, "timeout": 5.0, "retry": {"total": 0}, **({"auth": auth} if auth else {})})
        return HttpTransport(config)
    if _openlineage_configured():
        return None
    path = hurricane_paths().lineage / "events.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileTransport(FileConfig(log_file_path=str(path), append=True))


@dataclass(frozen=True)
class EmittedEvent:
    event: RunEvent | DatasetEvent
    sha256: str  # of the event's RFC 8785 JSON: what a LINEAGE_EMITTED ledger entry records

    def to_json(self) -> dict[str, Any]:
        return Serde.to_dict(self.event)


def _now() -> str:
    return utc_now().isoformat()


class LineageEmitter:
    def __init__(self, transport: Transport | None = None, *, catalog: Catalog | None = None):
        chosen = transport if transport is not None else default_transport()
        self.client = OpenLineageClient(transport=chosen) if chosen is not None else OpenLineageClient()
        self._catalog = catalog

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = load_catalog()
        return self._catalog

    def _emit(self, event: RunEvent | DatasetEvent) -> EmittedEvent:
        self.client.emit(event)
        return EmittedEvent(event, hashlib.sha256(canonical_json(Serde.to_dict(event))).hexdigest())

    # -- negotiation ---------------------------------------------------------------------------

    def _negotiation_job(self, consumer: str, producer: str | None = None) -> Job:
        name = f"negotiation.{consumer}" + (f".{producer}" if producer is not None else "")
        return Job(namespace=NEGOTIATION_NAMESPACE, name=name)

    def need_negotiation_started(self, negotiation_id: str, consumer: str) -> EmittedEvent:
        """START of the need's negotiation run, the parent of every producer's part."""
        return self._negotiation_event(RunState.START, negotiation_id, consumer, None)

    def need_negotiation_completed(self, negotiation_id: str, consumer: str) -> EmittedEvent:
        return self._negotiation_event(RunState.COMPLETE, negotiation_id, consumer, None)

    def negotiation_started(self, negotiation_id: str, consumer: str, producer: str) -> EmittedEvent:
        return self._negotiation_event(RunState.START, negotiation_id, consumer, producer)

    def negotiation_completed(self, negotiation_id: str, consumer: str, producer: str) -> EmittedEvent:
        return self._negotiation_event(RunState.COMPLETE, negotiation_id, consumer, producer)

    def negotiation_aborted(self, negotiation_id: str, consumer: str, producer: str, reason: str) -> EmittedEvent:
        return self._negotiation_event(RunState.ABORT, negotiation_id, consumer, producer, reason)

    def _parent(self, negotiation_id: str, consumer: str, producer: str | None) -> parent_run.ParentRunFacet:
        """The run this one was spawned by: a producer's part → the need's negotiation; a delivery →
        the producer's part, with the need's negotiation as root."""
        need_run = negotiation_run_id(negotiation_id)
        need_job = self._negotiation_job(consumer)
        root = parent_run.Root(run=parent_run.RootRun(runId=need_run),
                               job=parent_run.RootJob(namespace=need_job.namespace, name=need_job.name))
        if producer is None:
            return parent_run.ParentRunFacet(run=parent_run.Run(runId=need_run),
                                             job=parent_run.Job(namespace=need_job.namespace, name=need_job.name), root=root)
        job = self._negotiation_job(consumer, producer)
        return parent_run.ParentRunFacet(run=parent_run.Run(runId=negotiation_run_id(negotiation_id, producer)),
                                         job=parent_run.Job(namespace=job.namespace, name=job.name), root=root)

    def _negotiation_event(
        self, state: RunState, negotiation_id: str, consumer: str, producer: str | None, reason: str | None = None
    ) -> EmittedEvent:
        facets: dict[str, Any] = {}
        if producer is not None:
            facets["parent"] = self._parent(negotiation_id, consumer, None)
        if reason is not None:
            facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
                message=reason, programmingLanguage="python"
            )
        run = Run(runId=negotiation_run_id(negotiation_id, producer), facets=facets)
        return self._emit(
            RunEvent(eventType=state, eventTime=_now(), run=run, job=self._negotiation_job(consumer, producer), producer=PRODUCER_URI)
        )

    # -- delivery ------------------------------------------------------------------------------

    def _delivery_job(self, contract: Contract) -> Job:
        terms = contract.terms
        return Job(namespace=f"datahurricane.{terms.consumer}", name=f"share.{terms.producer}__{terms.dataset}.materialize")

    def _run_facets(self, contract: Contract) -> dict[str, Any]:
        terms = contract.terms
        return {
            "parent": self._parent(contract.negotiation_id, terms.consumer, terms.producer),
            CONTRACT_FACET_KEY: DataHurricaneContractRunFacet(
                contractId=contract.contract_id,
                contractVersion=contract.version,
                purpose=terms.purpose,
                expiresAt=contract.expires_at.isoformat(),
                ledgerSeq=contract.ledger.seq if contract.ledger else None,
                ledgerEntryHash=contract.ledger.entry_hash if contract.ledger else None,
                producer=PRODUCER_URI,
            ),
        }

    def _datasets(
        self, contract: Contract, source_uri: str | None, source_version: int | None, delta_version: int | None
    ) -> tuple[InputDataset, OutputDataset]:
        terms = contract.terms
        spec = self.catalog.dataset(terms.producer, terms.dataset)
        source_uri = source_uri if source_uri is not None else hurricane_paths().table_uri("prod", terms.producer, terms.dataset)
        in_ns, in_name = dataset_name(source_uri)
        out_ns, out_name = dataset_name(share_uri_for(contract.terms))
        shared = terms.shared_columns()

        def schema(columns: list[str]) -> schema_dataset.SchemaDatasetFacet:
            return schema_dataset.SchemaDatasetFacet(
                fields=[schema_dataset.SchemaDatasetFacetFields(name=c, type=spec.columns[c].type) for c in columns]
            )

        def owner(kind: str, domain: str) -> ownership_dataset.OwnershipDatasetFacet:
            return ownership_dataset.OwnershipDatasetFacet(owners=[ownership_dataset.Owner(name=f"domain:{domain}", type=kind)])

        fields = {}
        for column, masking in shared.items():
            masked = masking is not MaskingMethod.none
            fields[column] = column_lineage_dataset.Fields(
                inputFields=[
                    column_lineage_dataset.InputField(
                        namespace=in_ns,
                        name=in_name,
                        field=column,
                        transformations=[
                            column_lineage_dataset.Transformation(
                                type="DIRECT",
                                subtype="TRANSFORMATION" if masked else "IDENTITY",
                                description=f"masking: {masking.value}",
                                masking=masked,
                            )
                        ],
                    )
                ]
            )
        # every column a row's crossing depends on: the row filter's predicates, the event time (the
        # contract's retention cutoff applies to every delivery, `since_days` or not), the keys a sample draws on
        filter_columns = {p.column: "row filter" for p in terms.row_filter.all_of}
        time_filters = ["retention cutoff"] + (["since_days"] if terms.row_filter.since_days is not None else [])
        filter_columns[spec.event_time] = ", ".join(filter(None, [filter_columns.get(spec.event_time), *time_filters]))
        if terms.row_filter.sample_fraction is not None:
            filter_columns.update({key: filter_columns.get(key, "sample") for key in spec.keys})
        filtered = [
            column_lineage_dataset.InputField(
                namespace=in_ns,
                name=in_name,
                field=column,
                transformations=[column_lineage_dataset.Transformation(type="INDIRECT", subtype="FILTER",
                                                                       description=why)],
            )
            for column, why in filter_columns.items()
        ]
        input_facets: dict[str, Any] = {"schema": schema(list(spec.columns)), "ownership": owner("PRODUCER", terms.producer)}
        if source_version is not None:
            input_facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=str(source_version))
        output_facets: dict[str, Any] = {
            "schema": schema(list(shared)),
            "ownership": owner("CONSUMER", terms.consumer),
            "columnLineage": column_lineage_dataset.ColumnLineageDatasetFacet(fields=fields, dataset=filtered),
        }
        if delta_version is not None:
            output_facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=str(delta_version))
        return (
            InputDataset(namespace=in_ns, name=in_name, facets=input_facets),
            OutputDataset(namespace=out_ns, name=out_name, facets=output_facets),
        )

    def _delivery_event(self, state: RunState, run_id: str, contract: Contract, source_uri: str | None,
                        source_version: int | None, delta_version: int | None) -> EmittedEvent:
        source, target = self._datasets(contract, source_uri, source_version, delta_version)
        return self._emit(RunEvent(
            eventType=state,
            eventTime=_now(),
            run=Run(runId=run_id, facets=self._run_facets(contract)),
            job=self._delivery_job(contract),
            inputs=[source],
            outputs=[target],
            producer=PRODUCER_URI,
        ))

    def delivery_started(self, contract: Contract, *, source_uri: str | None = None, source_version: int | None = None) -> tuple[str, EmittedEvent]:
        """START of a delivery run; returns its run id for the matching COMPLETE or FAIL."""
        run_id = str(uuid.uuid4())
        return run_id, self._delivery_event(RunState.START, run_id, contract, source_uri, source_version, None)

    def delivery_completed(
        self,
        run_id: str,
        contract: Contract,
        *,
        delta_version: int | None = None,
        source_uri: str | None = None,
        source_version: int | None = None,
    ) -> EmittedEvent:
        return self._delivery_event(RunState.COMPLETE, run_id, contract, source_uri, source_version, delta_version)

    def delivery_failed(self, run_id: str, contract: Contract, error: str) -> EmittedEvent:
        facets = self._run_facets(contract)
        facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(message=error, programmingLanguage="python")
        event = RunEvent(
            eventType=RunState.FAIL,
            eventTime=_now(),
            run=Run(runId=run_id, facets=facets),
            job=self._delivery_job(contract),
            producer=PRODUCER_URI,
        )
        return self._emit(event)

    def copy_dropped(self, contract: Contract) -> EmittedEvent:
        """The consumer's copy was deleted (revocation or expiry). The `dataHurricane_contract` dataset
        facet names the contract that ended: the share's path outlives it (a later contract for the
        same consumer, producer and dataset delivers to the same path)."""
        namespace, name = dataset_name(share_uri_for(contract.terms))
        drop = lifecycle_state_change_dataset.LifecycleStateChangeDatasetFacet(
            lifecycleStateChange=lifecycle_state_change_dataset.LifecycleStateChange.DROP
        )
        ended = DataHurricaneContractDatasetFacet(
            contractId=contract.contract_id, contractVersion=contract.version, endedAs=contract.status.value,
            producer=PRODUCER_URI,
        )
        event = DatasetEvent(
            eventTime=_now(),
            dataset=StaticDataset(namespace=namespace, name=name,
                                  facets={"lifecycleStateChange": drop, CONTRACT_FACET_KEY: ended}),
            producer=PRODUCER_URI,
        )
        return self._emit(event)
