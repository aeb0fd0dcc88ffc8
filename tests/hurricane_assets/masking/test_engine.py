from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from hurricane_assets.masking.engine import (
    SchemaDriftError,
    TokenCollisionError,
    UnclassifiedColumnError,
    mask_table,
)
from hurricane_assets.masking.operators.names import FakeName
from hurricane_assets.masking.plans import ColumnRule, MaskingPlan
from hurricane_assets.masking.registry import operator_class


def plan_for(rules: dict[str, tuple[str, str, dict]], **extra) -> MaskingPlan:
    """rules: column -> (manifest type, operator, params)."""
    return MaskingPlan(
        dataset="test.table", env="dev", source="manifest tests/product.yaml",
        rules={c: ColumnRule(operator=op, params=p, **extra.get(c, {})) for c, (_, op, p) in rules.items()},
        expected_types={c: t for c, (t, _, _) in rules.items()},
    )


def test_nulls_stay_null_in_place_and_types_are_kept(keyring):
    table = pa.table({
        "customer_id": pa.array(["a", None, "b", "a"]),
        "email": pa.array([None, "x@gmail.com", "x@gmail.com", None]),
        "born": pa.array([dt.date(1980, 5, 1), None, dt.date(1990, 1, 2), None]),
        "seen": pa.array([dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)] * 3 + [None], pa.timestamp("us", tz="UTC")),
        "amount": pa.array([1.5, None, 27.0, 3.0]),
    })
    plan = plan_for({"customer_id": ("string", "hmac_token", {"entity": "customer"}),
                     "email": ("string", "email", {}), "born": ("date", "generalize_date", {"years": 1}),
                     "seen": ("timestamp", "date_shift", {"entity": "customer", "entity_column": "customer_id"}),
                     "amount": ("float64", "bucket", {"width": 10})})
    out = mask_table(table, plan, keyring, k=None).table
    assert out.schema == table.schema
    for name in table.column_names:
        assert out.column(name).is_null().to_pylist() == table.column(name).is_null().to_pylist(), name
    ids = out.column("customer_id").to_pylist()
    assert ids[0] == ids[3] != ids[2] and "a" not in ids
    assert out.column("amount").to_pylist() == [0.0, None, 20.0, 0.0]


def test_input_is_never_mutated(keyring):
    table = pa.table({"email": ["a@gmail.com", "b@gmail.com"]})
    before = table.to_pylist()
    mask_table(table, plan_for({"email": ("string", "email", {})}), keyring, k=None)
    assert table.to_pylist() == before


def test_empty_strings_stay_empty(keyring):
    table = pa.table({"customer_id": ["", "  ", "c1"]})
    out = mask_table(table, plan_for({"customer_id": ("string", "hmac_token", {})}), keyring, k=None).table
    assert out.column("customer_id").to_pylist()[:2] == ["", "  "]


def test_int_columns_stay_int(keyring):
    table = pa.table({"account": pa.array([10, 20, 10, None], pa.int64()), "pages": pa.array([3, 17, 5, 2], pa.int64())})
    out = mask_table(table, plan_for({"account": ("int64", "hmac_token", {}), "pages": ("int64", "bucket", {"width": 5})}),
                     keyring, k=None).table
    assert out.schema.field("account").type == pa.int64()
    acc = out.column("account").to_pylist()
    assert acc[0] == acc[2] != acc[1] and acc[3] is None and 10 not in acc
    assert out.column("pages").to_pylist() == [0, 15, 5, 0]


def test_unicode_names_get_consistent_fakes(keyring):
    names = ["Zoë Ångström", "Łukasz Żółć", "İbrahim Çelik", "zoë  ångström", "Nguyễn Thị Minh Khai"]
    table = pa.table({"name": names})
    out = mask_table(table, plan_for({"name": ("string", "fake_name", {"entity": "person"})}), keyring, k=None).table
    fakes = out.column("name").to_pylist()
    assert fakes[0] == fakes[3] == FakeName().operate(names[0], {"key": keyring.key, "entity": "person"})
    assert not set(fakes) & set(names) and len(set(fakes)) == 4


