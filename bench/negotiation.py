"""Negotiation benchmark: negotiations/s and p50/p99 latency of the whole graph (CFP fan-out,
award, alternating offers, agreement) with the SQLite checkpointer (durability="sync"), for 5 and
50 producer domains of a synthetic catalog, against a baseline measured in the same run: the same
negotiations without a checkpointer, so the checkpoint overhead is visible.

Ports: an in-bench table gate (column floor by classification, purpose and retention limits; not
Cedar, to measure the graph rather than the policy engine), an in-memory idempotent ledger and real
Ed25519 signatures. Latencies come from sequential runs on one thread. Throughput is measured
twice: sequentially (`per_second`) and with one worker process per core, each with its own SQLite
file (`per_second_parallel`), which is how a 2-core host serves the issue's 50/s target.

The headline (`platform`) is the real platform: the reference catalog, `CedarPolicyGate`, the Delta
ledger (filled to 1k and 100k entries first; one commit per negotiation; its id index beside the
home, so opening it reads nothing; small files compacted every 50 commits), the domains' Ed25519
keys (provisioned as `hurricane keys init` does) and SQLite checkpoints, sequentially and with one
worker process per core sharing the ledger. Its ratio between ledger sizes shows whether the cost
grows with the ledger. The host may be shared, so besides wall time each case records the process's
CPU milliseconds per negotiation and the load average: 2 cores x 1000 / CPU ms is the ceiling of
negotiations per second whatever the neighbours do. `platform.floors` measures, in the same run, what
the parts the platform requires cost with no negotiation logic: the graph's SQLite checkpoints (the
same shape doing nothing), one ledger commit of a negotiation's entries, one signature and one
verification per protocol message.

Run: `.venv/bin/python bench/negotiation.py [--runs 200] [--runs-50 40] [--platform-runs 30]`
Writes bench/results/negotiation.json.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from results_file import machine, write_results

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from negotiation_graph.checkpointing import sqlite_checkpointer  # noqa: E402
from negotiation_graph.context import NegotiationContext  # noqa: E402
from negotiation_graph.ports import (  # noqa: E402
    ColumnDecision,
    ColumnFacts,
    LedgerReceipt,
    PolicyDecision,
    ProducerListing,
    SignatureBlock,
)
from negotiation_graph.runner import Negotiator  # noqa: E402
from negotiation_graph.terms import Environment, MaskingMethod, NeedSpec, ShareTerms  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "negotiation.json"
CLASSES = ["public", "internal", "confidential", "restricted"]
FEATURES = ["channel", "device", "account_age", "velocity", "geo", "tenure"]
FLOOR = {0: MaskingMethod.none, 1: MaskingMethod.none, 2: MaskingMethod.tokenize}  # restricted: never


def synthetic_listings(domains: int, seed: int = 7) -> list[ProducerListing]:
    rng = random.Random(seed)
    listings = []
    for d in range(domains):
        columns = {"customer_id": ColumnFacts(type="string", classification="internal", sensitivity=1,
                                              pii="CUSTOMER_ID", refers_to="customer")}
        for c in range(rng.randint(4, 10)):
            rank = rng.choice([0, 1, 1, 2, 3])
            tags = ("feature", rng.choice(FEATURES)) if rng.random() < 0.5 else ("feature",)
            columns[f"col_{c}"] = ColumnFacts(type=rng.choice(["string", "float64", "timestamp"]),
                                              classification=CLASSES[rank], sensitivity=rank, tags=tags)
        listings.append(ProducerListing(
            producer=f"domain_{d:02d}", dataset="events", entity="customer", join_entities=("customer",),
            columns=columns, allowed_purposes=("fraud_detection",) if rng.random() < 0.8 else ("marketing",),
            allowed_environments=("preprod", "prod"), freshness_hours=rng.choice([1, 6, 24]),
        ))
    return listings


class BenchGate:
    def __init__(self, listings: list[ProducerListing]):
        self.listings = {(l.producer, l.dataset): l for l in listings}

    def evaluate(self, terms: ShareTerms) -> PolicyDecision:
        listing = self.listings[(terms.producer, terms.dataset)]
        share = []
        if terms.purpose not in listing.allowed_purposes:
            share.append("purpose_not_allowed")
        if terms.retention_days > 180 or terms.term_days > 180:
            share.append("retention_too_long")
        columns = {}
        for column, method in terms.columns.items():
            floor = FLOOR.get(listing.columns[column].sensitivity)
            reasons = list(share) + (["column_never_shared"] if floor is None else
                                     ["masking_too_weak"] if method.strength < floor.strength else [])
            columns[column] = ColumnDecision(allowed=not reasons, reasons=tuple(reasons))
        allowed = not share and all(c.allowed for c in columns.values())
        return PolicyDecision(allowed=allowed, columns=columns, reasons=tuple(share),
                              decision_id=hashlib.sha256(terms.canonical()).hexdigest()[:32],
                              bundle_sha256="bench", engine="bench-table")


class DictLedger:
    def __init__(self):
        self.entries: dict[str, LedgerReceipt] = {}

    def append(self, *, entry_type, actor, payload, negotiation_id=None, contract_id=None, entry_id=None):
        key = entry_id or f"auto-{len(self.entries)}"
        if key not in self.entries:
            self.entries[key] = LedgerReceipt(seq=len(self.entries), entry_hash=hashlib.sha256(key.encode()).hexdigest())
        return self.entries[key]

    def append_batch(self, entries):
        return [self.append(**e.model_dump()) for e in entries]


class BenchSigner:
    def __init__(self):
        self.keys: dict[str, Ed25519PrivateKey] = {}

    def sign(self, domain: str, message: bytes) -> SignatureBlock:
        if domain not in self.keys:
            self.keys[domain] = Ed25519PrivateKey.generate()
        key = self.keys[domain]
        return SignatureBlock(signer=domain, key_id=domain[:16], signature=base64.b64encode(key.sign(message)).decode())

    def verify(self, message: bytes, signature: SignatureBlock) -> None:
        self.keys[signature.signer].public_key().verify(base64.b64decode(signature.signature), message)


class Directory:
    def __init__(self, listings):
        self.all = listings

    def listings(self, need):
        return self.all


def need(i: int) -> NeedSpec:
    return NeedSpec(need_id=f"bench-{i}", consumer="risk", model="fraud_model", purpose="fraud_detection",
                    environment=Environment.preprod, join_entities=("customer",),
                    wanted={"channel": 0.4, "device": 0.3, "account_age": 0.3})


def measure(negotiator: Negotiator, runs: int, offset: int) -> tuple[list[float], list[str]]:
    latencies, outcomes = [], []
    for i in range(runs):
        started = time.perf_counter()
        report = negotiator.run(need(offset + i))
        latencies.append((time.perf_counter() - started) * 1000)
        outcomes.append(report.outcome.status)
    return latencies, outcomes


def summary(latencies: list[float]) -> dict:
    ordered = sorted(latencies)
    return {
        "runs": len(ordered),
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 2),
        "per_second": round(len(ordered) / (sum(ordered) / 1000), 1),
    }


def bench_context(domains: int) -> NegotiationContext:
    listings = synthetic_listings(domains)
    return NegotiationContext(gate=BenchGate(listings), ledger=DictLedger(), signer=BenchSigner(),
                              directory=Directory(listings))


def parallel_worker(domains: int, runs: int, offset: int, path: str, ready, start, results) -> None:
    with sqlite_checkpointer(path) as saver:
        durable = Negotiator(bench_context(domains), saver)
        measure(durable, 3, offset + 900_000)  # warm-up outside the timed window
        ready.wait()
        start.wait()
        began = time.time()
        measure(durable, runs, offset)
        results.put((began, time.time()))


def run_workers(target, args_of, workers: int, timeout: float) -> list[tuple]:
    """Start `workers` spawned processes of `target(*args_of(w), ready, start, results)`, release them
    together once all are warm, and return what each put on `results` (its first two fields: the wall
    clock when it began and ended)."""
    spawn = multiprocessing.get_context("spawn")
    ready, start, results = spawn.Barrier(workers + 1), spawn.Barrier(workers + 1), spawn.Queue()
    procs = [spawn.Process(target=target, args=(*args_of(w), ready, start, results)) for w in range(workers)]
    for proc in procs:
        proc.start()
    ready.wait()
    start.wait()
    spans = [results.get(timeout=timeout) for _ in procs]
    for proc in procs:
        proc.join()
    return spans


def wall_of(spans: list[tuple]) -> float:
    return max(span[1] for span in spans) - min(span[0] for span in spans)


def parallel_throughput(domains: int, runs: int, folder: Path, workers: int) -> dict:
    """Negotiations per second with `workers` processes, each on its own SQLite file and needs."""
    spans = run_workers(parallel_worker, lambda w: (domains, runs, 100_000 * (w + 1),
                                                    str(folder / f"parallel-{domains}-{w}.sqlite")), workers, 600)
    wall = wall_of(spans)
    return {"workers": workers, "runs": workers * runs, "per_second": round(workers * runs / wall, 1)}


def case(domains: int, runs: int, folder: Path, workers: int) -> dict:
    context = bench_context(domains)
    baseline = Negotiator(context)
    measure(baseline, 3, 10_000)  # warm-up: imports, graph compile, key generation
    base_latencies, _ = measure(baseline, runs, 20_000)
    with sqlite_checkpointer(folder / f"checkpoints-{domains}.sqlite") as saver:
        durable = Negotiator(context, saver)
        measure(durable, 3, 30_000)
        latencies, outcomes = measure(durable, runs, 0)
    result = summary(latencies)
    result["per_second_parallel"] = parallel_throughput(domains, runs, folder, workers)
    result["baseline_no_checkpointer"] = summary(base_latencies)
    result["checkpoint_overhead_ratio"] = round(result["p50_ms"] / result["baseline_no_checkpointer"]["p50_ms"], 2)
    result["outcomes"] = {status: outcomes.count(status) for status in sorted(set(outcomes))}
    result["listings"] = domains
    return result


PLATFORM_NEED = dict(consumer="risk", model="fraud_model", purpose="fraud_detection", environment=Environment.preprod,
                     join_entities=("transaction", "customer"), wanted={"channel": 0.4, "device": 0.3, "account_age": 0.3})


def provision_keys() -> None:
    """Each catalog domain's key and the exchange's, pinned in a trust root: `hurricane keys init`
    (keys are never created on use, so a fresh home has to be provisioned first)."""
    from hurricane_assets.catalog import load_catalog
    from hurricane_assets.identity import DefaultKeySource, init_trust_root

    init_trust_root(list(load_catalog().domains), DefaultKeySource())


def fill_ledger(home: Path, size: int) -> float:
    """A ledger of `size` entries in commits of 1,000 (as many negotiations would leave it); seconds."""
    from hurricane_assets.ledger import Ledger, LedgerAppend

    os.environ["HURRICANE_HOME"] = str(home)
    provision_keys()
    started = time.perf_counter()
    ledger = Ledger()
    for start in range(0, size, 1000):
        ledger.append_batch([
            LedgerAppend(entry_type="MESSAGE", actor="system:ledger", payload={"filler": i}, entry_id=f"fill-{i}")
            for i in range(start, min(size, start + 1000))
        ])
    return time.perf_counter() - started


def platform_negotiator(home: Path, checkpoints: Path):
    """The real platform as a long-running service has it: Cedar gate, a Delta ledger opened fresh
    (its id index already beside the home, so no full read), the domains' keys, SQLite checkpoints."""
    from hurricane_assets.negotiation_runtime import negotiator, platform_context

    os.environ["HURRICANE_HOME"] = str(home)
    return negotiator(platform_context(), checkpoints)


