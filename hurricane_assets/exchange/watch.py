"""What the exchange watches: every consumer domain's models and their monitors, from the model
specs (`domains/<name>/models.yaml`), found through the catalog, not by domain name."""

import dagster as dg

from hurricane_assets.catalog import load_catalog
from hurricane_assets.catalog.catalog import default_domains_dir


def _specs():
    from hurricane_assets.models.spec import load_model_specs

    root = default_domains_dir()
    for domain in load_catalog().domains:
        if (root / domain / "models.yaml").exists():
            for name, spec in load_model_specs(domain).items():
                yield domain, name, spec


def model_keys() -> list[dg.AssetKey]:
    return [dg.AssetKey([domain, name]) for domain, name, _ in _specs()]


def monitor_keys() -> list[dg.AssetKey]:
    return [dg.AssetKey([domain, f"{name}_monitor"]) for domain, name, _ in _specs()]


def share_uplift_keys() -> list[dg.AssetKey]:
    """The per-share ablation of every model (materialized only while the model has shares)."""
    return [dg.AssetKey([domain, f"{name}_share_uplift"]) for domain, name, _ in _specs()]
