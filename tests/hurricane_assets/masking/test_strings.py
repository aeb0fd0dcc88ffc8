"""Arrow string arrays read and built as bytes (`masking/strings.py`): each helper agrees with the
Python it stands for, on slices too (an Arrow slice's offsets start inside the shared buffers)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hurricane_assets.masking.strings import fixed_width_strings, has_blank, printable_ascii_bytes, string_buffers

SPACES = " \t\n\v\f\r\x1c\x1d\x1e\x1f\x85\xa0\u2003\u3000"
# Arrow holds UTF-8: no lone surrogates (a column with one fails to build long before masking).
VALUES = st.lists(st.text(alphabet=st.one_of(st.sampled_from(SPACES), st.sampled_from("ab1~"),
                                             st.characters(exclude_categories=("Cs",))),
                          max_size=6), max_size=10)


@settings(max_examples=400, deadline=None)
@given(VALUES, st.integers(0, 3))
def test_has_blank_is_any_value_that_strips_to_nothing(values, start):
    own = values[min(start, len(values)):]
    arrow = pa.array(values, pa.string()).slice(min(start, len(values)))
    assert has_blank(arrow) == any(not v.strip() for v in own)


def test_has_blank_on_printable_columns():
    assert not has_blank(pa.array(["cust_1", "a b", "~"]))
    assert has_blank(pa.array(["cust_1", ""]))
    assert has_blank(pa.array(["cust_1", "   "]))
    assert has_blank(pa.array(["x", "\u3000"]))  # Python's whitespace beyond ASCII
    assert not has_blank(pa.array([], pa.string()))


@settings(max_examples=200, deadline=None)
@given(VALUES, st.integers(0, 3))
def test_printable_ascii_bytes_only_when_every_character_is(values, start):
    own = values[min(start, len(values)):]
    raw = printable_ascii_bytes(pa.array(values, pa.string()).slice(min(start, len(values))))
    printable = all(" " <= ch <= "~" for v in own for ch in v)
    assert (raw is not None) == printable
    if printable:
        assert raw.tobytes() == "".join(own).encode()


def test_fixed_width_strings_are_the_rows_as_text():
    chars = np.frombuffer(b"abcdefXYZ012", np.uint8).reshape(4, 3)
    out = fixed_width_strings(chars)
    assert out.type == pa.string() and out.to_pylist() == ["abc", "def", "XYZ", "012"]
    assert fixed_width_strings(chars[:, :2]).to_pylist() == ["ab", "de", "XY", "01"]  # a strided view
    assert fixed_width_strings(np.empty((0, 5), np.uint8)).to_pylist() == []


def test_string_buffers_refuse_nulls_and_other_types():
    with pytest.raises(TypeError, match="without nulls"):
        string_buffers(pa.array(["a", None]))
    with pytest.raises(TypeError, match="int64"):
        string_buffers(pa.array([1]))
    data, offsets = string_buffers(pa.array(["", ""]))  # no data buffer at all
    assert bytes(data) == b"" and offsets.tolist() == [0, 0, 0]
