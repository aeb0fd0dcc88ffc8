"""Data Hurricane platform library: catalog, storage, masking, governance, monitoring, delivery.

The pure core (no Dagster import) lives in the sub-packages named for what they hold; the Dagster
layer lives in `hurricane_assets.dagster_layer` and the exchange code location in
`hurricane_assets.exchange`.
"""