def measure_platform(n: Negotiator, runs: int, tag: str, cpu: list[float] | None = None) -> tuple[list[float], list[str]]:
    """Wall latencies (and, into `cpu`, this process's CPU milliseconds per negotiation: on a shared
    host the wall figure moves with the neighbours' load, the CPU figure much less)."""
    latencies, outcomes = [], []
    for i in range(runs):
        need_ = NeedSpec(need_id=f"platform-{tag}-{i}", **PLATFORM_NEED)
        started, started_cpu = time.perf_counter(), time.process_time()
        report = n.run(need_)
        latencies.append((time.perf_counter() - started) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - started_cpu) * 1000)
        outcomes.append(report.outcome.status)
    return latencies, outcomes


def platform_worker(home: str, runs: int, tag: str, ready, start, results) -> None:
    with platform_negotiator(Path(home), Path(home) / f"checkpoints-{tag}.sqlite") as n:
        measure_platform(n, 2, f"{tag}-warm")
        ready.wait()
        start.wait()
        began = time.time()
        cpu: list[float] = []
        measure_platform(n, runs, tag, cpu)
        results.put((began, time.time(), cpu))


def platform_parallel(home: Path, runs: int, workers: int, size: int) -> dict:
    """Negotiations per second with `workers` processes sharing one ledger (each its own checkpoints)."""
    spans = run_workers(platform_worker, lambda w: (str(home), runs, f"{size}-w{w}"), workers, 1200)
    wall = wall_of(spans)
    cpu = [ms for _, _, worker_cpu in spans for ms in worker_cpu]
    return {"workers": workers, "runs": workers * runs, "per_second": round(workers * runs / wall, 1),
            "cpu_p50_ms": round(statistics.median(cpu), 2)}


