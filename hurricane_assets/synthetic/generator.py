"""Which function builds which (domain, dataset), and the two public entry points."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from hurricane_assets.catalog import load_catalog
from hurricane_assets.synthetic import marketing, risk, support
from hurricane_assets.synthetic.config import SyntheticConfig
from hurricane_assets.synthetic.customers import customer_base
from hurricane_assets.synthetic.frames import conform
from hurricane_assets.synthetic.payments import payment_flow

BUILDERS: dict[tuple[str, str], Callable[[SyntheticConfig], pd.DataFrame]] = {
    ("customers", "profiles"): lambda config: customer_base(config).profiles,
    ("payments", "transactions"): lambda config: payment_flow(config).transactions,
    ("payments", "chargebacks"): lambda config: payment_flow(config).chargebacks,
    ("marketing", "web_sessions"): marketing.web_sessions,
    ("marketing", "churn_labels"): marketing.churn_labels,
    ("risk", "alerts"): risk.alerts,
    ("risk", "fraud_labels"): risk.fraud_labels,
    ("support", "tickets"): support.tickets,
}


def generate_dataset(config: SyntheticConfig, domain: str, dataset: str) -> pd.DataFrame:
    """One dataset of the synthetic world, shaped exactly as its manifest declares.

    The shared world (customers, payments) is cached per config, so calling this for every dataset
    builds it once. Returns a fresh frame each call: callers may mutate it.
    """
    try:
        build = BUILDERS[(domain, dataset)]
    except KeyError:
        known = ", ".join(f"{d}.{s}" for d, s in sorted(BUILDERS))
        raise KeyError(f"no synthetic generator for {domain}.{dataset}; known: {known}") from None
    spec = load_catalog().dataset(domain, dataset)
    return conform(build(config.resolved()), spec, where=f"{domain}.{dataset}")


def generate(config: SyntheticConfig) -> dict[tuple[str, str], pd.DataFrame]:
    """Every dataset the generator knows, keyed by (domain, dataset)."""
    config = config.resolved()
    return {key: generate_dataset(config, *key) for key in sorted(BUILDERS)}
