"""`HurricaneClient.request`: a person's request takes the sensor path's negotiation and delivery as
real Dagster runs on the instance, returns the masked copy, or says which policy refused what."""

from __future__ import annotations

import json

import dagster as dg
import pytest
from deltalake import DeltaTable
from typer.testing import CliRunner

from hurricane_assets.catalog import load_catalog
from hurricane_assets.cli.main import app
from hurricane_assets.client import DeliveryCheckFailed, HurricaneClient, RequestDenied, RequestError
from hurricane_assets.dagster_layer.workspace import hurricane_instance
from hurricane_assets.lineage.reader import read_events, run_problems
from hurricane_assets.settings import hurricane_paths


def request_runs() -> list[dg.DagsterRun]:
    return hurricane_instance().get_runs(filters=dg.RunsFilter(tags={"hurricane/origin": "request"}))


def test_granted_request_runs_in_dagster_and_returns_the_masked_copy(share_prod_tables):
    client = HurricaneClient(domain="risk")
    frame = client.request("payments.transactions", columns=["channel", "device_id", "merchant_category"],
                           purpose="fraud_detection", env="preprod", progress=False)
    prod = DeltaTable(hurricane_paths().table_uri("prod", "payments", "transactions")).to_pandas()
    assert {"channel", "device_id", "merchant_category"} <= set(frame.columns)
    assert "card_number" not in frame.columns and "ip_address" not in frame.columns
    assert len(frame) > 0 and not set(frame["device_id"].dropna()) & set(prod["device_id"].dropna())  # tokenized
    runs = request_runs()
    assert len(runs) == 2 and all(r.status is dg.DagsterRunStatus.SUCCESS for r in runs)
    (contract_row,) = client.contracts(consumer="risk", status="active").query("dataset == 'transactions'").itertuples()
    masking = dict(client.contract_columns(contract_row.contract_id)[["column", "masking"]].itertuples(index=False))
    assert masking["device_id"] != "none"
    keys = set(load_catalog().dataset("payments", "transactions").keys)
    for column in (c for c, m in masking.items() if m == "none"):
        if column in keys:  # a stable prod key is tokenized below prod whatever the contract says (the floor)
            assert not set(frame[column].dropna()) & set(prod[column].dropna()), column
        else:
            assert set(frame[column].dropna()) <= set(prod[column].dropna()), column  # shared as is
    share = ["risk", "payments__transactions"]
    materialized = hurricane_instance().get_latest_materialization_event(dg.AssetKey(share))
    assert materialized is not None and materialized.run_id in {r.run_id for r in runs}
    # asking again is the same need: the same negotiation, no new contract
    again = client.request("payments.transactions", columns=["merchant_category", "channel", "device_id"],
                           purpose="fraud_detection", env="preprod", progress=False)
    assert len(again) == len(frame)
    assert list(client.contracts(consumer="risk")["contract_id"]).count(contract_row.contract_id) == 1
    events = read_events()
    assert run_problems(events) == []  # every run: START and a terminal event, its own runId
    assert any(e.get("run", {}).get("facets", {}).get("dataHurricane_contract", {}).get("contractId")
               == contract_row.contract_id for e in events)


def test_denied_column_names_the_policy_and_reason(share_prod_tables):
    cli = CliRunner().invoke(app, ["request", "payments.transactions", "-c", "channel", "-c", "card_number",
                                   "--purpose", "fraud_detection", "--as", "risk", "--json", "--no-progress"])
    assert cli.exit_code == 1, cli.output
    outcome = json.loads(cli.stdout)
    assert outcome["granted"] is False and outcome["rows"] > 0 and outcome["columns"]["channel"]
    (refused,) = outcome["refused"]
    assert refused["column"] == "card_number" and "payments/card-number-never-shared" in refused["policy_ids"]

    client = HurricaneClient(domain="risk")
    with pytest.raises(RequestDenied) as denied:
        client.request("payments.transactions", columns=["channel", "card_number"], purpose="fraud_detection",
                       env="preprod", progress=False)
    (refused,) = denied.value.refused
    assert (refused.column, refused.producer) == ("card_number", "payments")
    # the producer's own forbid and the organisation's, each by its @id
    assert "payments/card-number-never-shared" in refused.policy_ids and "column_never_shared" in refused.reasons
    assert "card_number: refused by policy " in str(denied.value)
    assert "payments/card-number-never-shared" in str(denied.value) and "column_never_shared" in str(denied.value)
    assert denied.value.delivered is not None and "channel" in denied.value.delivered.columns


def test_a_purpose_the_producer_does_not_allow_is_denied_for_every_column(share_prod_tables):
    client = HurricaneClient(domain="marketing")
    with pytest.raises(RequestDenied) as denied:
        client.request("payments.chargebacks", columns=["reason"], purpose="fraud_detection", env="preprod",
                       progress=False)
    assert [r.column for r in denied.value.refused] == ["reason"] and denied.value.delivered is None
    assert denied.value.refused[0].reasons


def request_cli(*args: str):
    return CliRunner().invoke(app, ["request", *args, "--purpose", "fraud_detection", "--as", "risk", "--no-progress"])


