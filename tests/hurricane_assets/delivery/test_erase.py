from __future__ import annotations

import pandas as pd
from deltalake import write_deltalake

from hurricane_assets.delivery.erase import erase_table


def test_erase_removes_every_file_of_the_share(tmp_path):
    uri = str(tmp_path / "risk" / "payments__transactions")
    write_deltalake(uri, pd.DataFrame({"txn_id": ["t1", "t2"], "channel": ["online", "wallet"]}))
    write_deltalake(uri, pd.DataFrame({"txn_id": ["t3"], "channel": ["instant_p2p"]}), mode="append")
    erasure = erase_table(uri)
    assert erasure.existed and erasure.rows_deleted == 3 and erasure.files_vacuumed == 2
    assert not (tmp_path / "risk" / "payments__transactions").exists()
    assert (tmp_path / "risk").exists()


def test_erasing_a_missing_table_is_a_no_op(tmp_path):
    assert erase_table(str(tmp_path / "nothing")).existed is False
