"""Deal quality against the field: our strategies against NegMAS's own agents, in NegMAS.

Scenarios: the demo's fraud need (channel, device, account_age; preprod) against every listing of
the reference catalog its Cedar policies leave something to bargain over (payments.transactions,
customers.profiles; support.tickets serves none of its features), with the platform's reservations,
plus generated scenarios (random listings, masking floors, retention/term caps, asks, weights and
reservations of both sides; some have no zone of agreement) under a table gate.

Agents, each in both roles (every ordered producer x consumer pairing; the producer opens):
ours `rules` (the platform default) and `llm-stub` (the LLM selector with a deterministic
in-process model that always picks the firmest of its K candidates, no server), NegMAS's
`Aspiration`, `Boulware`, `Conceder`, `Linear` (time-based) and `NaiveTitForTat`. Our agents offer
only points of the platform's concession path; NegMAS's may offer any outcome of the space.

Per pairing: agreement rate where a zone of agreement exists, mean distance of the agreements to
the Pareto frontier and to the Nash point (utilities normalised to [0, 1] per scenario), mean
social welfare (sum of both normalised utilities; a failed negotiation counts both reservation
values) and mean steps. "Ours" pools the pairings where both sides run our strategies (what the
platform does); `welfare_vs_best_negmas` divides its mean welfare by the best NegMAS-vs-NegMAS
pairing's on the same scenarios.

Run: `.venv/bin/python bench/negotiation_quality.py [--scenarios 60] [--steps 20] [--seed 11]`
Writes bench/results/negotiation_quality.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import sys
import time
import warnings
from collections import Counter
from dataclasses import replace
from pathlib import Path

from results_file import machine, write_results

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from negmas import (  # noqa: E402
    AspirationNegotiator,
    BoulwareTBNegotiator,
    ConcederTBNegotiator,
    LinearTBNegotiator,
    NaiveTitForTatNegotiator,
)
from negmas.warnings import NegmasWarning  # noqa: E402

from negotiation_graph.negmas_adapter import (  # noqa: E402
    Scenario,
    StrategyNegotiator,
    build_scenario,
    play,
    scenario_frontier,
)
from negotiation_graph.ports import ColumnDecision, ColumnFacts, PolicyDecision, ProducerListing  # noqa: E402
from negotiation_graph.strategies import RuleStrategy  # noqa: E402
from negotiation_graph.strategies.llm import Choice, LLMStrategy  # noqa: E402
from negotiation_graph.terms import Environment, MaskingMethod, NeedSpec, ShareTerms  # noqa: E402

CLASSES = ["public", "internal", "confidential", "restricted"]
FEATURES = ["channel", "device", "account_age", "velocity", "geo", "tenure", "amount", "merchant"]
PII = [None, None, None, "EMAIL_ADDRESS", "PHONE_NUMBER", "DATE_OF_BIRTH", "LOCATION"]
OURS = ("rules", "llm-stub")


class FirmestModel:
    """A deterministic stand-in for a chat model: always the firmest of the candidates it is shown
    (the candidates are listed `n: ...`, the rule's own choice first)."""

    def with_structured_output(self, schema, method):
        return self

    def invoke(self, messages) -> Choice:
        listed = [line for line in messages[-1][1].splitlines() if line.split(":", 1)[0].isdigit()]
        return Choice(index=len(listed) - 1, rationale="the firmest candidate")


def agent(kind: str, role: str, scenario: Scenario):
    if kind == "rules":
        return StrategyNegotiator(RuleStrategy(), role, scenario)
    if kind == "llm-stub":
        return StrategyNegotiator(LLMStrategy(FirmestModel()), role, scenario)
    negmas_class = {
        "Aspiration": AspirationNegotiator,
        "Boulware": BoulwareTBNegotiator,
        "Conceder": ConcederTBNegotiator,
        "Linear": LinearTBNegotiator,
        "NaiveTitForTat": NaiveTitForTatNegotiator,
    }[kind]
    return negmas_class(ufun=scenario.ufun(role), name=f"{kind}-{role}")


AGENTS = (*OURS, "Aspiration", "Boulware", "Conceder", "Linear", "NaiveTitForTat")


class TableGate:
    """Generated scenarios' policy: a masking floor per classification (restricted never shared),
    caps on retention and term per listing, the listing's purposes."""

    def __init__(self, listings: list[ProducerListing], floors: dict[str, dict[int, MaskingMethod | None]],
                 caps: dict[str, int]):
        self.listings = {l.producer: l for l in listings}
        self.floors, self.caps = floors, caps

    def evaluate(self, terms: ShareTerms) -> PolicyDecision:
        listing = self.listings[terms.producer]
        share = []
        if terms.purpose not in listing.allowed_purposes:
            share.append("purpose_not_allowed")
        if max(terms.retention_days, terms.term_days) > self.caps[terms.producer]:
            share.append("retention_too_long")
        columns = {}
        for column, method in terms.columns.items():
            floor = self.floors[terms.producer].get(listing.columns[column].sensitivity)
            reasons = [*share] + (["column_never_shared"] if floor is None else
                                  ["masking_too_weak"] if method.strength < floor.strength else [])
            columns[column] = ColumnDecision(allowed=not reasons, reasons=tuple(reasons))
        return PolicyDecision(allowed=not share and all(c.allowed for c in columns.values()), columns=columns,
                              reasons=tuple(share), decision_id=hashlib.sha256(terms.canonical()).hexdigest()[:32],
                              bundle_sha256="bench", engine="bench-table")


def generated(seed: int) -> Scenario | None:
    rng = random.Random(seed)
    wanted_features = rng.sample(FEATURES, rng.randint(2, 4))
    weights = [rng.uniform(0.2, 1.0) for _ in wanted_features]
    need = NeedSpec(
        need_id=f"gen-{seed}", consumer="risk", model="fraud_model", purpose="fraud_detection",
        environment=rng.choice([Environment.dev, Environment.preprod, Environment.prod]),
        join_entities=("customer",),
        wanted={f: round(w / sum(weights), 3) for f, w in zip(wanted_features, weights, strict=True)},
        freshness_hours=rng.choice([1, 6, 24]), retention_days=rng.choice([30, 90, 180, 365]),
        term_days=rng.choice([30, 90, 180, 365]),
    )
    columns = {"customer_id": ColumnFacts(type="string", classification="internal", sensitivity=1,
                                          pii="CUSTOMER_ID", refers_to="customer")}
    for c in range(rng.randint(3, 8)):
        rank = rng.choice([0, 1, 1, 2, 2, 3])
        feature = rng.choice(wanted_features + FEATURES)
        columns[f"col_{c}"] = ColumnFacts(type=rng.choice(["string", "float64", "timestamp", "date"]),
                                          classification=CLASSES[rank], sensitivity=rank,
                                          pii=rng.choice(PII), tags=("feature", feature))
    producer = f"domain_{seed}"
    listing = ProducerListing(producer=producer, dataset="events", entity="customer", join_entities=("customer",),
                              columns=columns, allowed_purposes=("fraud_detection",),
                              allowed_environments=("dev", "preprod", "prod"), freshness_hours=rng.choice([1, 6, 24]))
    floors = {0: MaskingMethod.none, 1: rng.choice([MaskingMethod.none, MaskingMethod.tokenize]),
              2: rng.choice([MaskingMethod.tokenize, MaskingMethod.format_preserving, MaskingMethod.generalize]),
              3: rng.choice([None, MaskingMethod.generalize])}
    gate = TableGate([listing], {producer: floors}, {producer: rng.choice([60, 180, 400])})
    scenario = build_scenario(gate, need, listing, name=f"generated-{seed}", consumer_share=rng.uniform(0.2, 0.7))
    if scenario is None:
        return None
    # the producer's walk-away point: a random share of the way from its worst to its best outcome
    risks = scenario.raw["producer"].values()
    floor = min(risks) + rng.uniform(0.0, 0.8) * (max(risks) - min(risks))
    return replace(scenario, producer_reservation=floor)


def demo_scenarios() -> list[Scenario]:
    from hurricane_assets.catalog import load_catalog
    from hurricane_assets.negotiation_runtime import CatalogDirectory
    from hurricane_assets.policy.gate import CedarPolicyGate

    need = NeedSpec(need_id="fraud-model-drift-1", consumer="risk", model="fraud_model", purpose="fraud_detection",
                    environment=Environment.preprod, join_entities=("customer", "transaction"),
                    wanted={"channel": 0.4, "device": 0.3, "account_age": 0.3})
    catalog = load_catalog()
    gate = CedarPolicyGate(catalog)
    found = []
    for listing in CatalogDirectory(catalog).listings(need):
        scenario = build_scenario(gate, need, listing, name=f"demo:{listing.producer}.{listing.dataset}")
        if scenario is not None:
            found.append(scenario)
    return found


def mean(values) -> float | None:
    values = list(values)
    return round(statistics.fmean(values), 4) if values else None


def summarise(rows: list[dict]) -> dict:
    zone = [r for r in rows if r["zone"]]
    agreed = [r for r in rows if r["agreed"]]
    return {
        "negotiations": len(rows),
        "with_zone_of_agreement": len(zone),
        "agreement_rate": mean(r["agreed"] for r in zone),
        "agreement_rate_all": mean(r["agreed"] for r in rows),
        "pareto_distance_mean": mean(r["pareto_distance"] for r in agreed if r["pareto_distance"] is not None),
        "nash_distance_mean": mean(r["nash_distance"] for r in agreed if r["nash_distance"] is not None),
        "welfare_mean": mean(r["welfare"] for r in rows),
        "welfare_agreed_mean": mean(r["welfare"] for r in agreed),
        "steps_mean": mean(r["steps"] for r in rows),
        "invalid_agreements": sum(r["agreed"] and not r["valid"] for r in rows),
        "below_reservation_by": dict(sorted(Counter(b for r in rows for b in r["below"]).items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenarios", type=int, default=60, help="generated scenarios (plus the demo's)")
    parser.add_argument("--steps", type=int, default=20, help="SAO steps (each side moves once per step)")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    # NegMAS warns about every scenario where one side's reservation is above all it can get
    warnings.simplefilter("ignore", NegmasWarning)
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    scenarios = demo_scenarios()
    demo_count = len(scenarios)
    seed = args.seed * 1000
    skipped = 0
    while len(scenarios) < demo_count + args.scenarios:
        scenario = generated(seed)
        seed += 1
        if scenario is None:
            skipped += 1
        else:
            scenarios.append(scenario)
    rows: dict[tuple[str, str], list[dict]] = {(p, c): [] for p in AGENTS for c in AGENTS}
    path_zone = 0
    for scenario in scenarios:
        front = scenario_frontier(scenario)
        zone = scenario.has_zone_of_agreement
        path_zone += any(scenario.acceptable(o) for o in scenario.path)
        for producer in AGENTS:
            for consumer in AGENTS:
                result = play(scenario, agent(producer, "producer", scenario), agent(consumer, "consumer", scenario),
                              args.steps)
                point = (result.consumer, result.producer)
                rows[(producer, consumer)].append({
                    "scenario": scenario.name,
                    "zone": zone,
                    "agreed": result.agreement is not None,
                    "valid": result.agreement is None or scenario.acceptable(result.agreement),
                    # who took a deal below its own reservation (NegMAS's tit-for-tat ignores it)
                    "below": [] if result.agreement is None else [
                        f"{role}:{kind}" for role, kind in (("producer", producer), ("consumer", consumer))
                        if scenario.raw[role][result.agreement] < scenario.reservation_raw(role) - 1e-9],
                    "pareto_distance": front.distance(point) if result.agreement is not None else None,
                    "nash_distance": front.nash_distance(point) if result.agreement is not None else None,
                    "welfare": result.welfare,
                    "steps": result.steps,
                })
    pairings = {f"{p} vs {c}": summarise(r) for (p, c), r in rows.items()}
    ours_rows = [row for (p, c), r in rows.items() if p in OURS and c in OURS for row in r]
    mixed_rows = [row for (p, c), r in rows.items() if (p in OURS) != (c in OURS) for row in r]
    negmas_only = {k: v for k, v in pairings.items() if not any(k.startswith(o) or k.endswith(o) for o in OURS)}
    best_name, best = max(negmas_only.items(), key=lambda kv: kv[1]["welfare_mean"])
    ours = summarise(ours_rows)
    rules = pairings["rules vs rules"]
    demo_rows = {r["scenario"]: {k: r[k] for k in ("agreed", "pareto_distance", "nash_distance", "welfare", "steps")}
                 for r in rows[("rules", "rules")] if r["scenario"].startswith("demo:")}
    result = {
        # ours: pooled over the pairings where both sides run our strategies (rules, llm-stub)
        "agreement_rate": ours["agreement_rate"],
        "pareto_distance_mean": ours["pareto_distance_mean"],
        "nash_distance_mean": ours["nash_distance_mean"],
        "welfare_mean": ours["welfare_mean"],
        "welfare_vs_best_negmas": round(ours["welfare_mean"] / best["welfare_mean"], 4),
        "best_negmas_pairing": best_name,
        "best_negmas_welfare_mean": best["welfare_mean"],
        "rules_vs_rules": rules | {"welfare_vs_best_negmas": round(rules["welfare_mean"] / best["welfare_mean"], 4)},
        "ours_vs_negmas": summarise(mixed_rows),
        "targets": {"agreement_rate_at_least": 0.95, "pareto_distance_mean_at_most": 0.05,
                    "welfare_vs_best_negmas_above": 1.0},
        # deals our strategies took below their own reservation, over every pairing (must be 0)
        "ours_below_reservation": sum(1 for r in rows.values() for row in r for b in row["below"]
                                      if b.split(":")[1] in OURS),
        "targets_met": {
            "agreement_rate": ours["agreement_rate"] is not None and ours["agreement_rate"] >= 0.95,
            "pareto_distance_mean": ours["pareto_distance_mean"] is not None and ours["pareto_distance_mean"] <= 0.05,
            "welfare_vs_best_negmas": ours["welfare_mean"] > best["welfare_mean"],
        },
        "demo": demo_rows,
        "scenarios": {
            "demo": demo_count,
            "generated": len(scenarios) - demo_count,
            "generated_skipped_no_bargain": skipped,
            "with_zone_of_agreement": sum(s.has_zone_of_agreement for s in scenarios),
            "with_zone_on_concession_path": path_zone,
            "outcomes_mean": mean(len(s.outcomes) for s in scenarios),
            "seed": args.seed,
        },
        "steps": args.steps,
        "agents": {"ours": list(OURS), "negmas": [a for a in AGENTS if a not in OURS]},
        "llm": "llm-stub: LLMStrategy with a deterministic in-process model (always the firmest of K=3 candidates)",
        "pairings": pairings,
        "negmas_version": __import__("negmas").__version__,
        "bench_seconds": round(time.perf_counter() - started, 1),
        "machine": machine(load_average_1m_before=load_before),
    }
    write_results("negotiation_quality", result)
    print(json.dumps({k: v for k, v in result.items() if k != "pairings"}, indent=2))


if __name__ == "__main__":
    main()
