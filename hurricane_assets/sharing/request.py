"""A person's request for named columns of one dataset, as a data need like any other.

`request_need` turns "these columns of payments.transactions, for fraud_detection, in preprod" into
the `NeedSpec` a failing monitor would have raised, so the request takes the same negotiation,
policy gate, signatures and delivery as the sensor path. `refusals` explains, column by column,
which producer policy refused what was not granted and why: the reason codes the negotiation
recorded, and the ids of the Cedar policies that decide it when the column is offered at each
value-bearing masking.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hurricane_assets.catalog import Catalog
from hurricane_assets.contracts.contract import Contract
from hurricane_assets.settings import ENVIRONMENTS
from negotiation_graph.outbox import agent
from negotiation_graph.ports import PolicyGate
from negotiation_graph.runner import NegotiationReport
from negotiation_graph.scoring import VALUE_BEARING
from negotiation_graph.terms import NeedSpec, ShareTerms

if TYPE_CHECKING:
    import pandas as pd


class RequestError(ValueError):
    """The request itself is malformed (unknown dataset or column, who is asking, environment)."""


@dataclass(frozen=True)
class RefusedColumn:
    column: str
    producer: str
    dataset: str
    reasons: tuple[str, ...]
    policy_ids: tuple[str, ...]  # the Cedar policies (org/…, <producer>/…) that forbid it (empty: no permit matched)

    def __str__(self) -> str:
        policies = "policy " + ", ".join(self.policy_ids) if self.policy_ids else "no permit of the policy"
        return f"{self.column}: refused by {policies}: {', '.join(self.reasons)}"


def describe_contract(contract: Contract) -> str:
    columns = ", ".join(contract.terms.shared_columns())
    return f"contract {contract.contract_id} for {contract.producer}.{contract.dataset} ({columns})"


class RequestDenied(Exception):
    """Some requested columns were not granted. `refused` names each with its policy and reason;
    `delivered` holds the columns that were granted and delivered, if any; `signed` every contract
    the negotiation signed all the same, so a denial never hides an agreement."""

    def __init__(self, dataset: str, refused: list[RefusedColumn], negotiation_id: str, delivered=None,
                 signed: tuple[Contract, ...] = ()):
        self.dataset = dataset
        self.refused = refused
        self.negotiation_id = negotiation_id
        self.delivered = delivered
        self.signed = signed
        listed = "; ".join(str(r) for r in refused)
        agreed = "".join(f"; signed {describe_contract(c)}" for c in signed)
        super().__init__(f"request for {dataset} denied for {len(refused)} column(s): {listed} "
                         f"(negotiation {negotiation_id}{agreed})")


class DeliveryCheckFailed(Exception):
    """The copy was written under an active contract, then failed a blocking check (the share's
    join key finds too few of the consumer's rows): the copy is there and readable, and the model
    does not retrain on it. `delivered` holds the copy, `failed_checks` each check with its figures."""

    def __init__(self, contract: Contract, failed_checks: tuple[str, ...], delivered=None):
        self.contract = contract
        self.failed_checks = failed_checks
        self.delivered = delivered
        super().__init__(check_failure_message(contract, failed_checks))


def check_failure_message(contract: Contract, failed_checks: tuple[str, ...]) -> str:
    return (f"contract {contract.contract_id} is active and its copy of {contract.producer}.{contract.dataset} "
            f"is written, but it failed its blocking check: {'; '.join(failed_checks)}; "
            f"models of {contract.consumer} do not retrain on it")


@dataclass(frozen=True)
class DatasetRequest:
    producer: str
    dataset: str
    columns: tuple[str, ...]
    purpose: str
    environment: str
    consumer: str

    @property
    def name(self) -> str:
        return f"{self.producer}.{self.dataset}"


def parse_request(catalog: Catalog, dataset: str, columns: list[str] | tuple[str, ...], purpose: str,
                  environment: str, consumer: str | None) -> DatasetRequest:
    """Check the request against the catalog; every problem is a `RequestError` naming it."""
    producer, _, name = dataset.partition(".")
    if not producer or not name:
        raise RequestError(f"dataset {dataset[:80]!r}: expected DOMAIN.DATASET, e.g. payments.transactions")
    try:
        spec = catalog.dataset(producer, name)
    except KeyError as exc:
        raise RequestError(str(exc.args[0])) from None
    if not columns:
        raise RequestError(f"request for {producer}.{name}: name at least one column")
    unknown = [c for c in columns if c not in spec.columns]
    if unknown:
        raise RequestError(f"{producer}.{name} has no column(s) {', '.join(repr(c[:40]) for c in unknown)}; "
                           f"it has {', '.join(spec.columns)}")
    if environment not in ENVIRONMENTS:
        raise RequestError(f"unknown environment {environment[:40]!r}; expected one of {', '.join(ENVIRONMENTS)}")
    if not purpose or not purpose.replace("_", "").isalnum():
        raise RequestError(f"purpose {purpose[:40]!r}: expected a word such as fraud_detection")
    if consumer is None:
        raise RequestError("who is asking? HurricaneClient(domain='risk'), --as risk, or HURRICANE_DOMAIN=risk")
    if consumer not in catalog.domains:
        raise RequestError(f"unknown domain {consumer[:40]!r}; known: {', '.join(catalog.domains)}")
    if consumer == producer:
        raise RequestError(f"{consumer} owns {producer}.{name}: read it directly, there is nothing to negotiate")
    return DatasetRequest(producer, name, tuple(dict.fromkeys(columns)), purpose, environment, consumer)


def request_need(catalog: Catalog, request: DatasetRequest, *, attempt: int = 0) -> NeedSpec:
    """The need this request is: each column wanted with the same weight, joinable on the dataset's
    entity and the entities its columns refer to, and served by that dataset only (other listings
    hold columns of the same names, which the person did not ask for). Its id is derived from the request, so asking
    again resumes or returns the same negotiation; `attempt` > 0 asks anew once that negotiation's
    contract is no longer active (a later request for the dataset superseded it, or it was revoked)."""
    spec = catalog.dataset(request.producer, request.dataset)
    entities = tuple(dict.fromkeys([spec.entity, *(c.refers_to for c in spec.columns.values() if c.refers_to)]))
    digest = hashlib.sha256(repr((request.consumer, request.name, sorted(request.columns), request.purpose,
                                  request.environment)).encode()).hexdigest()[:12]
    return NeedSpec(
        need_id=f"request-{request.consumer}-{request.producer}-{request.dataset}-{digest}"
                + (f"-{attempt}" if attempt else ""),
        consumer=request.consumer,
        model=f"request:{request.name}",
        purpose=request.purpose,
        environment=request.environment,
        join_entities=entities,
        wanted=dict.fromkeys(request.columns, 1.0),
        listings=(request.name,),
        prompt=f"{request.consumer} asks for {', '.join(request.columns)} of {request.name} "
               f"for {request.purpose} in {request.environment}",
    )


@dataclass(frozen=True)
class RequestOutcome:
    """What a request came to: the contracts its negotiation signed (`contract`, the one for the
    requested dataset, among them), the copy delivered under it, and each column not granted."""

    request: DatasetRequest
    negotiation_id: str
    signed: tuple[Contract, ...]
    contract: Contract | None
    frame: pd.DataFrame | None
    refused: tuple[RefusedColumn, ...]
    failed_checks: tuple[str, ...] = ()  # blocking checks the delivered copy failed, with their figures

    @property
    def granted(self) -> bool:
        return self.frame is not None and not self.refused

    def check_failure(self) -> DeliveryCheckFailed | None:
        if not self.failed_checks or self.contract is None:
            return None
        return DeliveryCheckFailed(self.contract, self.failed_checks, self.frame)

    def denial(self) -> RequestDenied:
        return RequestDenied(self.request.name, list(self.refused), self.negotiation_id, self.frame, self.signed)


def granted_contract(contracts: tuple[Contract, ...] | list[Contract], request: DatasetRequest) -> Contract | None:
    for contract in contracts:
        if (contract.producer, contract.dataset, contract.consumer) == (request.producer, request.dataset, request.consumer):
            return contract
    return None


def refusals(request: DatasetRequest, report: NegotiationReport, contract: Contract | None, gate: PolicyGate,
             spec_freshness_hours: int = 24) -> list[RefusedColumn]:
    """Each requested column the contract does not carry, with the reasons the producer gave in the
    negotiation and the policies the gate names for it at the strongest masking it could cross."""
    granted = set(contract.terms.shared_columns()) if contract is not None else set()
    producer = agent(request.producer, "producer")
    said: dict[str, set[str]] = {}
    general: set[str] = set()
    for message in report.transcript:
        if message.sender != producer or (message.terms is not None and message.terms.dataset != request.dataset):
            continue
        for column, codes in message.column_reasons.items():
            said.setdefault(column, set()).update(codes)
        general.update(message.reason_codes)
    if report.outcome is not None:
        general.update(report.outcome.reason_codes)
    refused = []
    for column in request.columns:
        if column in granted:
            continue
        reasons: set[str] = set(said.get(column, ()))
        policies: set[str] = set()
        for method in VALUE_BEARING:
            decision = gate.evaluate(ShareTerms(
                producer=request.producer, consumer=request.consumer, dataset=request.dataset,
                columns={column: method}, purpose=request.purpose, environment=request.environment,
                freshness_hours=spec_freshness_hours, retention_days=90, term_days=90))
            verdict = decision.columns.get(column)
            if verdict is not None and verdict.allowed and not decision.reasons:
                policies.clear()
                break
            if verdict is not None:
                policies.update(verdict.policy_ids)
                reasons.update(verdict.reasons if not said.get(column) else ())
            reasons.update(r for r in decision.reasons if not r.startswith("requires_human"))
        refused.append(RefusedColumn(column, request.producer, request.dataset,
                                     tuple(sorted(reasons or general or {"not_agreed"})), tuple(sorted(policies))))
    return refused
