"""Time to data: from the failed monitor check to the retrained model, on the embedded loop.

Per size, in a fresh temp `$HURRICANE_HOME` with its own Dagster instance (`hurricane_instance()`),
`EmbeddedLoop` runs the loop as real in-process Dagster runs. Measured (counted in `seconds`):

- negotiation: the data-need sensor tick, including the negotiation run it launches;
- delivery: the share-delivery sensor tick, including one share run per contract;
- retrain: the model step after delivery: the models fed by the shares retrained once on their data
  plus the shares and stored (they serve from then on), as the loop and the automation sensor do it.

Reported but not counted: the phases before the check fails (prod materialization, first training,
drift refresh, monitor) and after the model serves (the per-share uplift ablation in its own run,
`<model>_share_uplift`, and the share judge's keep-or-revoke run).

Baseline in the same run: a plain Delta -> Delta copy (`deltalake` read + one overwrite commit) of
exactly the producer prod tables the shares were delivered from, so
`delivery_vs_plain_copy_ratio = delivery_s / plain_copy_s` (target <= 3). The same copies are also
run as one Dagster run on the same instance (one asset per share, like the delivery run), so
`delivery_vs_plain_copy_run_ratio` compares the delivery tick with a copy that pays the same
orchestration (run creation, event log), and `delivery_runs_vs_plain_copy_run_ratio` run with run.

Each phase is also split into its Dagster runs (run wall time, per-step time from the instance's
step stats) and the rest of the phase (sensor evaluation, code-location reloads): `overhead_s`.

Run from the repo root: `.venv/bin/python bench/time_to_data.py [--rows 100000 1000000] [--repeats 2 1] [--out PATH]`
(default: 100k twice, 1M once). Writes bench/results/time_to_data.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from results_file import machine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "time_to_data.json"

DEFAULT_SIZES = (100_000, 1_000_000)
TARGET_S = 30.0  # at 100k and at 1M rows
TARGET_DELIVERY_RATIO = 3.0
COUNTED = ("negotiation", "delivery", "retrain")


def size_label(rows: int) -> str:
    if rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}m"
    if rows % 1_000 == 0:
        return f"{rows // 1_000}k"
    return str(rows)


def phase_runs(instance, created_after: datetime, created_before: datetime) -> dict:
    """The Dagster runs a phase launched: run wall time and per-step time from the instance."""
    import dagster as dg

    records = instance.get_run_records(filters=dg.RunsFilter(created_after=created_after, created_before=created_before))
    steps: dict[str, float] = {}
    runs_s = 0.0
    for record in records:
        if record.start_time and record.end_time:
            runs_s += record.end_time - record.start_time
        for stat in instance.get_run_step_stats(record.dagster_run.run_id):
            if stat.start_time and stat.end_time:
                steps[stat.step_key] = steps.get(stat.step_key, 0.0) + stat.end_time - stat.start_time
    return {"runs": len(records), "runs_s": round(runs_s, 3),
            "steps_s": {k: round(v, 3) for k, v in sorted(steps.items(), key=lambda kv: -kv[1])}}


def delivered_shares(delivery_event) -> list[dict]:
    shares = []
    for run in delivery_event.details["runs"]:
        for asset_key, meta in run.items():
            if "hurricane/contract_id" in meta:
                shares.append({"asset": asset_key, "contract_id": meta["hurricane/contract_id"],
                               "rows_delivered": meta["dagster/row_count"], "changed": meta["hurricane/changed"],
                               "masking": meta["hurricane/masking"],
                               "delivery_work_s": meta.get("hurricane/delivery_seconds")})
    return shares


def plain_copy_s(source_uri: str, target_uri: str) -> tuple[float, int]:
    """The baseline: read the producer table, write it as one overwrite commit, nothing else."""
    from deltalake import DeltaTable, write_deltalake

    started = time.perf_counter()
    table = DeltaTable(source_uri).to_pyarrow_table()
    write_deltalake(target_uri, table, mode="overwrite")
    return time.perf_counter() - started, table.num_rows


def plain_copy_run(instance, copies: dict[str, tuple[str, str]]) -> dict:
    """The same plain copies as one Dagster run on the bench's instance (one asset per share, in process,
    as the delivery runs): what a copy costs once an orchestrator runs it, run record and events included.
    `copies`: asset name -> (source URI, target URI)."""
    import dagster as dg

    def copy_asset(name: str, source: str, target: str) -> dg.AssetsDefinition:
        @dg.asset(key=["plain_copy_baseline", name])
        def _copy():  # no annotation: `dg` is imported locally, Dagster resolves annotations
            _, rows = plain_copy_s(source, target)
            return dg.MaterializeResult(metadata={"dagster/row_count": rows})

        return _copy

    job = dg.define_asset_job("plain_copy_baseline")
    defs = dg.Definitions(assets=[copy_asset(n, s, t) for n, (s, t) in copies.items()], jobs=[job])
    started = time.perf_counter()
    result = defs.resolve_job_def("plain_copy_baseline").execute_in_process(instance=instance)
    wall_s = time.perf_counter() - started
    record = instance.get_run_record_by_id(result.run_id)
    return {"wall_s": round(wall_s, 3), "run_s": round(record.end_time - record.start_time, 3),
            "events": len(instance.all_logs(result.run_id))}


def failed_monitor_checks(monitor_event) -> list[str]:
    return [f"{asset} {check}" for asset, check, passed, _ in monitor_event.details["checks"]
            if not passed and asset.endswith("_monitor")]


def fraud_auc(before_event, monitor_event, retrain_event, uplift_event) -> dict:
    """The model the need came from: AUC before drift, after drift, retrained with the shares (and,
    from the ablation after it, without them)."""
    story = {}
    for key, meta in monitor_event.details["assets"].items():
        if key.endswith("_monitor") and "hurricane/data_need" in meta:
            model = key.removesuffix("_monitor")
            retrained = retrain_event.details["assets"].get(model, {})
            ablation = uplift_event.details["assets"].get(f"{model}_share_uplift", {})
            story[model] = {
                "before_drift": round(before_event.details["assets"][model]["hurricane/auc"], 4),
                "after_drift": round(meta["hurricane/auc_current"], 4),
                "retrained_with_shares": round(retrained.get("hurricane/auc", float("nan")), 4),
                "retrained_without_shares": round(ablation.get("hurricane/auc_without_shares", float("nan")), 4),
                "share_uplift_lower_bound": ablation.get("hurricane/share_uplift"),
            }
    return story


def provision_keys() -> None:
    """`hurricane keys init` and the masking keys: never created on use, so the bench creates them."""
    from hurricane_assets.cli.keys import domain_identities
    from hurricane_assets.identity import DefaultKeySource, init_trust_root
    from hurricane_assets.masking.keys import init_masking_keys

    init_trust_root(domain_identities(), DefaultKeySource())
    init_masking_keys()


def run_once(rows: int, seed: int, drift_days: int, off_path: bool = True) -> dict:
    home = tempfile.mkdtemp(prefix=f"hurricane-bench-ttd-{size_label(rows)}-")
    os.environ["HURRICANE_HOME"] = home
    os.environ.pop("HURRICANE_STORAGE_ROOT", None)
    from hurricane_assets.contracts.store import ContractStore
    from hurricane_assets.dagster_layer.embedded_loop import EmbeddedLoop, LoopSettings
    from hurricane_assets.dagster_layer.workspace import hurricane_instance
    from hurricane_assets.settings import hurricane_paths

    try:
        provision_keys()
        instance = hurricane_instance()
        loop = EmbeddedLoop(instance, LoopSettings(rows=rows, seed=seed, drift_days=drift_days))
        load_at_start = os.getloadavg()[0]
        boundaries = [datetime.now(timezone.utc)]
        cpu: dict[int, float] = {}  # CPU seconds of this process per step: the runs are in process, so
        # this is the work the step did, whatever else the shared machine was running meanwhile

        def step(fn, *args, **kwargs):
            started = time.process_time()
            fn(*args, **kwargs)
            boundaries.append(datetime.now(timezone.utc))
            cpu[len(boundaries) - 2] = round(time.process_time() - started, 3)
            return loop.events[-1]

        prod = step(loop.materialize_domains, drift_days=None)
        trained = step(loop.models, train=True)
        drifted = step(loop.materialize_domains, drift_days=drift_days)
        monitor = step(loop.models, train=False)
        failed = failed_monitor_checks(monitor)
        if not failed:
            raise RuntimeError(f"no monitor check failed after the drift at {rows} rows: nothing to measure")
        negotiation = step(loop.negotiate)
        delivery = step(loop.deliver)
        retrain = step(loop.models, train=True, monitor=False, fed_by_shares_only=True)
        load_at_end = os.getloadavg()[0]
        # off the critical path: the ablation in its own run, then the judge keeps or revokes by it
        uplift = step(loop.share_uplift) if off_path else None
        judge = step(loop.judge) if off_path else None
        events = dict(zip(("materialize_prod", "first_training", "drift_refresh", "monitor", *COUNTED, "share_uplift",
                           "judge"), (prod, trained, drifted, monitor, negotiation, delivery, retrain, uplift, judge)))
        events = {name: event for name, event in events.items() if event is not None}
        phases = {}
        for i, (name, event) in enumerate(events.items()):
            runs = phase_runs(instance, boundaries[i], boundaries[i + 1])
            phases[name] = {"seconds": event.seconds, "cpu_s": cpu[i], **runs,
                            "overhead_s": round(event.seconds - runs["runs_s"], 3)}

        shares = delivered_shares(delivery)
        contracts = {c.contract_id: c for c in ContractStore().list()}
        baseline_root = Path(home) / "plain_copy"
        copies = {}  # the same copies again, as one Dagster run: step name -> (source, target)
        for share in shares:
            contract = contracts[share["contract_id"]]
            source = hurricane_paths().table_uri("prod", contract.producer, contract.dataset)
            copy_seconds, source_rows = plain_copy_s(source, str(baseline_root / contract.producer / contract.dataset))
            step = share["asset"].replace("/", "__")
            copies[step] = (source, str(baseline_root / "run" / step))
            step_s = phases["delivery"]["steps_s"].get(step)
            share.update(producer=f"{contract.producer}.{contract.dataset}", source_rows=source_rows,
                         plain_copy_s=round(copy_seconds, 3), delivery_step_s=step_s,
                         step_vs_plain_copy_ratio=round(step_s / copy_seconds, 2) if step_s else None)
        copy_s = sum(s["plain_copy_s"] for s in shares)
        copy_run = plain_copy_run(instance, copies)
        delivery_runs_s = phases["delivery"]["runs_s"]
        work_s = sum(s["delivery_work_s"] or 0.0 for s in shares)
        seconds = sum(events[name].seconds for name in COUNTED)
        return {
            "rows": rows,
            "seconds": round(seconds, 3),
            "negotiation_s": negotiation.seconds,
            "delivery_s": delivery.seconds,
            "retrain_s": retrain.seconds,
            "plain_copy_s": round(copy_s, 3),
            "delivery_vs_plain_copy_ratio": round(delivery.seconds / copy_s, 2) if copy_s else None,
            # the same ratio without the sensor evaluation and the exchange reload around the runs
            "delivery_runs_s": delivery_runs_s,
            "delivery_runs_vs_plain_copy_ratio": round(delivery_runs_s / copy_s, 2) if copy_s else None,
            # like for like: the delivery run against the same copies run by Dagster on the same instance
            # (run start to end for both; the tick also against the copy run's whole execute_in_process)
            "plain_copy_run_s": copy_run["run_s"],
            "plain_copy_run_wall_s": copy_run["wall_s"],
            "plain_copy_run_events": copy_run["events"],
            "delivery_runs_vs_plain_copy_run_ratio": round(delivery_runs_s / copy_run["run_s"], 2),
            "delivery_vs_plain_copy_run_ratio": round(delivery.seconds / copy_run["wall_s"], 2),
            # the delivery work alone (re-check, read, filter, mask, write, ledger, lineage), as each
            # share's run measured it: what the data path costs against a plain copy
            "delivery_work_s": round(work_s, 3),
            "delivery_work_vs_plain_copy_ratio": round(work_s / copy_s, 2) if copy_s else None,
            "rows_delivered": sum(s["rows_delivered"] for s in shares),
            "rows_read_from_producers": sum(s["source_rows"] for s in shares),
            "shares": shares,
            "before_not_counted_s": {name: events[name].seconds for name in ("materialize_prod", "first_training",
                                                                              "drift_refresh", "monitor")},
            "cpu_seconds": round(sum(phases[name]["cpu_s"] for name in COUNTED), 3),
            "cpu_s": {name: phases[name]["cpu_s"] for name in COUNTED},
            # inside the retrain step, per model: read the tables, build the features, fit, score the
            # holdout, store (the model asset's `hurricane/train_seconds`), and the rows it learned from
            "retrain_split_s": {key: meta.get("hurricane/train_seconds") for key, meta in retrain.details["assets"].items()
                                if "hurricane/train_seconds" in meta},
            "retrain_fit_rows": {key: meta.get("hurricane/train_rows") for key, meta in retrain.details["assets"].items()
                                 if "hurricane/train_seconds" in meta},
            "after_not_counted_s": {name: events[name].seconds for name in ("share_uplift", "judge") if name in events},
            "verdicts": [{k: v.get(k) for k in ("contract_id", "keep", "uplift")} for v in judge.details["verdicts"]
                         if "keep" in v] if judge else None,
            "failed_checks": failed,
            "auc": fraud_auc(trained, monitor, retrain, uplift) if uplift else None,
            "phases": phases,
            "load_avg_1m": {"start": round(load_at_start, 2), "end": round(load_at_end, 2)},
        }
    finally:
        shutil.rmtree(home, ignore_errors=True)


def graphql(port: int, query: str) -> dict:
    import urllib.request

    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


RELOAD = 'mutation {{ reloadRepositoryLocation(repositoryLocationName: "{name}") {{ __typename }} }}'


def daemon_once(rows: int, seed: int, drift_days: int, timeout_s: float = 900.0) -> dict:
    """The same story with the real daemon: `dagster dev` (webserver + `dagster-daemon`, the sensors at
    their intervals, the default run launcher starting one process per run) on the instance the
    embedded loop prepared. The clock starts when the monitor's failed check is stored (the monitor
    runs in process while the daemon is up) and stops when the retrained model is stored. Contracts
    signed by the negotiation reach the daemon's code locations through a location reload (what a
    user's "Reload" or a redeploy does): as soon as the negotiation run succeeded, the bench asks the
    webserver to reload, at once, the locations whose definitions follow the contract registry (the
    exchange and each consumer); the daemon picks the new snapshots up on its next workspace refresh."""
    import subprocess
    import urllib.request

    import dagster as dg

    home = tempfile.mkdtemp(prefix=f"hurricane-bench-ttd-daemon-{size_label(rows)}-")
    os.environ["HURRICANE_HOME"] = home
    os.environ.pop("HURRICANE_STORAGE_ROOT", None)
    from hurricane_assets.contracts.contract import ContractStatus
    from hurricane_assets.contracts.store import ContractStore
    from hurricane_assets.dagster_layer.embedded_loop import EXCHANGE_MODULE, EmbeddedLoop, LoopSettings
    from hurricane_assets.dagster_layer.workspace import hurricane_instance, workspace_locations

    proc = None
    try:
        provision_keys()
        instance = hurricane_instance()
        loop = EmbeddedLoop(instance, LoopSettings(rows=rows, seed=seed, drift_days=drift_days))
        loop.materialize_domains(drift_days=None)
        loop.models(train=True)
        loop.materialize_domains(drift_days=drift_days)
        from hurricane_assets.local_stack.ports import free_port

        port = free_port()
        env = {**os.environ, "DAGSTER_HOME": str(instance.root_directory),
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        dagster = str(Path(sys.executable).parent / "dagster")
        log = open(Path(home) / "dagster-dev.log", "w")
        proc = subprocess.Popen([dagster, "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        started = time.perf_counter()
        while True:  # the webserver answers once every location is loaded
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.perf_counter() - started > 300:
                    raise RuntimeError(f"dagster dev did not come up; see {log.name}")
                time.sleep(1)
        startup_s = time.perf_counter() - started
        load_at_start = os.getloadavg()[0]
        loop.models(train=False)
        if not failed_monitor_checks(loop.events[-1]):
            raise RuntimeError(f"no monitor check failed after the drift at {rows} rows")
        model_key = dg.AssetKey(["risk", "fraud_model"])
        failed_at = instance.fetch_materializations(dg.AssetKey(["risk", "fraud_model_monitor"]), limit=1).records[0].timestamp
        reloaded_at, reloaded_for, reloads, reload_s, reloaded = None, 0, [], [], []
        deadline = time.time() + timeout_s
        while True:
            if time.time() > deadline:
                raise RuntimeError(f"no retrained model within {timeout_s:.0f} s; see {log.name}")
            negotiated = len(instance.get_run_ids(filters=dg.RunsFilter(
                tags={"dagster/sensor_name": "data_need_sensor"}, statuses=[dg.DagsterRunStatus.SUCCESS])))
            if negotiated > reloaded_for:  # each need's contracts reach the locations by a reload
                reload_started = time.time()
                # the locations whose definitions follow the registry: the exchange (share assets) and
                # each consumer (models fed by shares), at once, each in its own process
                consumers = {c.consumer for c in ContractStore().list(status=ContractStatus.active)}
                changed = [name for name, module in workspace_locations().items()
                           if module == EXCHANGE_MODULE or name in consumers]
                with ThreadPoolExecutor(len(changed)) as pool:
                    list(pool.map(lambda name: graphql(port, RELOAD.format(name=name)), changed))
                reloaded.append(changed)
                reload_s.append(round(time.time() - reload_started, 1))
                reloaded_for, reloaded_at = negotiated, time.time()
                reloads.append(round(reloaded_at - failed_at, 1))
            records = instance.fetch_materializations(model_key, limit=1).records
            if records and records[0].timestamp > failed_at:
                shares = records[0].asset_materialization.metadata.get("hurricane/shares")
                if shares is not None and shares.data:
                    retrained_at = records[0].timestamp
                    break
            time.sleep(0.5)
        runs = {}
        for record in instance.get_run_records(filters=dg.RunsFilter(created_after=datetime.fromtimestamp(failed_at, timezone.utc))):
            run = record.dagster_run
            name = run.tags.get("dagster/sensor_name") or run.tags.get("dagster/automation_condition") or run.job_name
            runs.setdefault(name, []).append({
                "job": run.job_name, "status": run.status.value,
                "queued_after_s": round(record.create_timestamp.timestamp() - failed_at, 1),
                "started_after_s": round(record.start_time - failed_at, 1) if record.start_time else None,
                "ended_after_s": round(record.end_time - failed_at, 1) if record.end_time else None,
            })
        return {
            "rows": rows,
            "seconds": round(retrained_at - failed_at, 3),
            "reload_requested_after_s": reloads,  # when the reloads had finished
            "reload_s": reload_s,
            "reloaded_locations": reloaded,
            "dagster_dev_startup_s": round(startup_s, 1),
            "monitor_s": loop.events[-1].seconds,
            "runs": runs,
            "load_avg_1m": {"start": round(load_at_start, 2), "end": round(os.getloadavg()[0], 2)},
        }
    finally:
        if proc is not None:
            stop_group(proc)
        shutil.rmtree(home, ignore_errors=True)


def stop_group(proc, grace_s: float = 60) -> None:
    """Stop `dagster dev` and every process of its group. Its daemon can still start a code server or a run
    while dagster dev stops (after the first SIGTERM went out): that one would outlive the bench until its
    heartbeat timed out, and write into the removed home. So the group is signalled again once dagster dev
    has exited, and what is left of it after `grace_s` is SIGKILLed."""
    import signal
    import subprocess

    from hurricane_assets.local_stack.code_servers import group_alive

    def signal_group(sig: int) -> None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:  # nothing of the group is left
            pass

    deadline = time.monotonic() + grace_s
    signal_group(signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        pass
    signal_group(signal.SIGTERM)  # what was started while dagster dev stopped did not get the first one
    while group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if group_alive(proc.pid):
        signal_group(signal.SIGKILL)
    proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=list(DEFAULT_SIZES), help="transaction counts to run")
    parser.add_argument("--repeats", type=int, nargs="+",
                        help="runs per size, aligned with --rows (default: 2 up to 100k rows, else 1)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--drift-days", type=int, default=30)
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the results JSON")
    parser.add_argument("--daemon-rows", type=int, nargs="*", default=[100_000],
                        help="sizes to measure again with the real daemon (dagster dev); none: skip")
    parser.add_argument("--no-off-path", action="store_true",
                        help="skip the per-share ablation and the judge after the model serves (not counted anyway)")
    parser.add_argument("--daemon-only", action="store_true",
                        help="measure only the daemon sizes and add them to the results already in --out")
    args = parser.parse_args()
    repeats = args.repeats or [2 if rows <= 100_000 else 1 for rows in args.rows]
    if len(repeats) != len(args.rows) or min(repeats) < 1 or min(args.rows) < 1:
        parser.error(f"--repeats {repeats} must give one positive count per --rows size {args.rows}")
    load_at_start = os.getloadavg()
    if args.daemon_only:
        result = json.loads(args.out.read_text())
        run_daemon(result, result["runs"], args)
        return

    result: dict = {
        "benchmark": "time_to_data",
        "measures": "failed monitor check -> retrained model serving: negotiation + delivery + one retrain (sensor ticks "
                    "incl. their runs); daemon_seconds_*: the same with dagster dev (daemon, sensor intervals, run launcher)",
        "target_s_100k_and_1m": TARGET_S,
        "target_delivery_vs_plain_copy_ratio_max": TARGET_DELIVERY_RATIO,
    }
    breakdown, runs = {}, {}
    for rows, count in zip(args.rows, repeats):
        label = size_label(rows)
        for n in range(count):
            started = time.perf_counter()
            figures = run_once(rows, args.seed, args.drift_days, off_path=not args.no_off_path)
            figures["wall_s_whole_run"] = round(time.perf_counter() - started, 1)
            runs.setdefault(label, []).append(figures)
            print(f"{label} run {n + 1}/{count}: {figures['seconds']:.1f} s (negotiation {figures['negotiation_s']:.1f}, "
                  f"delivery {figures['delivery_s']:.1f} = {figures['delivery_vs_plain_copy_ratio']}x plain copy "
                  f"{figures['plain_copy_s']:.2f}, {figures['delivery_vs_plain_copy_run_ratio']}x the copy as a Dagster run "
                  f"{figures['plain_copy_run_wall_s']:.2f}, retrain {figures['retrain_s']:.1f}); whole run "
                  f"{figures['wall_s_whole_run']:.0f} s, load {figures['load_avg_1m']}", flush=True)
        # the machine is shared: the fastest run is the least disturbed one; every run is kept below
        fastest = min(runs[label], key=lambda r: r["seconds"])
        result[f"seconds_{label}"] = fastest["seconds"]
        result[f"seconds_{label}_runs"] = [r["seconds"] for r in runs[label]]
        result[f"cpu_seconds_{label}"] = fastest["cpu_seconds"]
        breakdown[label] = {k: fastest[k] for k in ("rows", "seconds", "cpu_seconds", "negotiation_s", "delivery_s", "retrain_s",
                                                     "plain_copy_s", "delivery_vs_plain_copy_ratio", "delivery_runs_s",
                                                     "delivery_runs_vs_plain_copy_ratio", "rows_delivered",
                                                     "rows_read_from_producers", "delivery_work_s",
                                                     "delivery_work_vs_plain_copy_ratio", "plain_copy_run_s",
                                                     "plain_copy_run_wall_s", "delivery_runs_vs_plain_copy_run_ratio",
                                                     "delivery_vs_plain_copy_run_ratio")}
        breakdown[label]["rows_delivered_per_share"] = {s["asset"]: s["rows_delivered"] for s in fastest["shares"]}
        # each size is kept as soon as it is measured: a later size or the daemon failing loses nothing
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({**result, "breakdown": breakdown, "runs": runs, "partial": True}, indent=2) + "\n")
    for label, best in breakdown.items():
        result[f"target_met_{label}"] = {"seconds": best["seconds"] < TARGET_S,
                                         "delivery_ratio": best["delivery_vs_plain_copy_ratio"] <= TARGET_DELIVERY_RATIO,
                                         "delivery_work_ratio": best["delivery_work_vs_plain_copy_ratio"] <= TARGET_DELIVERY_RATIO,
                                         "delivery_vs_plain_copy_run_ratio":
                                             best["delivery_vs_plain_copy_run_ratio"] <= TARGET_DELIVERY_RATIO}
    result["breakdown"] = breakdown
    result["runs"] = runs
    result["settings"] = {"seed": args.seed, "drift_days": args.drift_days, "sizes": args.rows, "repeats": repeats}
    # other engineers run tests on the same machine; how busy it was explains the spread
    result["machine"] = machine(load_avg_1m_at_start=load_at_start[0])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}", flush=True)
    run_daemon(result, runs, args)


def run_daemon(result: dict, runs: dict, args) -> None:
    for rows in args.daemon_rows:  # written again after each daemon figure: a daemon failure keeps the rest
        label = size_label(rows)
        started = time.perf_counter()
        figures = daemon_once(rows, args.seed, args.drift_days)
        figures["wall_s_whole_run"] = round(time.perf_counter() - started, 1)
        result[f"daemon_seconds_{label}"] = figures["seconds"]
        runs[f"daemon_{label}"] = [figures]
        result["settings"]["daemon_rows"] = args.daemon_rows
        print(f"daemon {label}: {figures['seconds']:.1f} s from the failed check to the retrained model "
              f"(reloads requested after {figures['reload_requested_after_s']} s), load {figures['load_avg_1m']}", flush=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
