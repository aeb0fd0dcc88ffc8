"""Seeded synthetic data for every domain of the reference bank-and-shop, with a designed drift.

    from hurricane_assets.synthetic import SyntheticConfig, generate, generate_dataset
    frames = generate(SyntheticConfig(transactions=20_000, seed=7, drift_days=30))

See docs/synthetic.md for the data, the drift signal and the measured model consequences.
"""

from hurricane_assets.synthetic.config import SyntheticConfig, SyntheticConfigError
from hurricane_assets.synthetic.generator import generate, generate_dataset

__all__ = ["SyntheticConfig", "SyntheticConfigError", "generate", "generate_dataset"]