def test_very_long_text_is_redacted(keyring):
    body = "word " * 50_000 + "mail me: jane.doe@gmail.com"
    table = pa.table({"body": [body, None]})
    out = mask_table(table, plan_for({"body": ("string", "redact_text", {})}), keyring, k=None).table
    masked = out.column("body").to_pylist()
    assert "jane.doe" not in masked[0] and masked[0].startswith("word word") and masked[1] is None


def test_all_null_column_stays_all_null_with_its_type(keyring):
    table = pa.table({"email": pa.array([None, None, None], pa.string()),
                      "born": pa.array([None, None, None], pa.date32())})
    result = mask_table(table, plan_for({"email": ("string", "email", {}), "born": ("date", "generalize_date", {})}),
                        keyring, k=None)
    assert result.table.schema == table.schema and result.table.column("email").null_count == 3
    assert result.report.column("email").null_rate_after == 1.0


def test_dropped_columns_are_gone_and_reported(keyring):
    table = pa.table({"id": ["a", "b"], "secret": ["x", "y"]})
    result = mask_table(table, plan_for({"id": ("string", "keep", {}), "secret": ("string", "drop", {})}), keyring, k=None)
    assert result.table.column_names == ["id"]
    assert result.report.column("secret").status == "dropped" and result.report.column("id").status == "kept"


def test_schema_drift_names_the_diff(keyring):
    plan = plan_for({"id": ("string", "keep", {}), "n": ("int64", "keep", {})})
    with pytest.raises(SchemaDriftError, match=r"test\.table against manifest tests/product\.yaml: .*"
                                               r"columns not in the manifest: extra"):
        mask_table(pa.table({"id": ["a"], "n": [1], "extra": ["x"]}), plan, keyring)
    with pytest.raises(SchemaDriftError, match=r"retyped: n \(manifest int64, table string\)"):
        mask_table(pa.table({"id": ["a"], "n": ["1"]}), plan, keyring)
    with pytest.raises(SchemaDriftError, match="missing columns: n"):
        mask_table(pa.table({"id": ["a"]}), plan, keyring)


def test_unclassified_column_names_column_dataset_and_manifest(keyring):
    plan = MaskingPlan(dataset="test.table", env="dev", source="manifest tests/product.yaml",
                       rules={"id": ColumnRule(operator="keep")}, expected_types={"id": "string", "notes": "string"})
    with pytest.raises(UnclassifiedColumnError, match=r"notes in test\.table: no masking rule in manifest tests/product\.yaml"):
        mask_table(pa.table({"id": ["a"], "notes": ["x"]}), plan, keyring)


def test_collisions_on_key_columns_are_refused(keyring):
    table = pa.table({"id": [f"c{i}" for i in range(300)]})
    plan = plan_for({"id": ("string", "prefix", {"length": 2})}, id={"unique": True})
    with pytest.raises(TokenCollisionError, match=r"test\.table\.id"):
        mask_table(table, plan, keyring, k=None)


def test_split_across_processes_gives_the_same_table_and_report(keyring):
    n = 3000
    table = pa.table({
        "customer_id": [f"cust_{i % 700:05d}" for i in range(n)],
        "email": [f"p{i % 900}@gmail.com" if i % 11 else None for i in range(n)],
        "phone": [f"+4479460{i % 800:05d}" for i in range(n)],
        "card": [f"4111{i % 650:012d}" for i in range(n)],
        "name": [f"Person {i % 500}" for i in range(n)],
        "born": [dt.date(1950 + i % 40, 1 + i % 12, 1 + i % 28) for i in range(n)],
    })
    plan = plan_for({"customer_id": ("string", "hmac_token", {"entity": "customer"}),
                     "email": ("string", "email", {}), "phone": ("string", "phone", {}),
                     "card": ("string", "credit_card", {}), "name": ("string", "fake_name", {}),
                     "born": ("date", "generalize_date", {"years": 1})}, born={"quasi_identifier": True})
    here = mask_table(table, plan, keyring, k=5, split=False)
    split = mask_table(table, plan, keyring, k=5, split=True)
    assert split.table.equals(here.table)
    assert split.report.model_dump(exclude={"created_at"}) == here.report.model_dump(exclude={"created_at"})


