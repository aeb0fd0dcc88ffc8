"""The marketing code location: its prod datasets, their checks and masked lower-environment copies, and
its models with their monitors (trained on its own preprod data plus its active shares)."""

from domains.reference_world import dataset_generator
from hurricane_assets.dagster_layer.domain import build_domain_definitions
from hurricane_assets.dagster_layer.models import active_shares, build_model_definitions

model_assets, model_sensors = build_model_definitions("marketing", active_shares)
defs = build_domain_definitions("marketing", dataset_generator("marketing"), extra_assets=model_assets, extra_sensors=model_sensors)
