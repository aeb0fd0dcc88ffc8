"""One folder per business unit: manifest, Cedar policy, prod assets, models, definitions."""
