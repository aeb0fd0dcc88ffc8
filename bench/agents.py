"""Cost of domains as separate principals: one fraud-model negotiation (the reference catalog, Cedar,
the Delta ledger, SQLite checkpoints) signed by (a) the shared-home `Signer` (baseline, same run),
(b) one in-process agent per domain (envelopes both ways; the embedded default), (c) five A2A agent processes over HTTP on
127.0.0.1. Also the agents' start: wall seconds until all five answer, and CPU seconds per process.

Run: `.venv/bin/python bench/agents.py [--runs 5]`. Writes bench/results/agents.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from results_file import machine, write_results

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from negotiation_graph.context import fixed_clock  # noqa: E402
from negotiation_graph.terms import Environment, NeedSpec  # noqa: E402

DOMAINS = ("customers", "marketing", "payments", "risk", "support")
NEED = dict(consumer="risk", model="fraud_model", purpose="fraud_detection", environment=Environment.preprod,
            join_entities=("customer", "transaction"), wanted={"channel": 0.4, "device": 0.3, "account_age": 0.3})


class SharedSigner:
    """The baseline, what the embedded default was before the agents: one `Signer` loading every
    domain's key from the home, and a ledger signing entries with the actors' keys."""

    def __init__(self):
        from hurricane_assets.identity import Signer
        from hurricane_assets.ledger import Ledger

        self.signer, self.ledger = Signer(), Ledger()
        self.in_process = True  # no network between the parties: the producers answer in one thread


def negotiate(tag: str, runs: int, exchange) -> list[float]:
    from datetime import UTC, datetime

    from hurricane_assets.negotiation_runtime import run_negotiation

    latencies = []
    for i in range(runs):
        started = time.perf_counter()
        report = run_negotiation(NeedSpec(need_id=f"{tag}-{i}", **NEED), exchange=exchange,
                                 clock=fixed_clock(datetime(2026, 1, 5, 9, tzinfo=UTC)))
        latencies.append((time.perf_counter() - started) * 1000)
        assert report.outcome.status == "agreed", report.outcome
    return latencies


def summary(latencies: list[float]) -> dict:
    return {"runs": len(latencies), "median_ms": round(statistics.median(latencies), 1),
            "best_ms": round(min(latencies), 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-agents-")) / "hurricane"
    os.environ["HURRICANE_HOME"] = str(home)
    os.environ.setdefault("HURRICANE_NOW", "2026-03-14T15:27:00+00:00")
    from hurricane_assets.agents.exchange import Exchange
    from hurricane_assets.identity import DefaultKeySource, init_trust_root

    init_trust_root(list(DOMAINS), DefaultKeySource())
    negotiate("warmup", 1, SharedSigner())  # imports, Cedar, the ledger's first commit
    shared = negotiate("shared", args.runs, SharedSigner())
    embedded = negotiate("embedded", args.runs, Exchange.embedded())
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.hurricane_assets.agents.agent_processes import agent_processes

    started = time.perf_counter()
    with agent_processes(DOMAINS, home) as agents:
        start_s = time.perf_counter() - started
        cpu = []
        for _, process in agents.values():
            fields = open(f"/proc/{process.pid}/stat").read().rsplit(")", 1)[1].split()
            cpu.append((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
        http = negotiate("http", args.runs, Exchange.over_http({d: u for d, (u, _) in agents.items()}))
    figures = {
        "what": "one fraud-model negotiation (28 domain signatures), sequential",
        "shared_signer_baseline": summary(shared),
        "embedded_agents": summary(embedded) | {"ratio_to_baseline": round(statistics.median(embedded) / statistics.median(shared), 2)},
        "a2a_http_agents": summary(http) | {"ratio_to_baseline": round(statistics.median(http) / statistics.median(shared), 2)},
        "agents_start": {"processes": len(DOMAINS), "wall_s_until_all_answer": round(start_s, 1),
                         "cpu_s_per_process": round(statistics.mean(cpu), 2)},
        "machine": machine(),
    }
    print(write_results("agents", figures))
    import json

    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