def active_contracts() -> dict[str, str]:
    contracts = HurricaneClient(domain="risk").contracts(consumer="risk", status="active")
    return {row.contract_id: f"{row.producer}.{row.dataset}" for row in contracts.itertuples()}


def reported_contracts(outcome: dict) -> dict[str, str]:
    return {c["contract_id"]: c["dataset"] for c in outcome["signed"]}


def test_request_for_columns_other_datasets_also_hold_signs_only_the_requested_dataset(share_prod_tables):
    # chargebacks holds txn_id and amount too: the request once signed a chargebacks contract,
    # which the next delivery wrote, and reported every column refused
    cli = request_cli("payments.transactions", "-c", "txn_id", "-c", "amount", "--json")
    assert cli.exit_code == 0, cli.output
    outcome = json.loads(cli.stdout)
    assert active_contracts() == {outcome["contract_id"]: "payments.transactions"}
    assert reported_contracts(outcome) == active_contracts()
    assert outcome["granted"] is True and outcome["refused"] == [] and outcome["rows"] > 0
    assert {"txn_id", "amount"} <= set(outcome["columns"])


def test_the_cli_reports_every_contract_signed_even_when_nothing_asked_for_was_granted(share_prod_tables,
                                                                                      monkeypatch):
    import hurricane_assets.client as client_module

    open_need = client_module.request_need  # the need as it was: open to every listing with those columns
    monkeypatch.setattr(client_module, "request_need",
                        lambda *a, **k: open_need(*a, **k).model_copy(update={"listings": ()}))
    cli = request_cli("payments.transactions", "-c", "txn_id", "-c", "amount", "--json")
    assert cli.exit_code == 1, cli.output
    outcome = json.loads(cli.stdout)
    assert outcome["granted"] is False and outcome["contract_id"] is None
    assert set(reported_contracts(outcome).values()) == {"payments.chargebacks"}
    assert reported_contracts(outcome) == active_contracts()
    text = request_cli("payments.transactions", "-c", "txn_id", "-c", "amount")
    (chargebacks,) = reported_contracts(outcome)
    assert f"signed contract {chargebacks} for payments.chargebacks (txn_id, amount)" in text.stdout
    assert text.exit_code == 1


@pytest.mark.parametrize("args, message", [
    (("payments.nope", ["x"], "fraud_detection"), "unknown dataset payments.nope"),
    (("transactions", ["channel"], "fraud_detection"), "expected DOMAIN.DATASET"),
    (("payments.transactions", ["channel", "colour"], "fraud_detection"), "no column(s) 'colour'"),
    (("payments.transactions", [], "fraud_detection"), "at least one column"),
    (("payments.transactions", ["channel"], "fraud detection; drop"), "purpose"),
    (("risk.fraud_labels", ["is_fraud"], "fraud_detection"), "read it directly"),
])
def test_malformed_requests_fail_before_any_run(args, message):
    with pytest.raises(RequestError, match=message.replace("(", r"\(").replace(")", r"\)")):
        HurricaneClient(domain="risk").request(*args, env="preprod", progress=False)
    with pytest.raises(RequestError, match="unknown environment"):
        HurricaneClient(domain="risk").request("payments.transactions", ["channel"], "fraud_detection", env="qa")
    with pytest.raises(RequestError, match="who is asking"):
        HurricaneClient().request("payments.transactions", ["channel"], "fraud_detection")
    assert not (hurricane_paths().dagster_home / "storage").exists() or not request_runs()


def test_a_copy_that_fails_its_blocking_join_check_is_said_in_one_line_with_its_figures(share_prod_tables, capfd):
    """The share's join_match_rate check is blocking: the copy is written and recorded, then the check
    fails. Before, stderr carried Dagster's STEP_FAILURE and RUN_FAILURE blocks with their stack traces
    and the request ended with 'the delivery run … failed' (exit 2), as if nothing had been delivered."""
    import pandas as pd
    from deltalake import write_deltalake

    alerts = pd.DataFrame({"txn_id": [f"no-such-txn-{i}" for i in range(50)]})  # the model's rows join nothing
    write_deltalake(hurricane_paths().table_uri("preprod", "risk", "alerts"), alerts)
    capfd.readouterr()
    cli = request_cli("payments.transactions", "-c", "channel")
    stderr = cli.stderr + capfd.readouterr().err  # Dagster's console logger may write to the process's stderr
    assert "Stack Trace" not in stderr and "Traceback" not in stderr and "STEP_FAILURE" not in stderr, stderr
    assert cli.exit_code == 3, cli.output
    (line,) = cli.stderr.strip().splitlines()
    (contract_id,) = active_contracts()
    assert line.startswith(f"error: contract {contract_id} is active and its copy of payments.transactions is written, "
                           "but it failed its blocking check: join_match_rate: 0 of 50 transaction keys of "
                           "risk.alerts@preprod (txn_id)"), line
    assert f"contract {contract_id}: " in cli.stdout  # the copy, its rows and columns, as for a granted request
    with pytest.raises(DeliveryCheckFailed, match="join_match_rate: 0 of 50") as failed:
        HurricaneClient(domain="risk").request("payments.transactions", columns=["channel"],
                                               purpose="fraud_detection", env="preprod", progress=False)
    assert failed.value.delivered is not None and len(failed.value.delivered) > 0  # written, and readable
