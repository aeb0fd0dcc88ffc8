"""Asset keys: exactly `[domain, dataset]`, so the Delta IO manager writes `<root>/<domain>/<dataset>`."""

from __future__ import annotations

import dagster as dg


def domain_key(domain: str, dataset: str) -> dg.AssetKey:
    return dg.AssetKey([domain, dataset])


def copy_key(domain: str, dataset: str, env: str) -> dg.AssetKey:
    """The masked copy of a prod dataset in a lower environment, e.g. `customers/profiles_preprod`."""
    return dg.AssetKey([domain, f"{dataset}_{env}"])
