"""No history in a share: a redelivery after prod changed leaves only the new version on storage."""

from __future__ import annotations

import pyarrow.compute as pc
from deltalake import DeltaTable, write_deltalake

from hurricane_assets.settings import hurricane_paths
from hurricane_assets.storage import read_table
from tests.hurricane_assets.delivery.test_deliver import run, signed
from tests.hurricane_assets.masking.test_history import assert_only_current_version, stored_files
from tests.hurricane_assets.share_terms import fraud_terms


def test_redelivery_leaves_only_the_current_version(share_parts, share_prod_tables):
    contract = signed(share_parts, fraud_terms())
    first = run(share_parts, contract)
    before = stored_files(contract.share_uri)
    old_tokens = set(DeltaTable(contract.share_uri).to_pyarrow_table()["customer_id"].to_pylist())

    source = hurricane_paths().table_uri("prod", "payments", "transactions")
    prod = read_table(source)
    leaving = prod["customer_id"][0].as_py()
    write_deltalake(source, prod.filter(pc.not_equal(prod["customer_id"], leaving)), mode="overwrite")
    second = run(share_parts, contract)

    assert first.changed and second.changed
    assert second.table_version == DeltaTable(contract.share_uri).version()
    assert not before["data"] & stored_files(contract.share_uri)["data"]
    assert_only_current_version(contract.share_uri)
    # the history written with the delivery still describes it (the redelivery check reads it)
    assert run(share_parts, contract).changed is False
    assert len(old_tokens - set(DeltaTable(contract.share_uri).to_pyarrow_table()["customer_id"].to_pylist())) == 1
