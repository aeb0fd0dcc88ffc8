"""Ops the exchange runs after delivery: the consumer's keep-or-revoke judgement after a retrain,
and the daily sweep that expires ended contracts, enforces each share's retention and renews those
that still help."""

import json
from datetime import timedelta

import dagster as dg


class JudgeConfig(dg.Config):
    consumer: str
    model: str
    uplift: str  # JSON: contract id → measured uplift (model metric with minus without the share)
    min_uplift: float
    evidence: str  # what measured it, e.g. the model materialization's storage id


@dg.op(description="Record a verdict per measured share and revoke the shares that did not help.")
def judge_shares(context: dg.OpExecutionContext, config: JudgeConfig) -> None:
    from hurricane_assets.sharing.platform import SharingPlatform
    from hurricane_assets.sharing.verdicts import judge_and_act

    verdicts = judge_and_act(
        SharingPlatform.from_environment(),
        config.consumer,
        {k: float(v) for k, v in json.loads(config.uplift).items()},
        model=config.model,
        evidence=config.evidence,
        min_uplift=config.min_uplift,
    )
    for v in verdicts:
        context.log.info(f"{v.producer}.{v.dataset} ({v.contract_id}): {'keep' if v.keep else 'revoke'}, {v.reason}")


@dg.job(description="The consumer judges its shares after a retrain: keep what helped, revoke the rest.")
def judge_shares_job():
    judge_shares()


class SweepConfig(dg.Config):
    renew_within_days: int = 7


@dg.op(description="Expire contracts past their term; delete share rows past their contract's retention; "
                   "renew those ending soon whose share still helps.")
def sweep_contracts(context: dg.OpExecutionContext, config: SweepConfig) -> None:
    from hurricane_assets.sharing.lifecycle import sweep
    from hurricane_assets.sharing.platform import SharingPlatform
    from hurricane_assets.sharing.verdicts import latest_verdicts

    platform = SharingPlatform.from_environment()
    verdicts = latest_verdicts(platform.ledger)
    result = sweep(
        **platform.signing,
        still_helps=lambda c: verdicts.get(c.contract_id, False),
        renew_within=timedelta(days=config.renew_within_days),
        lineage=platform.lineage,
        catalog=platform.catalog,  # each dataset's event time: rows past a contract's retention leave its share
    )
    context.log.info(f"expired {list(result.expired)}, renewed {list(result.renewed)}, not renewed "
                     f"{list(result.not_renewed)}, rows past retention removed {list(result.retention)}, "
                     f"unfinished ends finished {list(result.finished)}")
    problems = [why for _, why in result.incomplete] + [f"{path}: {why} (skipped)" for path, why in result.unreadable]
    if problems:
        # every other contract was swept; the run fails so that a share still held, or a contract file the
        # sweep cannot read (its expiry is not enforced), is seen, not only logged
        raise dg.Failure(description=f"{len(problems)} contract(s) not swept: " + "; ".join(problems))


@dg.job(description="Share lifecycle: expiry, retention and automatic renewal.")
def share_lifecycle_job():
    sweep_contracts()


share_lifecycle_schedule = dg.ScheduleDefinition(
    job=share_lifecycle_job, cron_schedule="0 3 * * *", default_status=dg.DefaultScheduleStatus.RUNNING
)
