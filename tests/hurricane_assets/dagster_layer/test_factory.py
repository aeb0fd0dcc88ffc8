"""The measured-privacy check a masked copy or share reports (`privacy_check_result`)."""

import dagster as dg

from hurricane_assets.dagster_layer.factory import PRIVACY_CHECK, PRIVACY_MEASURES, privacy_check_result

THRESHOLDS = {"k": 5, "l_diversity": 2, "singling_out_risk": 0.05, "linkability_risk": 0.05, "inference_risk": 0.2,
              "two_event_singling_out_risk": None}  # reported only, unless the manifest sets a limit
VALUES = {"k": 7, "l_diversity": 3, "singling_out_risk": 0.01, "linkability_risk": 0.0, "inference_risk": 0.1,
          "two_event_singling_out_risk": 0.62}
SHOWN = {name: "none set" if limit is None else limit for name, limit in THRESHOLDS.items()}


def report(failures=(), values=VALUES) -> dict:
    return {"measured": {"values": values, "thresholds": THRESHOLDS, "sample_persons": 400,
                         "passed": not failures, "failures": list(failures)}}


def test_every_measure_and_its_threshold_is_reported_in_one_passing_check():
    result = privacy_check_result(report())
    assert (result.check_name, result.passed, result.severity) == (PRIVACY_CHECK, True, dg.AssetCheckSeverity.ERROR)
    for name in PRIVACY_MEASURES:
        assert result.metadata[name].value == VALUES[name]
        assert result.metadata[f"{name}_threshold"].value == SHOWN[name]
        assert f"{name} = {VALUES[name]} (threshold {SHOWN[name]})" in result.description
    assert result.metadata["sample_persons"].value == 400


def test_any_failed_measure_fails_the_check_and_is_named_first():
    result = privacy_check_result(report(failures=["linkability_risk 0.3100 above 0.05"],
                                         values={**VALUES, "linkability_risk": 0.31}))
    assert not result.passed
    assert result.description.startswith("failed: linkability_risk;")


def test_an_unmeasured_table_does_not_pass():
    result = privacy_check_result({"measured": None})
    assert not result.passed and result.description == "not measured (no gate: prod)"
    assert all(result.metadata[name].value == "n/a" for name in PRIVACY_MEASURES)
