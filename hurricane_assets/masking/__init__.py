"""Masking of production data for lower environments: keyed, deterministic, type- and null-preserving.

Pure core (no Dagster): operators (Presidio-compatible), plans derived from manifests and contracts,
the distinct-value engine over Arrow, the privacy report with its k-anonymity gate, and
`copy_masked`, which turns a prod Delta table into a masked lower-environment Delta table.
"""
