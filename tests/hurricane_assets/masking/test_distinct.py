"""`sorted_unique` stands in for `np.unique` on the gate's and counters' 64-bit arrays, and
`count_distinct` for Arrow's count of strings (in C where the extension is built): same results."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hurricane_assets.masking.distinct import count_distinct, dictionary_encode, sorted_unique
from hurricane_assets.masking.operators.base import native
from hurricane_assets.masking.strings import string_buffers


@pytest.mark.parametrize("values", [
    np.zeros(0, np.uint64),
    np.array([7], np.int64),
    np.array([3, 3, 3], np.int64),
    np.random.default_rng(0).integers(0, 50, 1000),  # many repeats
    np.random.default_rng(1).integers(0, 2**63, 5000).astype(np.uint64),  # hashes, a few repeated below
], ids=["empty", "one", "all-equal", "repeats", "hashes"])
def test_sorted_unique_equals_numpy_unique(values):
    values = np.concatenate([values, values[: len(values) // 3]])
    got = sorted_unique(values)
    assert got.dtype == values.dtype
    assert np.array_equal(got, np.unique(values))


strings_lists = st.lists(st.one_of(st.none(), st.text(alphabet=st.characters(blacklist_categories=("Cs",)),
                                                      max_size=20)), max_size=300)


@settings(max_examples=150, deadline=None)
@given(values=strings_lists, start=st.integers(0, 50), chunks=st.integers(1, 3))
def test_strings_are_counted_as_arrow_counts_them(values, start, chunks):
    arr = pa.array(values + values[: len(values) // 2], pa.string())
    sliced = arr.slice(min(start, len(arr)))
    cut = len(sliced) // chunks
    chunked = pa.chunked_array([sliced.slice(i * cut, cut if i < chunks - 1 else None) for i in range(chunks)],
                               pa.string())
    want = pc.count_distinct(sliced).as_py()
    assert count_distinct(sliced) == want
    assert count_distinct(chunked) == want


@pytest.mark.parametrize("bits", [1, 3, 8])
def test_values_whose_hashes_collide_still_count_apart(bits):
    """With a hash of 1 to 8 bits nearly every value shares its hash with others: only the byte
    comparison keeps them apart (and equal values together)."""
    if native is None:
        pytest.fail("the extension is not built (see test_keyed_many.py::test_the_extension_is_built)")
    arr = pa.array([f"v{i % 700}" for i in range(2_000)] + ["", "é", "v1 "])
    assert native.count_distinct_arrow(*string_buffers(arr), bits) == 703
    assert native.count_distinct_arrow(*string_buffers(arr.slice(1_999))) == 4  # "v398" and the three others
    with pytest.raises(ValueError, match="bits"):
        native.count_distinct_arrow(*string_buffers(arr), 0)


@settings(max_examples=150, deadline=None)
@given(values=strings_lists, start=st.integers(0, 50))
def test_strings_are_encoded_as_arrow_encodes_them(values, start):
    arr = pa.array(values + values[: len(values) // 2], pa.string()).slice(start)
    for column in (arr, arr.drop_null(), pa.chunked_array([arr.drop_null()], pa.string())):
        got, want = dictionary_encode(column), pc.dictionary_encode(
            column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column)
        assert got.indices.to_pylist() == want.indices.to_pylist()  # codes in order of first appearance
        assert got.dictionary.to_pylist() == want.dictionary.to_pylist()


def test_encoding_keeps_values_whose_hashes_collide_apart():
    if native is None:
        pytest.fail("the extension is not built (see test_keyed_many.py::test_the_extension_is_built)")
    arr = pa.array([f"v{i % 70}" for i in range(500)] + ["", "é"])
    codes, firsts = native.encode_arrow(*string_buffers(arr), 2)
    assert np.frombuffer(codes, np.int32).tolist() == pc.dictionary_encode(arr).indices.to_pylist()
    assert np.frombuffer(firsts, np.int32).tolist() == list(range(70)) + [500, 501]
