"""`hurricane negotiations run/show/resume` on the real platform."""

import re

import pytest
import yaml
from typer.testing import CliRunner

from hurricane_assets.cli.main import app

runner = CliRunner()
ANALYTICS_NEED = {
    "need_id": "cli-analytics-1", "consumer": "marketing", "model": "churn_model", "purpose": "customer_analytics",
    "environment": "preprod", "join_entities": ["customer"], "wanted": {"account_age": 1.0},
}


def test_run_show_and_resume_an_escalated_negotiation(tmp_path):
    need = tmp_path / "need.yaml"
    need.write_text(yaml.safe_dump(ANALYTICS_NEED))
    ran = runner.invoke(app, ["negotiations", "run", str(need)], terminal_width=250)
    assert ran.exit_code == 0, ran.output
    assert "awaiting a human" in ran.output and "pending approval: customers.profiles" in ran.output
    negotiation_id = re.search(r"resume\s+(\S+)\s+--approve", ran.output).group(1)

    shown = runner.invoke(app, ["negotiations", "show", negotiation_id], terminal_width=250)
    assert shown.exit_code == 0 and "PROPOSE" in shown.output and "customers" in shown.output

    # a name alone decides nothing: carol is not a registered approver yet
    unregistered = runner.invoke(app, ["negotiations", "resume", negotiation_id, "--deny", "--by", "carol"])
    assert unregistered.exit_code == 2 and "carol.ed25519: no such approver key file" in unregistered.stderr
    added = runner.invoke(app, ["approvers", "add", "carol", "--for", "customers"])
    assert added.exit_code == 0, added.output
    assert "carol\tkey" in runner.invoke(app, ["approvers", "list"]).output
    denied = runner.invoke(app, ["negotiations", "resume", negotiation_id, "--deny", "--by", "carol"], terminal_width=250)
    assert denied.exit_code == 0, denied.output
    assert "outcome: no_deal human_denied" in denied.output and "carol" in denied.output


def test_bad_input_exits_2_with_a_one_line_error(tmp_path):
    missing = runner.invoke(app, ["negotiations", "show", "nope"])
    assert missing.exit_code == 2 and "no negotiation 'nope'" in missing.stderr
    bad = tmp_path / "need.yaml"
    bad.write_text(yaml.safe_dump(ANALYTICS_NEED | {"environment": "moon"}))
    invalid = runner.invoke(app, ["negotiations", "run", str(bad)])
    assert invalid.exit_code == 2 and "environment" in invalid.stderr and len(invalid.stderr.strip().splitlines()) == 1
    strategy = runner.invoke(app, ["negotiations", "run", str(bad).replace("need", "none")])
    assert strategy.exit_code == 2 and "no such file" in strategy.stderr


def test_an_unknown_consumer_is_named_before_anything_runs(tmp_path, hurricane_home):
    need = tmp_path / "need.yaml"
    need.write_text(yaml.safe_dump(ANALYTICS_NEED | {"consumer": "nosuch"}))
    ran = runner.invoke(app, ["negotiations", "run", str(need)])
    assert ran.exit_code == 2, ran.output
    assert ran.stderr.strip() == (f"error: {need}: consumer: unknown domain 'nosuch'; "
                                  "known: customers, marketing, payments, risk, support")
    assert not (hurricane_home / "checkpoints.sqlite").exists() and not (hurricane_home / "ledger").exists()


@pytest.mark.parametrize("change, field", [
    ({"wanted": {"channel": 1e308, "device": 1e308}}, "wanted"),
    ({"wanted": {"channel": float("nan")}}, "wanted"),
    ({"wanted": {"channel": -1.0}}, "wanted"),
    ({"retention_days": -5}, "retention_days"),
    ({"term_days": 0}, "term_days"),
    ({"freshness_hours": -1}, "freshness_hours"),
])
def test_a_need_with_out_of_range_values_is_refused_before_anything_runs(tmp_path, hurricane_home, change, field):
    """They passed validation and crashed mid-negotiation ('min() arg is an empty sequence' after the CFP
    went out, 'ShareTerms: retention_days', an agent refusing NaN), leaving a half-negotiation that
    every re-run crashed on again."""
    need = tmp_path / "need.yaml"
    need.write_text(yaml.safe_dump({**ANALYTICS_NEED, **change}))
    ran = runner.invoke(app, ["negotiations", "run", str(need)])
    assert ran.exit_code == 2, ran.output
    assert field in ran.stderr and "Traceback" not in ran.output + ran.stderr
    assert not (hurricane_home / "checkpoints.sqlite").exists() and not (hurricane_home / "ledger").exists()


def test_only_the_escalated_agreement_waits_for_its_producers_approver(tmp_path, hurricane_home):
    """account_age (customers.profiles, sent to a human) and channel (payments.transactions, not):
    both were listed as pending, and the customers approver was refused as 'not an approver for payments'."""
    need = tmp_path / "need.yaml"
    need.write_text(yaml.safe_dump(ANALYTICS_NEED | {"need_id": "cli-analytics-2",
                                                     "wanted": {"account_age": 0.5, "channel": 0.5}}))
    ran = runner.invoke(app, ["negotiations", "run", str(need)], terminal_width=250)
    assert ran.exit_code == 0, ran.output
    assert "pending approval: customers.profiles" in ran.output and "payments.transactions" not in ran.output.split(
        "pending approval:")[1].splitlines()[0]
    negotiation_id = re.search(r"resume\s+(\S+)\s+--approve", ran.output).group(1)
    assert runner.invoke(app, ["approvers", "add", "alice", "--for", "customers"]).exit_code == 0
    approved = runner.invoke(app, ["negotiations", "resume", negotiation_id, "--approve", "--by", "alice"],
                             terminal_width=250)
    assert approved.exit_code == 0, approved.output + approved.stderr
    assert "not an approver" not in approved.output + approved.stderr


def test_an_unknown_negotiation_names_the_checkpoints_it_was_looked_for_in(hurricane_home):
    # a wrong HURRICANE_HOME showed as "no negotiation 'nope' in the checkpoints", with no place to check
    missing = runner.invoke(app, ["negotiations", "show", "nope"])
    assert missing.exit_code == 2
    assert missing.stderr.strip() == f"error: no negotiation 'nope' in {hurricane_home / 'checkpoints.sqlite'}"
    resumed = runner.invoke(app, ["negotiations", "resume", "nope", "--approve", "--by", "carol"])
    assert resumed.exit_code == 2
    assert resumed.stderr.strip() == f"error: no negotiation 'nope' in {hurricane_home / 'checkpoints.sqlite'}"