def platform_case(folder: Path, size: int, runs: int, workers: int) -> dict:
    home = folder / f"platform-{size}"
    home.mkdir()
    filled = fill_ledger(home, size)
    load = os.getloadavg()[0]
    with platform_negotiator(home, home / "checkpoints.sqlite") as n:
        measure_platform(n, 3, f"{size}-warm")
        cpu: list[float] = []
        latencies, outcomes = measure_platform(n, runs, str(size), cpu)
    result = summary(latencies)
    result["cpu_p50_ms"] = round(statistics.median(cpu), 2)
    result["cpu_mean_ms"] = round(statistics.fmean(cpu), 2)
    result["load_average_1m"] = round(load, 2)
    result["per_second_parallel"] = platform_parallel(home, runs, workers, size)
    result["outcomes"] = {status: outcomes.count(status) for status in sorted(set(outcomes))}
    result["ledger_entries_before"] = size
    result["ledger_fill_seconds"] = round(filled, 1)
    return result


def platform_floors(home: Path, runs: int) -> dict:
    """CPU ms per negotiation of the parts the issue requires and no negotiation logic can avoid, on
    the platform's own home after its runs: one ledger commit of a negotiation's entries (the same
    payloads and actors, fresh ids, into the same Delta ledger: chain, signature, commit, index) and
    one Ed25519 signature and one verification per protocol message with the sending domain's key."""
    from hurricane_assets.identity.keyring import KeyRing
    from hurricane_assets.ledger import Ledger, LedgerAppend
    from negotiation_graph.canonical import canonical_json

    os.environ["HURRICANE_HOME"] = str(home)
    ledger = Ledger()
    rows = ledger.read(["entry_id", "entry_type", "actor", "negotiation_id", "payload_json"]).to_pylist()
    last = next(r["negotiation_id"] for r in reversed(rows) if r["negotiation_id"])
    entries = [r for r in rows if r["negotiation_id"] == last]
    # the protocol messages among them, each signed by its sending domain (the payload holds its signature)
    signed = [json.loads(r["payload_json"]) for r in entries]
    signed = [(m.pop("signature")["signer"], m) for m in signed if isinstance(m.get("signature"), dict)]
    keyring = KeyRing()
    keys = {signer: keyring.key(signer) for signer in {signer for signer, _ in signed}}
    messages = [(keys[signer], keys[signer].public_key, canonical_json(m)) for signer, m in signed]
    commit_cpu, signature_cpu = [], []
    for i in range(runs + 2):
        batch = [LedgerAppend(entry_type=r["entry_type"], actor=r["actor"], negotiation_id=f"floor-{i}",
                              payload=json.loads(r["payload_json"]), entry_id=f"floor-{i}-{n}")
                 for n, r in enumerate(entries)]
        started = time.process_time()
        ledger.append_batch(batch)
        commit_cpu.append((time.process_time() - started) * 1000)
        started = time.process_time()
        for key, public, message in messages:
            public.verify(key.sign(message), message)
        signature_cpu.append((time.process_time() - started) * 1000)
    return {
        "entries_per_negotiation": len(entries),
        "messages_per_negotiation": len(messages),
        "ledger_commit_cpu_p50_ms": round(statistics.median(commit_cpu[2:]), 2),
        "one_signature_and_verification_per_message_cpu_p50_ms": round(statistics.median(signature_cpu[2:]), 2),
    }


