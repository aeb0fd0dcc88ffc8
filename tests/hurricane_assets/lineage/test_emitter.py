import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import jsonschema
import pytest
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState

from hurricane_assets.contracts import Contract, LedgerRef
from hurricane_assets.lineage import CONTRACT_FACET_KEY, LineageEmitter, dataset_name, negotiation_run_id
from hurricane_assets.settings import hurricane_paths
from negotiation_graph.terms import Predicate, RowFilter, ShareTerms

# the RunEvent JSON schema of the OpenLineage spec, vendored beside this test (from shared/specs/)
SPEC = Path(__file__).with_name("OpenLineage.RunEvent.schema.json")


@pytest.fixture
def contract():
    terms = ShareTerms(
        producer="payments",
        consumer="risk",
        dataset="transactions",
        columns={"txn_id": "none", "device_id": "tokenize", "amount": "none", "card_number": "drop"},
        row_filter=RowFilter(all_of=(Predicate(column="channel", op="eq", values=("online",)),), since_days=30),
        purpose="fraud_detection",
        environment="preprod",
        freshness_hours=24,
        retention_days=90,
        term_days=90,
    )
    return Contract.propose(
        terms, negotiation_id="neg-7", policy_bundle_sha256="a" * 64, now=datetime.now(timezone.utc)
    ).model_copy(update={"ledger": LedgerRef(seq=41, entry_hash="b" * 64)})


def written_events() -> list[dict]:
    path = hurricane_paths().lineage / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def validate_run_event(event: dict) -> None:
    with open(SPEC) as f:
        jsonschema.validate(event, json.load(f))
    # and the client's own model (runId must be a UUID, eventType a RunState)
    RunEvent(
        eventType=RunState(event["eventType"]),
        eventTime=event["eventTime"],
        run=Run(runId=event["run"]["runId"]),
        job=Job(namespace=event["job"]["namespace"], name=event["job"]["name"]),
        producer=event["producer"],
    )


def test_delivery_events_validate_and_carry_masking_filter_parent_and_contract(contract):
    emitter = LineageEmitter()
    emitter.negotiation_started("neg-7", "risk", "payments")
    emitter.negotiation_completed("neg-7", "risk", "payments")
    run_id, start = emitter.delivery_started(contract, source_version=3)
    complete = emitter.delivery_completed(run_id, contract, delta_version=0, source_version=3)
    events = written_events()
    assert [e["eventType"] for e in events] == ["START", "COMPLETE", "START", "COMPLETE"]
    for event in events:
        validate_run_event(event)
    done = events[-1]
    assert done["run"]["runId"] == run_id and done["job"] == {
        "namespace": "datahurricane.risk",
        "name": "share.payments__transactions.materialize",
        "facets": {},
    }
    # the delivery's parent is payments' part of the negotiation, its root the need's negotiation
    parent = done["run"]["facets"]["parent"]
    assert parent["run"]["runId"] == negotiation_run_id("neg-7", "payments") == events[0]["run"]["runId"]
    assert parent["root"]["run"]["runId"] == negotiation_run_id("neg-7") != parent["run"]["runId"]
    facet = done["run"]["facets"][CONTRACT_FACET_KEY]
    assert facet["contractId"] == contract.contract_id and facet["ledgerSeq"] == 41 and facet["ledgerEntryHash"] == "b" * 64
    assert facet["purpose"] == "fraud_detection" and facet["_schemaURL"]
    source, copy = done["inputs"][0], done["outputs"][0]
    assert source == {**source, "namespace": "file", "name": hurricane_paths().table_uri("prod", "payments", "transactions")}
    assert source["facets"]["ownership"]["owners"][0]["type"] == "PRODUCER"
    assert copy["name"] == contract.share_uri and copy["facets"]["version"]["datasetVersion"] == "0"
    lineage = copy["facets"]["columnLineage"]
    assert set(lineage["fields"]) == {"txn_id", "device_id", "amount"}
    device = lineage["fields"]["device_id"]["inputFields"][0]["transformations"][0]
    assert (device["type"], device["subtype"], device["masking"]) == ("DIRECT", "TRANSFORMATION", True)
    amount = lineage["fields"]["amount"]["inputFields"][0]["transformations"][0]
    assert (amount["type"], amount["subtype"], amount["masking"]) == ("DIRECT", "IDENTITY", False)
    assert {(f["field"], f["transformations"][0]["subtype"]) for f in lineage["dataset"]} == {("channel", "FILTER"), ("event_ts", "FILTER")}
    assert [f["name"] for f in copy["facets"]["schema"]["fields"]] == ["txn_id", "device_id", "amount"]
    assert len(start.sha256) == 64 and start.sha256 != complete.sha256


