"""The reference organisation's source systems, simulated: the upstream every domain ingests from.

Not a domain: each domain's `assets.py`/`definitions.py` asks it for its own datasets only, so the
data stay referentially consistent across domains (customers ↔ transactions ↔ tickets) without one
domain reading another's folder or storage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from hurricane_assets.dagster_layer.resources import SyntheticSource
    from hurricane_assets.synthetic import SyntheticConfig


def config_from(source: SyntheticSource) -> SyntheticConfig:
    from hurricane_assets.synthetic import SyntheticConfig

    return SyntheticConfig(
        transactions=source.transactions,
        seed=source.seed,
        as_of=source.as_of_datetime(),
        history_days=source.history_days,
        drift_days=source.drift_days,
    )


def dataset_generator(domain: str):
    """The generator function a domain hands to the asset factory (imported lazily: the generator
    is only needed when an asset runs, not when the code location loads)."""

    def generate_for(source: SyntheticSource, dataset: str) -> pd.DataFrame:
        from hurricane_assets.synthetic import generate_dataset

        return generate_dataset(config_from(source), domain, dataset)

    return generate_for