def checkpoint_floor(runs: int, folder: Path) -> dict:
    """CPU ms of a graph with the negotiation's shape and no work (open, a 6-way Send, award, 7
    rounds, close, deliver): without a checkpointer, and with SQLite checkpoints under
    durability="sync" as the platform runs them. What no negotiation logic can go below."""
    import operator
    from typing import Annotated, TypedDict

    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Send

    # functional form: this module's annotations are strings, which a local class cannot resolve
    Shape = TypedDict("Shape", {"n": int, "xs": Annotated[list, operator.add]}, total=False)

    def route(state):
        return "round" if state["n"] < 7 else "close"

    graph = StateGraph(Shape)
    graph.add_node("open", lambda state: {"n": 0})
    graph.add_node("producer", lambda state: {"xs": [state["n"]]})
    graph.add_node("award", lambda state: {"n": 0})
    graph.add_node("round", lambda state: {"n": state["n"] + 1, "xs": [1]})
    graph.add_node("close", lambda state: {"xs": [2]})
    graph.add_node("deliver", lambda state: {"xs": [3]})
    graph.add_edge(START, "open")
    graph.add_conditional_edges("open", lambda state: [Send("producer", {"n": i}) for i in range(6)], ["producer"])
    graph.add_edge("producer", "award")
    graph.add_conditional_edges("award", route, ["round", "close"])
    graph.add_conditional_edges("round", route, ["round", "close"])
    graph.add_edge("close", "deliver")
    graph.add_edge("deliver", END)

    def cpu_p50(compiled, **kwargs) -> float:
        cpu = []
        for i in range(runs + 3):
            started = time.process_time()
            compiled.invoke({"n": 0}, {"configurable": {"thread_id": f"floor-{i}"}}, **kwargs)
            cpu.append((time.process_time() - started) * 1000)
        return round(statistics.median(cpu[3:]), 2)

    with sqlite_checkpointer(folder / "floor.sqlite") as saver:
        return {
            "no_checkpointer_cpu_p50_ms": cpu_p50(graph.compile()),
            "sqlite_sync_cpu_p50_ms": cpu_p50(graph.compile(checkpointer=saver), durability="sync"),
            "steps": 12,
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200, help="negotiations measured with 5 producer domains")
    parser.add_argument("--runs-50", type=int, default=40, help="negotiations measured with 50 producer domains")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes for the parallel throughput")
    parser.add_argument("--platform-runs", type=int, default=30, help="negotiations per ledger size on the real platform")
    parser.add_argument("--ledger-sizes", default="1000,100000", help="ledger entries before the platform runs")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="hurricane-bench-negotiation-"))
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    sizes = [int(x) for x in args.ledger_sizes.split(",")]
    platform_cases = {str(size): platform_case(folder, size, args.platform_runs, args.workers) for size in sizes}
    largest = platform_cases[str(max(sizes))]
    floors = platform_floors(folder / f"platform-{max(sizes)}", 15)
    cases = {"5": case(5, args.runs, folder, args.workers), "50": case(50, args.runs_50, folder, args.workers)}
    floor = checkpoint_floor(40, folder)
    floors["langgraph_sqlite_sync_cpu_p50_ms"] = floor["sqlite_sync_cpu_p50_ms"]
    floors["sum_cpu_ms"] = round(floors["ledger_commit_cpu_p50_ms"] + floors["langgraph_sqlite_sync_cpu_p50_ms"]
                                 + floors["one_signature_and_verification_per_message_cpu_p50_ms"], 1)
    # 50/s on `workers` cores leaves workers * 1000 / 50 ms of CPU per negotiation
    floors["cpu_budget_for_target_ms"] = round(args.workers * 1000 / 50, 1)
    five = cases["5"]
    result = {
        # the headline: what users run (Cedar gate, Delta ledger, domain keys, SQLite checkpoints)
        "platform": {
            "p50_ms": largest["p50_ms"],
            "per_second": largest["per_second_parallel"]["per_second"],
            "per_second_sequential": largest["per_second"],
            "ledger_sizes": {size: case_["p50_ms"] for size, case_ in platform_cases.items()},
            "flatness_ratio": round(largest["p50_ms"] / platform_cases[str(min(sizes))]["p50_ms"], 2),
            # CPU per negotiation moves much less with the neighbours' load than wall time does; with
            # `workers` cores the CPU figure bounds the throughput: workers * 1000 / cpu_p50_ms
            "cpu_p50_ms": largest["cpu_p50_ms"],
            "per_second_cpu_ceiling": round(args.workers * 1000 / largest["cpu_p50_ms"], 1),
            "ledger_sizes_cpu_p50_ms": {size: case_["cpu_p50_ms"] for size, case_ in platform_cases.items()},
            "load_average_1m": {size: case_["load_average_1m"] for size, case_ in platform_cases.items()},
            "need": "fraud need on the reference catalog (5 producer domains, 6 listings)",
            "ledger_commits": "one Delta commit per negotiation; small files compacted every 50 commits",
            # the same graph shape doing nothing: LangGraph's own cost per negotiation, same run
            "langgraph_floor": floor,
            # what the required parts alone cost (same run): SQLite checkpoints of the graph's steps, one
            # ledger commit, one signature and one verification per message; no negotiation logic
            "floors": floors,
            "cases": platform_cases,
        },
        # the second line: the graph alone (in-bench table gate, in-memory ledger)
        "p50_ms": five["p50_ms"],
        "p99_ms": five["p99_ms"],
        "per_second": five["per_second"],
        "per_second_parallel": five["per_second_parallel"]["per_second"],
        "target": {"p50_ms_below": 50, "per_second_at_least": 50},
        "gate": "in-bench table gate (not Cedar)",
        "checkpointer": "SqliteSaver, durability=sync, strict msgpack",
        "cases": cases,
        "bench_seconds": round(time.perf_counter() - started, 1),
        # the host is shared: a load average above the core count means noisy figures
        "machine": machine(load_average_1m_before=load_before),
    }
    write_results("negotiation", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