def test_failure_abort_and_drop_events(contract):
    emitter = LineageEmitter()
    run_id, _ = emitter.delivery_started(contract)
    emitter.delivery_failed(run_id, contract, "contract test failed: 3 rows outside the row filter")
    emitter.negotiation_aborted("neg-8", "risk", "customers", "no_zopa")
    dropped = emitter.copy_dropped(contract).to_json()
    events = written_events()
    for event in events[:3]:
        validate_run_event(event)
    assert events[1]["eventType"] == "FAIL" and "3 rows" in events[1]["run"]["facets"]["errorMessage"]["message"]
    assert events[2]["eventType"] == "ABORT"
    assert events[3] == dropped
    assert dropped["dataset"]["facets"]["lifecycleStateChange"]["lifecycleStateChange"] == "DROP"
    assert dropped["dataset"]["name"] == contract.share_uri


def test_http_transport_when_url_is_set(contract, monkeypatch):
    received = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append((self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            self.send_response(201)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("HURRICANE_LINEAGE_URL", f"http://127.0.0.1:{server.server_port}")
        LineageEmitter().negotiation_started("neg-9", "risk", "payments")
    finally:
        server.shutdown()
    assert received and received[0][0] == "/api/v1/lineage"
    validate_run_event(received[0][1])
    assert not (hurricane_paths().lineage / "events.jsonl").exists()


def test_dataset_names_follow_openlineage_naming():
    assert dataset_name("/data/envs/prod/payments/transactions") == ("file", "/data/envs/prod/payments/transactions")
    assert dataset_name("s3://bucket/envs/prod/payments/transactions") == ("s3://bucket", "envs/prod/payments/transactions")


def test_the_retention_cutoff_is_a_filter_dependency_of_every_delivery(contract):
    """A delivery leaves out rows past the contract's retention by their event time, row filter or
    not: the copy depends on that column (INDIRECT/FILTER), and on nothing the catalog lacks."""
    unfiltered = contract.model_copy(update={"terms": contract.terms.model_copy(update={"row_filter": RowFilter()})})
    run_id, _ = LineageEmitter().delivery_started(unfiltered, source_version=3)
    copy = written_events()[-1]["outputs"][0]
    filters = [(f["field"], f["transformations"][0]["type"], f["transformations"][0]["subtype"],
                f["transformations"][0]["description"]) for f in copy["facets"]["columnLineage"]["dataset"]]
    assert filters == [("event_ts", "INDIRECT", "FILTER", "retention cutoff")]
    validate_run_event(written_events()[-1])


def test_filter_descriptions_name_each_reason_once(contract):
    sampled = contract.model_copy(update={"terms": contract.terms.model_copy(update={"row_filter": RowFilter(
        all_of=(Predicate(column="event_ts", op=">=", values=("2026-01-01",)),), since_days=30, sample_fraction=0.5)})})
    LineageEmitter().delivery_started(sampled)
    dataset = written_events()[-1]["outputs"][0]["facets"]["columnLineage"]["dataset"]
    described = {f["field"]: f["transformations"][0]["description"] for f in dataset}
    assert described == {"event_ts": "row filter, retention cutoff, since_days", "txn_id": "sample"}
