"""`Definitions` of the exchange location, built from the contract registry and the model specs.

`build_exchange_definitions()` is also what the demo and the end-to-end test call after each
contract change, so the in-process path and `make ui` share one code path.
"""

import dagster as dg

from hurricane_assets.dagster_layer.resources import shared_resources
from hurricane_assets.exchange.jobs import judge_shares_job, share_lifecycle_job, share_lifecycle_schedule
from hurricane_assets.exchange.negotiations import negotiation_job, negotiations
from hurricane_assets.exchange.run_platform import RunPlatform
from hurricane_assets.exchange.sensors import (
    build_data_need_sensor,
    build_share_delivery_sensor,
    build_share_judge_sensor,
)
from hurricane_assets.exchange.shares import SHARES_GROUP, build_share_assets
from hurricane_assets.exchange.watch import monitor_keys, share_uplift_keys


def build_exchange_definitions() -> dg.Definitions:
    shares = build_share_assets()
    deliver_shares = dg.define_asset_job(
        "deliver_shares", selection=dg.AssetSelection.groups(SHARES_GROUP), description="Deliver active shares."
    )
    share_keys = [key for asset in shares for key in asset.keys]
    return dg.Definitions(
        assets=[negotiations, *shares],
        jobs=[negotiation_job, deliver_shares, judge_shares_job, share_lifecycle_job],
        sensors=[
            build_data_need_sensor(monitor_keys),
            build_share_delivery_sensor(share_keys, deliver_shares),
            build_share_judge_sensor(share_uplift_keys),
        ],
        schedules=[share_lifecycle_schedule],
        resources={**shared_resources(), "exchange": RunPlatform()},
        # every exchange run in its one process: a negotiation, a judgement and a sweep are one step
        # each, and a delivery's shares share one platform build and the consumer tables' reads; a
        # process per step (Dagster's default) cost a 100k delivery run 9 s of start-ups for 2 s of
        # work. Deliveries too large for one process scale out by runs (partitions), not by steps.
        executor=dg.in_process_executor,
    )


defs = build_exchange_definitions()
