"""Negotiations as a partitioned asset: one partition per data need, so each need is negotiated once
and every negotiation (transcript, outcome, contracts) is visible in the UI."""

import dagster as dg

from negotiation_graph.terms import NeedSpec

DATA_NEEDS = dg.DynamicPartitionsDefinition(name="data_needs")
NEGOTIATIONS_KEY = dg.AssetKey(["exchange", "negotiations"])


class NeedConfig(dg.Config):
    need: str  # NeedSpec JSON, as the monitor emitted it
    strategy: str = "rules"
    # > 0: the consumer measures a masked sample of this fraction before agreeing (declines useless data)
    trial_sample_fraction: float = 0.0


def transcript_markdown(outcome) -> str:
    lines = ["| round | performative | from → to | terms | reasons |", "|---|---|---|---|---|"]
    for m in outcome.negotiation.transcript:
        terms = ""
        if m.terms is not None:
            terms = f"{m.terms.dataset}: " + ", ".join(f"{c}:{v.value}" for c, v in m.terms.columns.items())
        lines.append(f"| {m.round} | {m.performative.value} | {m.sender} → {m.receiver} | {terms} | {', '.join(m.reason_codes)} |")
    return "\n".join(lines)


@dg.asset(
    key=NEGOTIATIONS_KEY,
    partitions_def=DATA_NEEDS,
    kinds={"langgraph", "cedar"},
    group_name="exchange",
    description="One negotiation per data need: CFP, proposals, counter-offers, policy decisions, signed contracts.",
)
def negotiations(context: dg.AssetExecutionContext, config: NeedConfig) -> dg.MaterializeResult:
    # imported on use: policy, LangGraph and masking must not slow the location's import
    from hurricane_assets.sharing.negotiate import negotiate_need
    from hurricane_assets.sharing.platform import SharingPlatform

    need = NeedSpec.model_validate_json(config.need)
    if need.need_id != context.partition_key:
        raise ValueError(f"partition {context.partition_key!r} does not match the need id {need.need_id!r}")
    platform = SharingPlatform.from_environment()
    estimator = None
    if config.trial_sample_fraction > 0:
        from hurricane_assets.sharing.trial import TrialSampleEstimator  # trains models: imported when used

        estimator = TrialSampleEstimator(platform, sample_fraction=config.trial_sample_fraction)
    outcome = negotiate_need(need, platform, strategy=config.strategy, estimator=estimator)
    summary = outcome.summary()
    context.log.info(f"negotiation {summary['negotiation_id']}: {len(summary['contracts'])} contract(s)")
    return dg.MaterializeResult(
        metadata={
            "hurricane/negotiation_id": summary["negotiation_id"],
            "hurricane/status": summary["status"],
            "hurricane/outcome": dg.MetadataValue.json(summary["outcome"]),
            "hurricane/contracts": dg.MetadataValue.json(summary["contracts"]),
            "hurricane/messages": summary["messages"],
            "hurricane/transcript": dg.MetadataValue.md(transcript_markdown(outcome)),
            "hurricane/need": dg.MetadataValue.json(need.model_dump(mode="json")),
        }
    )


negotiation_job = dg.define_asset_job(
    "negotiate_data_need", selection=dg.AssetSelection.assets(negotiations), partitions_def=DATA_NEEDS
)