def test_feature_timestamps_generalised_to_the_month_keep_account_age(keyring):
    opened = [dt.datetime(2024, 5, 17, 9, 30, tzinfo=dt.timezone.utc), dt.datetime(2023, 11, 2, tzinfo=dt.timezone.utc),
              None]
    table = pa.table({"opened": pa.array(opened, pa.timestamp("us", tz="UTC"))})
    out = mask_table(table, plan_for({"opened": ("timestamp", "generalize_date", {"months": 1})}), keyring).table
    assert out.schema == table.schema
    assert out.column("opened").to_pylist() == [dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc),
                                                dt.datetime(2023, 11, 1, tzinfo=dt.timezone.utc), None]


def test_one_token_column_outweighing_the_rest_is_masked_in_two_parts_with_the_same_result(keyring, monkeypatch):
    """A share of transaction ids: one process would tokenize them all while the other idles."""
    from hurricane_assets.masking import columns

    n = 4000
    table = pa.table({"txn_id": [f"txn_{i:07d}" for i in range(n)],
                      "channel": [("card", "p2p", "web")[i % 3] for i in range(n)],
                      "phone": [f"+4479460{i % 300:05d}" for i in range(n)]})
    plan = plan_for({"txn_id": ("string", "hmac_token", {"entity": "transaction"}),
                     "channel": ("string", "hmac_token", {"entity": "channel"}),
                     "phone": ("string", "phone", {})})
    task_counts = []
    real_run_split = columns.run_split

    def counting_run_split(tasks, weights, **kwargs):
        task_counts.append((len(tasks), sorted(weights)))
        return real_run_split(tasks, weights, **kwargs)

    monkeypatch.setattr(columns, "run_split", counting_run_split)
    here = mask_table(table, plan, keyring, k=None, split=False)
    split = mask_table(table, plan, keyring, k=None, split=True)

    assert split.table.equals(here.table)
    assert split.report.model_dump(exclude={"created_at"}) == here.report.model_dump(exclude={"created_at"})
    assert pa.compute.count_distinct(split.table["txn_id"]).as_py() == n
    # each value's own token, in its own row: parts joined out of order would pass the comparison above
    # (the unsplit path takes the same parts) but not this one
    token = operator_class("hmac_token")().masker({"entity": "transaction", "key": keyring.key})
    assert split.table["txn_id"].to_pylist() == [token(v) for v in table["txn_id"].to_pylist()]
    count, weights = task_counts[-1]
    assert count == 4  # txn_id in two parts, channel, phone
    assert weights[-1] == pytest.approx(sum(weights) / 2)  # one part is half of all the work


def test_a_fake_that_avoids_its_column_s_other_values_is_never_split(keyring, monkeypatch):
    """Phones avoid every prod number of the column: masking them in parts would avoid only the part's."""
    from hurricane_assets.masking import columns

    n = 3000
    table = pa.table({"phone": [f"+4479460{i:05d}" for i in range(n)], "channel": ["card"] * n})
    plan = plan_for({"phone": ("string", "phone", {}), "channel": ("string", "hmac_token", {"entity": "channel"})})
    task_counts = []
    real_run_split = columns.run_split
    monkeypatch.setattr(columns, "run_split",
                        lambda tasks, weights, **kw: task_counts.append(len(tasks)) or real_run_split(tasks, weights, **kw))
    mask_table(table, plan, keyring, k=None, split=True)
    assert task_counts == [2]
