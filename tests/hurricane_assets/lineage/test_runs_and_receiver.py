"""Lineage another OpenLineage tool can read: one runId per job run, parent (and root) facets from a
producer's negotiation to the need's and from a delivery to its negotiation, START and a terminal
event per run — sent over HTTP to a real receiver on 127.0.0.1 that validates every event as a
Marquez-compatible endpoint would, against the OpenLineage JSON schema."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema
import pytest

from hurricane_assets.contracts import Contract, LedgerRef
from hurricane_assets.lineage import LineageEmitter, negotiation_run_id
from hurricane_assets.lineage.reader import run_problems
from hurricane_assets.settings import hurricane_paths
from negotiation_graph.terms import ShareTerms

# The RunEvent schema of the OpenLineage spec, vendored beside these tests (openlineage-python
# ships no JSON schema): OpenLineage/OpenLineage spec/OpenLineage.json.
SPEC = json.loads(Path(__file__).with_name("OpenLineage.RunEvent.schema.json").read_text())
# The ParentRunFacet's own part, transcribed from OpenLineage/OpenLineage spec/facets/ParentRunFacet.json
# (spec 1-0-1, commit 7901043): the core spec checks a facet only as "some facet".
PARENT_FACET = {
    "type": "object",
    "properties": {
        "run": {"type": "object", "properties": {"runId": {"type": "string", "format": "uuid"}}, "required": ["runId"]},
        "job": {"type": "object", "properties": {"namespace": {"type": "string"}, "name": {"type": "string"}},
                "required": ["namespace", "name"]},
    },
    "required": ["run", "job", "_producer", "_schemaURL"],
}
FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER  # checks "uuid" (runId) as a lineage server does


def problems_of(event: dict) -> list[str]:
    found = [e.message for e in jsonschema.Draft202012Validator(SPEC, format_checker=FORMATS).iter_errors(event)]
    parent = event.get("run", {}).get("facets", {}).get("parent")
    if parent is not None:
        found += [e.message for e in jsonschema.Draft202012Validator(PARENT_FACET, format_checker=FORMATS).iter_errors(parent)]
    return found


class Receiver:
    """A lineage endpoint on 127.0.0.1: POST /api/v1/lineage, 201 for a valid event, 400 otherwise."""

    def __init__(self):
        self.events: list[dict] = []
        self.rejected: list[tuple[dict, list[str]]] = []
        self.headers: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.headers.append(dict(self.headers))
                problems = ["wrong path " + self.path] if self.path != "/api/v1/lineage" else problems_of(body)
                if problems:
                    receiver.rejected.append((body, problems))
                else:
                    receiver.events.append(body)
                self.send_response(400 if problems else 201)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def contract_for(producer: str, dataset: str, columns: dict) -> Contract:
    terms = ShareTerms(producer=producer, consumer="risk", dataset=dataset, columns=columns, purpose="fraud_detection",
                       environment="preprod", freshness_hours=24, retention_days=90, term_days=90)
    return Contract.propose(terms, negotiation_id="neg-42", policy_bundle_sha256="a" * 64,
                            now=datetime(2026, 11, 1, tzinfo=timezone.utc)).model_copy(
        update={"ledger": LedgerRef(seq=7, entry_hash="b" * 64)})


def one_need(emitter: LineageEmitter) -> list[Contract]:
    """One need negotiated with three producers, each share delivered (one delivery fails)."""
    contracts = [
        contract_for("payments", "transactions", {"txn_id": "none", "channel": "tokenize"}),
        contract_for("customers", "profiles", {"customer_id": "tokenize", "account_opened_at": "generalize"}),
        contract_for("support", "tickets", {"customer_id": "tokenize", "category": "none"}),
    ]
    emitter.need_negotiation_started("neg-42", "risk")
    for c in contracts:
        emitter.negotiation_started("neg-42", "risk", c.producer)
        emitter.negotiation_completed("neg-42", "risk", c.producer)
    emitter.negotiation_started("neg-42", "risk", "marketing")
    emitter.negotiation_aborted("neg-42", "risk", "marketing", "no_zopa")  # a part that ended without a deal
    emitter.need_negotiation_completed("neg-42", "risk")
    for c in contracts[:2]:
        run_id, _ = emitter.delivery_started(c, source_version=1)
        emitter.delivery_completed(run_id, c, delta_version=0, source_version=1)
    run_id, _ = emitter.delivery_started(contracts[2])
    emitter.delivery_failed(run_id, contracts[2], "contract test failed")
    return contracts


def check_story(events: list[dict]) -> None:
    assert run_problems(events) == []
    runs: dict[str, dict] = {}
    for e in events:
        runs.setdefault(e["run"]["runId"], e)
    jobs = {e["job"]["name"]: run_id for run_id, e in runs.items()}
    need = negotiation_run_id("neg-42")
    assert jobs["negotiation.risk"] == need
    parts = {p: jobs[f"negotiation.risk.{p}"] for p in ("payments", "customers", "support", "marketing")}
    assert len(set(parts.values())) == 4 and need not in parts.values()  # three producers, three runIds (+ the abort)
    for producer, run_id in parts.items():
        assert runs[run_id]["run"]["facets"]["parent"]["run"]["runId"] == need, producer
    deliveries = [e for e in events if e["job"]["name"].startswith("share.")]
    assert len({e["run"]["runId"] for e in deliveries}) == 3
    for e in deliveries:
        producer = e["job"]["name"].removeprefix("share.").split("__")[0]
        assert e["run"]["facets"]["parent"]["run"]["runId"] == parts[producer]
        assert e["run"]["facets"]["parent"]["root"]["run"]["runId"] == need


def test_http_receiver_validates_every_event_of_a_need(monkeypatch):
    with Receiver() as receiver:
        monkeypatch.setenv("HURRICANE_LINEAGE_URL", receiver.url)
        monkeypatch.setenv("HURRICANE_LINEAGE_API_KEY", "token-for-the-test")
        one_need(LineageEmitter())
    assert receiver.rejected == []
    assert len(receiver.events) == 2 + 4 * 2 + 3 * 2
    assert {h.get("Authorization") for h in receiver.headers} == {"Bearer token-for-the-test"}
    check_story(receiver.events)
    assert not (hurricane_paths().lineage / "events.jsonl").exists()


def test_the_receiver_rejects_what_a_lineage_server_would():
    """The receiver is a real check: a shared runId, a runId that is not a UUID, a parent without its
    job are refused or flagged."""
    good = {"eventType": "START", "eventTime": "2026-11-01T00:00:00+00:00", "producer": "https://x.invalid/p",
            "run": {"runId": negotiation_run_id("n")}, "job": {"namespace": "ns", "name": "a"}}
    assert problems_of(good) == []
    assert problems_of({**good, "run": {"runId": "neg-42"}})  # not a UUID
    parent = {"_producer": "https://x.invalid/p", "_schemaURL": "https://x.invalid/s", "run": {"runId": negotiation_run_id("m")}}
    assert problems_of({**good, "run": {"runId": negotiation_run_id("n"), "facets": {"parent": parent}}})  # no job
    shared = [good, {**good, "job": {"namespace": "ns", "name": "b"}}]
    assert any("used by 2 jobs" in p for p in run_problems(shared))
    assert any("no terminal event" in p for p in run_problems([good]))


def test_file_transport_is_the_default_and_openlineage_config_is_honoured(monkeypatch, tmp_path):
    one_need(LineageEmitter())
    written = [json.loads(line) for line in (hurricane_paths().lineage / "events.jsonl").read_text().splitlines()]
    assert all(problems_of(e) == [] for e in written)
    check_story(written)
    # openlineage-python's own configuration (here its file transport) when HURRICANE_LINEAGE_URL is unset
    target = tmp_path / "ol.jsonl"
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "file")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__LOG_FILE_PATH", str(target))
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__APPEND", "true")
    LineageEmitter().need_negotiation_started("neg-43", "risk")
    assert json.loads(target.read_text().splitlines()[0])["run"]["runId"] == negotiation_run_id("neg-43")


@pytest.fixture(autouse=True)
def _no_ambient_openlineage(monkeypatch):
    for name in ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG", "HURRICANE_LINEAGE_URL"):
        monkeypatch.delenv(name, raising=False)
