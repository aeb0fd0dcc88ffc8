"""One sensor tick, in process: what `dagster-daemon` does, for the embedded demo and the tests.

Evaluates the real sensor against the real instance, applies its dynamic-partition requests, skips
run requests whose run key this sensor already launched (the daemon's de-duplication), executes the
rest as real runs in this process, and stores the cursor in the instance.
"""

from dataclasses import dataclass, field

import dagster as dg

CURSOR_PREFIX = "hurricane/sensor_cursor/"


@dataclass
class Tick:
    sensor: str
    requested: int = 0
    skipped_run_keys: list[str] = field(default_factory=list)
    results: list[dg.ExecuteInProcessResult] = field(default_factory=list)
    skip_reason: str | None = None

    @property
    def success(self) -> bool:
        return all(r.success for r in self.results)


def _launched(instance: dg.DagsterInstance, sensor: str, run_key: str) -> bool:
    runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/sensor_name": sensor, "dagster/run_key": run_key}), limit=1)
    return bool(runs)


def _job_for(defs: dg.Definitions, sensor: dg.SensorDefinition, request: dg.RunRequest) -> dg.JobDefinition:
    name = request.job_name or sensor.job_name
    return defs.resolve_job_def(name)


def run_sensor_tick(defs: dg.Definitions, sensor_name: str, instance: dg.DagsterInstance,
                    run_config_overrides: dict | None = None) -> Tick:
    sensor = next(s for s in defs.sensors if s.name == sensor_name)
    cursor_key = CURSOR_PREFIX + sensor_name
    cursor = instance.run_storage.get_cursor_values({cursor_key}).get(cursor_key)
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
    outcome = sensor(context)
    tick = Tick(sensor_name)
    new_cursor = context.cursor  # a sensor may have called context.update_cursor
    if isinstance(outcome, dg.SkipReason):
        tick.skip_reason = outcome.skip_message
        requests = []
    elif isinstance(outcome, dg.SensorResult):
        for partitions in outcome.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(partitions.partitions_def_name, list(partitions.partition_keys))
        requests = list(outcome.run_requests or [])
        if outcome.cursor is not None:
            new_cursor = outcome.cursor
        if outcome.skip_reason:
            tick.skip_reason = outcome.skip_reason.skip_message
    else:
        requests = list(outcome or [])
    tick.requested = len(requests)
    for request in requests:
        if request.run_key and _launched(instance, sensor_name, request.run_key):
            tick.skipped_run_keys.append(request.run_key)
            continue
        tags = {**(request.tags or {}), "dagster/sensor_name": sensor_name}
        if request.run_key:
            tags["dagster/run_key"] = request.run_key
        run_config = dict(request.run_config or {})
        if run_config_overrides:
            run_config = {**run_config_overrides, **run_config}
        tick.results.append(
            _job_for(defs, sensor, request).execute_in_process(
                run_config=run_config,
                instance=instance,
                partition_key=request.partition_key,
                asset_selection=list(request.asset_selection) if request.asset_selection else None,
                tags=tags,
                raise_on_error=False,
            )
        )
    if new_cursor is not None:
        instance.run_storage.set_cursor_values({cursor_key: new_cursor})
    return tick
