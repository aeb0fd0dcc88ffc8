from __future__ import annotations

import json

import pyarrow as pa
from deltalake import write_deltalake
from typer.testing import CliRunner

from hurricane_assets.catalog import load_catalog
from hurricane_assets.catalog.schema import arrow_schema
from hurricane_assets.cli.main import app
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.storage import table_exists
from hurricane_assets.synthetic import SyntheticConfig, generate_dataset

runner = CliRunner()


def test_plan_prints_the_default_plan():
    result = runner.invoke(app, ["masking", "plan", "customers", "profiles", "--env", "dev"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["rules"]["national_id"]["operator"] == "drop" and plan["version"].startswith("masking-policy-1+")


def test_copy_masks_prod_into_preprod_and_prints_the_report():
    spec = load_catalog().dataset("payments", "chargebacks")
    frame = generate_dataset(SyntheticConfig(transactions=2000, seed=7), "payments", "chargebacks")
    write_deltalake(hurricane_paths().table_uri("prod", "payments", "chargebacks"),
                    pa.Table.from_pandas(frame, schema=arrow_schema(spec), preserve_index=False))
    result = runner.invoke(app, ["masking", "copy", "payments", "chargebacks", "--env", "preprod"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["dataset"] == "payments.chargebacks"
    assert table_exists(hurricane_paths().table_uri("preprod", "payments", "chargebacks"))


def test_bad_input_exits_2_with_one_line_error():
    for args, message in ((["plan", "customers", "nope"], "unknown dataset customers.nope"),
                          (["plan", "customers", "profiles", "--env", "qa"], "unknown environment 'qa'"),
                          (["copy", "customers", "profiles", "--env", "prod"], "lower environments only"),
                          (["copy", "customers", "profiles"], "no Delta table at")):
        result = runner.invoke(app, ["masking", *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_init_keys_creates_missing_keys_and_a_copy_without_its_key_fails_closed():
    import shutil

    shutil.rmtree(hurricane_paths().keys)
    spec = load_catalog().dataset("payments", "chargebacks")
    frame = generate_dataset(SyntheticConfig(transactions=500, seed=7), "payments", "chargebacks")
    write_deltalake(hurricane_paths().table_uri("prod", "payments", "chargebacks"),
                    pa.Table.from_pandas(frame, schema=arrow_schema(spec), preserve_index=False))
    refused = runner.invoke(app, ["masking", "copy", "payments", "chargebacks", "--env", "preprod"])
    assert refused.exit_code == 2 and "no masking key for preprod" in refused.stderr
    assert "hurricane masking init-keys" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert not table_exists(hurricane_paths().table_uri("preprod", "payments", "chargebacks"))

    created = runner.invoke(app, ["masking", "init-keys", "--env", "preprod"])
    assert created.exit_code == 0, created.output
    assert created.stdout.startswith("preprod: key id ")
    assert (hurricane_paths().keys / "masking-preprod.key").exists()
    assert not (hurricane_paths().keys / "masking-dev.key").exists()
    assert runner.invoke(app, ["masking", "copy", "payments", "chargebacks", "--env", "preprod"]).exit_code == 0
    # the key lost again: init refuses to mint a new one over existing copies
    (hurricane_paths().keys / "masking-preprod.key").unlink()
    again = runner.invoke(app, ["masking", "init-keys", "--env", "preprod"])
    assert again.exit_code == 2 and "preprod already holds 1 masked table(s)" in again.stderr


def test_a_copy_that_cannot_reach_k_exits_2_and_writes_nothing():
    spec = load_catalog().dataset("payments", "chargebacks")
    frame = generate_dataset(SyntheticConfig(transactions=2000, seed=7), "payments", "chargebacks")
    write_deltalake(hurricane_paths().table_uri("prod", "payments", "chargebacks"),
                    pa.Table.from_pandas(frame, schema=arrow_schema(spec), preserve_index=False))
    result = runner.invoke(app, ["masking", "copy", "payments", "chargebacks", "--k", "100000"])
    assert result.exit_code == 2, result.output
    assert "k-anonymity not reachable for payments.chargebacks" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not table_exists(hurricane_paths().table_uri("preprod", "payments", "chargebacks"))
