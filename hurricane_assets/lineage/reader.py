"""Reading the lineage file back: the events that tell one contract's story.

A contract's story is its delivery runs (the run facet `dataHurricane_contract` names it), the
negotiation runs they descend from (the `parent` facet, followed up to the root), and the DROP of
its copy. Only the default file transport can be read back; an HTTP endpoint is read in its own UI.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from hurricane_assets.contracts import Contract
from hurricane_assets.lineage.facets import CONTRACT_FACET_KEY
from hurricane_assets.lineage.naming import dataset_name
from hurricane_assets.settings import hurricane_paths


class LineageFileError(ValueError):
    """The lineage file holds a line that is not an OpenLineage event."""


def lineage_file() -> Path:
    return hurricane_paths().lineage / "events.jsonl"


def read_events(path: Path | None = None) -> list[dict[str, Any]]:
    path = path if path is not None else lineage_file()
    if not path.exists():
        return []
    events = []
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError as exc:
                raise LineageFileError(f"{path} line {number}: not JSON ({exc.msg} at column {exc.colno})") from None
            if not isinstance(event, dict) or "eventTime" not in event:
                raise LineageFileError(f"{path} line {number}: not an OpenLineage event (no eventTime)")
            events.append(event)
    return events


def _run(event: dict) -> dict:
    run = event.get("run")
    return run if isinstance(run, dict) else {}


def contract_events(contract: Contract, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events of `contract`'s deliveries, their ancestor negotiation runs and the drop of its copy,
    in the order they were written."""
    facets = lambda e: _run(e).get("facets") or {}  # noqa: E731
    ours = {id(e) for e in events if (facets(e).get(CONTRACT_FACET_KEY) or {}).get("contractId") == contract.contract_id}
    wanted_runs = set()
    frontier = [facets(e).get("parent") for e in events if id(e) in ours]
    while frontier:
        parent = frontier.pop()
        run_id = ((parent or {}).get("run") or {}).get("runId")
        if run_id and run_id not in wanted_runs:
            wanted_runs.add(run_id)
            frontier.extend(facets(e).get("parent") for e in events if _run(e).get("runId") == run_id)
    dropped = {id(e) for e in events if _drops_copy_of(contract, e)}
    return [e for e in events if id(e) in ours or id(e) in dropped or _run(e).get("runId") in wanted_runs]


def _drops_copy_of(contract: Contract, event: dict) -> bool:
    """A DatasetEvent dropping `contract`'s copy. The share's path serves every contract of one
    (consumer, producer, dataset) in turn, so the drop names its contract (`dataHurricane_contract`
    dataset facet); a drop written before that facet existed counts by path, if not before the
    contract was signed."""
    dataset = event.get("dataset")
    if not isinstance(dataset, dict):
        return False
    named = ((dataset.get("facets") or {}).get(CONTRACT_FACET_KEY) or {}).get("contractId")
    if named is not None:
        return named == contract.contract_id
    if (dataset.get("namespace"), dataset.get("name")) != dataset_name(contract.share_uri):
        return False
    try:
        return datetime.fromisoformat(str(event.get("eventTime"))) >= contract.signed_at
    except (TypeError, ValueError):
        return False


TERMINAL = {"COMPLETE", "ABORT", "FAIL"}


def run_problems(events: list[dict[str, Any]]) -> list[str]:
    """What another OpenLineage tool would trip over: a runId used by two jobs, a run without its
    START or without a terminal event (COMPLETE, ABORT or FAIL), a parent that never ran."""
    jobs: dict[str, set[tuple[str, str]]] = {}
    states: dict[str, set[str]] = {}
    parents: dict[str, str] = {}
    for event in events:
        run, job = _run(event), event.get("job")
        if not run or not isinstance(job, dict):
            continue  # a DatasetEvent has no run
        run_id = str(run.get("runId"))
        jobs.setdefault(run_id, set()).add((str(job.get("namespace")), str(job.get("name"))))
        states.setdefault(run_id, set()).add(str(event.get("eventType")))
        parent = ((run.get("facets") or {}).get("parent") or {}).get("run", {}).get("runId")
        if parent:
            parents[run_id] = parent
    problems = [f"run {r} is used by {len(j)} jobs: {', '.join(sorted(n for _, n in j))}" for r, j in jobs.items() if len(j) > 1]
    problems += [f"run {r} has no START" for r, s in states.items() if "START" not in s]
    problems += [f"run {r} has no terminal event" for r, s in states.items() if not s & TERMINAL]
    problems += [f"run {r} names parent {p}, which emitted nothing" for r, p in parents.items() if p not in states]
    return problems
