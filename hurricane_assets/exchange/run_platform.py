"""The exchange's parts for one run: built when the run starts, shared by every share it delivers.

A delivery run writes several shares; each needs the catalog, the Cedar gate, the agents' signer and
the ledger, and measures its join rate against the same consumer tables. Built per run, not per
process: a key rotated or a contract signed between runs is seen by the next run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg
from pydantic import PrivateAttr

if TYPE_CHECKING:
    from hurricane_assets.delivery.join_match import ConsumerKeys
    from hurricane_assets.sharing.platform import SharingPlatform


class RunPlatform(dg.ConfigurableResource):
    """`platform`: the `SharingPlatform` from `$HURRICANE_HOME`; `consumer_keys`: the consumer tables'
    join keys, read once per table version in this run. Dagster initializes a copy of the resource for
    each run, so both start empty in every run (`test_run_platform.py`)."""

    _platform: SharingPlatform | None = PrivateAttr(default=None)
    _consumer_keys: ConsumerKeys | None = PrivateAttr(default=None)

    @property
    def platform(self) -> SharingPlatform:
        # imported on use: policy and masking must not slow the location's import
        from hurricane_assets.sharing.platform import SharingPlatform

        if self._platform is None:
            self._platform = SharingPlatform.from_environment()
        return self._platform

    @property
    def consumer_keys(self) -> ConsumerKeys:
        from hurricane_assets.delivery.join_match import ConsumerKeys

        if self._consumer_keys is None:
            self._consumer_keys = ConsumerKeys()
        return self._consumer_keys
