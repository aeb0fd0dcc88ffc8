"""Arrow string arrays as bytes: what the operators' Arrow column paths (`mask_strings`) read and build.

A column of a million identifiers is a buffer of bytes and a buffer of offsets; reading and writing
those directly, in numpy and in the C digests, costs a fraction of making a Python string per value.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def string_array(values: list) -> pa.Array | None:
    """`values` as an Arrow string array (None stays null), or None when some value is no string."""
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


def string_buffers(arr: pa.Array) -> tuple[Any, np.ndarray]:
    """An Arrow string array's UTF-8 bytes and its own n + 1 int32 offsets (a slice's part of them),
    as the C loops read them."""
    if arr.type != pa.string() or arr.null_count:
        raise TypeError(f"expected an Arrow string array without nulls, got {arr.type} with {arr.null_count} nulls")
    _, offsets, data = arr.buffers()
    return (data if data is not None else b""), np.frombuffer(offsets, np.int32)[arr.offset:arr.offset + len(arr) + 1]


def fixed_width_strings(chars: np.ndarray) -> pa.Array:
    """An Arrow string array of the rows of `chars` (n × width ASCII bytes), built from its bytes."""
    n, width = chars.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(chars))])


def fixed_width_bytes(strings: pa.Array, width: int) -> np.ndarray:
    """The bytes of `strings`, every one `width` bytes long, as n × width (a view of Arrow's buffer)."""
    data, offsets = string_buffers(strings)
    if offsets[-1] - offsets[0] != len(strings) * width:
        raise ValueError(f"expected {len(strings)} strings of {width} bytes each")
    return np.frombuffer(data, np.uint8)[offsets[0]:offsets[-1]].reshape(len(strings), width)


def printable_ascii_bytes(strings: pa.Array) -> np.ndarray | None:
    """The UTF-8 bytes of `strings` (an Arrow string array without nulls) when every one is printable
    ASCII (space to "~", a stored identifier's usual form), else None: one pass over the bytes instead
    of a regex per string."""
    data, offsets = string_buffers(strings)
    raw = np.frombuffer(data, np.uint8)[offsets[0]:offsets[-1]]
    return raw if len(raw) == 0 or (raw.min() >= 0x20 and raw.max() <= 0x7E) else None


def has_blank(strings: pa.Array) -> bool:
    """Whether any string is empty or only whitespace (`not v.strip()`, the strings the per-value
    path leaves as they are): ASCII ones by Arrow, the few others in Python, for Python's notion of
    whitespace beyond ASCII."""
    raw = printable_ascii_bytes(strings)
    if raw is not None:  # the only whitespace is the space: blank is empty, or spaces where the column has any
        _, offsets = string_buffers(strings)
        if (np.diff(offsets) == 0).any():
            return True
        return bool((raw == 32).any()) and bool(pc.any(pc.match_substring_regex(strings, "^ +$")).as_py())
    if pc.any(pc.match_substring_regex(strings, r"^[\t-\r\x1c-\x1f ]*$")).as_py():
        return True
    other = pc.invert(pc.match_substring_regex(strings, "^[ -~]*$"))
    return bool(pc.any(other).as_py()) and any(not v.strip() for v in pc.filter(strings, other).to_pylist())


def in_column_order(groups: list[pa.Array], positions: list[np.ndarray]) -> pa.Array:
    """One array from groups of a column's values masked apart (`groups[k]` holds the values at
    `positions[k]`), each value back at its position."""
    if not groups:
        return pa.array([], pa.string())
    return pa.concat_arrays(groups).take(np.argsort(np.concatenate(positions), kind="stable"))


def replaced_at(arr: pa.Array, positions: np.ndarray, values: pa.Array) -> pa.Array:
    """`arr` with the values at `positions` replaced by `values` (in that order)."""
    index = np.arange(len(arr))
    index[positions] = len(arr) + np.arange(len(positions))
    return pa.concat_arrays([arr, values]).take(index)
