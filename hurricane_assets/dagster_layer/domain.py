"""`Definitions` for one domain's code location, assembled the same way for every domain."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from hurricane_assets.catalog import load_catalog
from hurricane_assets.dagster_layer.factory import GenerateFn, build_domain_assets
from hurricane_assets.dagster_layer.resources import shared_resources


def build_domain_definitions(
    domain: str,
    generate: GenerateFn,
    *,
    extra_assets: Sequence = (),
    extra_checks: Sequence = (),
    extra_sensors: Sequence = (),
    extra_jobs: Sequence = (),
) -> dg.Definitions:
    product = load_catalog().product(domain)
    assets, checks = build_domain_assets(product, generate)
    prod_job = dg.define_asset_job(
        f"{domain}_prod",
        selection=dg.AssetSelection.groups(domain),
        description=f"Materialize every {domain} dataset, its checks and its masked copies.",
    )
    return dg.Definitions(
        assets=[*assets, *extra_assets],
        asset_checks=[*checks, *extra_checks],
        sensors=list(extra_sensors),
        jobs=[prod_job, *extra_jobs],
        resources=shared_resources(domain),
    )
