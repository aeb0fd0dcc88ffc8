"""The support code location: its prod datasets, their checks and masked lower-environment copies."""

from domains.reference_world import dataset_generator
from hurricane_assets.dagster_layer.domain import build_domain_definitions

defs = build_domain_definitions("support", dataset_generator("support"))
