"""Export a contract to ODCS v3.1.0 YAML (the consumer's copy) and import it back.

The export is validated by the `open_data_contract_standard` model before it is written. Every
negotiated fact lives in a standard field where ODCS has one (server, schema, SLA, roles) and in
`dh*` custom properties otherwise, so `import_odcs` rebuilds an equal `Contract` from the file.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from open_data_contract_standard.model import OpenDataContractStandard
from pydantic import ValidationError

from hurricane_assets.catalog import Catalog, load_catalog
from hurricane_assets.contracts.check import share_uri_for
from hurricane_assets.contracts.contract import Contract, ContractStatus, LedgerRef, PartySignature, verify_contract
from hurricane_assets.identity.signer import Signer
from hurricane_assets.settings import hurricane_paths
from negotiation_graph.ports import SignerPort
from negotiation_graph.terms import MaskingMethod, RowFilter, ShareTerms

API_VERSION = "v3.1.0"
ODCS_STATUS = {
    ContractStatus.proposed: "proposed",
    ContractStatus.active: "active",
    ContractStatus.renewed: "deprecated",
    ContractStatus.expired: "retired",
    ContractStatus.revoked: "retired",
}
LOGICAL_TYPES = {
    "string": "string",
    "int64": "integer",
    "float64": "number",
    "bool": "boolean",
    "date": "date",
    "timestamp": "timestamp",
}


class OdcsError(ValueError):
    def __init__(self, path: str | Path, field: str, reason: str):
        super().__init__(f"{path}: {field}: {reason}")


def odcs_path(contract_id: str) -> Path:
    return hurricane_paths().contracts / f"{contract_id}.odcs.yaml"


def share_table_name(terms: ShareTerms) -> str:
    return f"{terms.producer}__{terms.dataset}"


def _custom(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"property": k, "value": v} for k, v in values.items() if v is not None]


OBJECT_STORE_SCHEMES = ("s3://", "s3a://")


def _server(contract: Contract) -> dict[str, Any]:
    """Where the consumer's copy is: an ODCS `local` server (`path`) for a file path, an `s3` server
    (`location`, the field ODCS defines for it) for an object-store URI."""
    terms = contract.terms
    server = {"server": f"{terms.consumer}-{terms.environment.value}", "format": "delta",
              "environment": terms.environment.value}
    if contract.share_uri.startswith(OBJECT_STORE_SCHEMES):
        return {**server, "type": "s3", "location": contract.share_uri}
    return {**server, "type": "local", "path": contract.share_uri}


def to_odcs(contract: Contract, catalog: Catalog | None = None) -> OpenDataContractStandard:
    catalog = catalog if catalog is not None else load_catalog()
    terms = contract.terms
    dataset = catalog.dataset(terms.producer, terms.dataset)
    table = share_table_name(terms)
    shared = terms.shared_columns()
    properties = []
    for name, masking in shared.items():
        column = dataset.columns[name]
        properties.append(
            {
                "name": name,
                "logicalType": LOGICAL_TYPES[column.type],
                "physicalType": column.type,
                "required": not column.nullable,
                "primaryKey": name in dataset.keys,
                "classification": column.classification.value,
                "description": column.description,
                "transformSourceObjects": [f"{terms.producer}.{terms.dataset}.{name}"],
                "transformLogic": f"masking: {masking.value}",
                "customProperties": _custom({"dhMasking": masking.value, "dhPii": column.pii.value if column.pii else None}),
            }
        )
    dropped = [c for c, m in terms.columns.items() if m is MaskingMethod.drop]
    time_element = f"{table}.{dataset.event_time}" if dataset.event_time in shared else None
    sla = [
        {"property": "freshness", "value": terms.freshness_hours, "unit": "h", "element": time_element},
        {"property": "latency", "value": terms.freshness_hours, "unit": "h", "element": time_element},
        {"property": "frequency", "value": terms.freshness_hours, "unit": "h"},
        {"property": "retention", "value": terms.retention_days, "unit": "d", "element": time_element},
        {"property": "endOfLife", "value": contract.expires_at.isoformat()},
    ]
    document = {
        "apiVersion": API_VERSION,
        "kind": "DataContract",
        "id": contract.contract_id,
        "name": f"{terms.producer}.{terms.dataset} for {terms.consumer}",
        "version": contract.version,
        "status": ODCS_STATUS[contract.status],
        "domain": terms.producer,
        "dataProduct": terms.dataset,
        "contractCreatedTs": contract.signed_at.isoformat(),
        "description": {
            "purpose": f"{terms.purpose}: {terms.consumer} uses {terms.producer}.{terms.dataset} in {terms.environment.value}",
            "limitations": (
                f"Only for {terms.purpose}; keep at most {terms.retention_days} days; access ends "
                f"{contract.expires_at.date().isoformat()}; masked columns must not be re-identified."
            ),
            "usage": f"Read the Delta table at {contract.share_uri}.",
        },
        "servers": [_server(contract)],
        "schema": [
            {
                "name": table,
                "physicalName": table,
                "physicalType": "table",
                "logicalType": "object",
                "description": dataset.description,
                "properties": properties,
                "customProperties": _custom(
                    {
                        "dhSourceDataset": f"{terms.producer}.{terms.dataset}",
                        "dhRowFilter": terms.row_filter.model_dump(mode="json"),
                        "dhDroppedColumns": dropped or None,
                    }
                ),
            }
        ],
        "slaProperties": [{k: v for k, v in p.items() if v is not None} for p in sla],
        "roles": [
            {
                "role": f"{terms.consumer}_reader",
                "access": "read",
                "firstLevelApprovers": f"agent:{terms.producer}/producer",
                "secondLevelApprovers": f"policy:sha256:{contract.policy_bundle_sha256}",
            }
        ],
        "customProperties": _custom(
            {
                "dhNegotiationId": contract.negotiation_id,
                "dhConsumerDomain": terms.consumer,
                "dhPurposeCode": terms.purpose,
                "dhStatus": contract.status.value,
                "dhAgreementSha256": contract.agreement_sha256,
                "dhPolicyBundleSha256": contract.policy_bundle_sha256,
                "dhLedger": {"seq": contract.ledger.seq, "entryHash": contract.ledger.entry_hash} if contract.ledger else None,
                "dhSignatures": [s.model_dump(mode="json") for s in contract.signatures] or None,
                "dhPreviousContractId": contract.previous_contract_id,
            }
        ),
    }
    return OpenDataContractStandard.model_validate(document)


def export_odcs(contract: Contract, *, catalog: Catalog | None = None, path: str | Path | None = None) -> Path | str:
    """Write `<contracts>/<id>.odcs.yaml` (atomically; an `s3://` path as one PUT); returns the path."""
    from hurricane_assets import object_files  # storage → settings; kept out of this module's import time

    target = path if path is not None else odcs_path(contract.contract_id)
    target = target if isinstance(target, str) and target.startswith(("s3://", "s3a://")) else Path(target)
    object_files.write_text(target, to_odcs(contract, catalog).to_yaml())
    return target


def _props(items: list[Any] | None) -> dict[str, Any]:
    return {p.property: p.value for p in items or []}


REQUIRED_TOP = ("dhNegotiationId", "dhConsumerDomain", "dhPurposeCode", "dhStatus", "dhPolicyBundleSha256",
                "dhAgreementSha256", "dhSignatures")
REQUIRED_SLA = ("freshness", "retention", "endOfLife")


def _need(values: dict[str, Any], key: str, path: Path, where: str) -> Any:
    if key not in values or values[key] is None:
        raise OdcsError(path, f"{where}.{key}", "missing")
    return values[key]


def import_odcs(path: str | Path, *, signer: SignerPort | None = None) -> Contract:
    """Rebuild the Contract from an exported ODCS file and verify it: the agreement hash must be
    present and match the rebuilt body, both parties' signatures must verify over it, and the copy's
    location must be the one settings derive. Raises `OdcsError` naming the field that is wrong."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise OdcsError(path, "<file>", "not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise OdcsError(path, "<file>", f"cannot be read ({type(exc).__name__})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"<yaml line {mark.line + 1}>" if mark is not None else "<yaml>"
        raise OdcsError(path, where, f"not valid YAML: {getattr(exc, 'problem', None) or type(exc).__name__}") from None
    if not isinstance(raw, dict):
        raise OdcsError(path, "<root>", f"expected a mapping, got {type(raw).__name__}")
    try:
        doc = OpenDataContractStandard.model_validate(raw)
    except (ValidationError, TypeError, ValueError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else None
        where = ".".join(map(str, first["loc"])) if first else "<root>"
        raise OdcsError(path, where, f"not a valid ODCS document: {first['msg'] if first else type(exc).__name__}") from None
    if doc.apiVersion != API_VERSION:
        raise OdcsError(path, "apiVersion", f"expected {API_VERSION}, got {doc.apiVersion!r}")
    top = _props(doc.customProperties)
    for required in REQUIRED_TOP:
        _need(top, required, path, "customProperties")
    if not doc.schema_ or not doc.servers:
        raise OdcsError(path, "schema" if not doc.schema_ else "servers", "missing")
    table, server = doc.schema_[0], doc.servers[0]
    table_props = _props(table.customProperties)
    sla = {p.property: p.value for p in doc.slaProperties or []}
    for required in REQUIRED_SLA:
        _need(sla, required, path, "slaProperties")
    source = _need(table_props, "dhSourceDataset", path, "schema[0].customProperties")
    if not isinstance(source, str) or "." not in source:
        raise OdcsError(path, "schema[0].customProperties.dhSourceDataset", "expected <producer>.<dataset>")
    producer, dataset_name = source.split(".", 1)
    try:
        columns = {}
        for index, prop in enumerate(table.properties or []):
            masking = _need(_props(prop.customProperties), "dhMasking", path, f"schema[0].properties[{index}].customProperties")
            columns[prop.name] = MaskingMethod(masking)
        columns.update({c: MaskingMethod.drop for c in table_props.get("dhDroppedColumns") or []})
    except ValueError as exc:
        if isinstance(exc, OdcsError):
            raise
        raise OdcsError(path, "schema[0].properties", f"unknown masking method: {exc}") from None
    for field, text in (("contractCreatedTs", doc.contractCreatedTs), ("slaProperties.endOfLife", sla["endOfLife"])):
        if not isinstance(text, str):
            raise OdcsError(path, field, "missing or not a timestamp")
    try:
        signed_at = datetime.fromisoformat(doc.contractCreatedTs)
        expires_at = datetime.fromisoformat(sla["endOfLife"])
    except ValueError:
        raise OdcsError(path, "contractCreatedTs/endOfLife", "not an ISO 8601 timestamp") from None
    try:
        terms = ShareTerms(
            producer=producer,
            consumer=top["dhConsumerDomain"],
            dataset=dataset_name,
            columns=columns,
            row_filter=RowFilter.model_validate(table_props.get("dhRowFilter", {})),
            purpose=top["dhPurposeCode"],
            environment=server.environment,
            freshness_hours=sla["freshness"],
            retention_days=sla["retention"],
            term_days=(expires_at - signed_at).days,
        )
        share_uri = share_uri_for(terms)
        field = "location" if server.type == "s3" else "path"
        if getattr(server, field) != share_uri:
            raise OdcsError(path, f"servers[0].{field}", f"is not the consumer's copy {share_uri} (file edited or another home)")
        ledger = top.get("dhLedger")
        contract = Contract(
            contract_id=doc.id,
            version=doc.version,
            negotiation_id=top["dhNegotiationId"],
            terms=terms,
            share_uri=share_uri,
            policy_bundle_sha256=top["dhPolicyBundleSha256"],
            signed_at=signed_at,
            expires_at=expires_at,
            status=ContractStatus(top["dhStatus"]),
            signatures=tuple(PartySignature.model_validate(s) for s in top["dhSignatures"]),
            ledger=LedgerRef(seq=ledger["seq"], entry_hash=ledger["entryHash"]) if ledger else None,
            previous_contract_id=top.get("dhPreviousContractId"),
        )
    except OdcsError:
        raise
    except (ValidationError, ValueError, KeyError, TypeError) as exc:
        raise OdcsError(path, "<contract>", f"cannot rebuild the contract: {type(exc).__name__}: {exc}") from None
    if top["dhAgreementSha256"] != contract.agreement_sha256:
        raise OdcsError(path, "customProperties.dhAgreementSha256", "does not match the contract body (file edited)")
    try:
        verify_contract(contract, signer if signer is not None else Signer())
    except ValueError as exc:
        raise OdcsError(path, "customProperties.dhSignatures", str(exc)) from None
    return contract


def odcs_json_schema() -> dict[str, Any]:
    return json.loads(OpenDataContractStandard.json_schema())
