"""Durable checkpoints: a SQLite or PostgreSQL saver whose deserializer admits only the state's own types.

LangGraph's default msgpack deserializer revives any importable class, so a tampered checkpoint
could instantiate arbitrary objects. The strict serializer starts from LangGraph's safe built-ins
and adds exactly the pydantic models and enums reachable from the negotiation state's annotations.
Both savers get the same guard through `strict_serializer()`.

A saver writes every channel at every step (SqliteSaver keeps whole checkpoints), so the same
transcript messages were encoded again at each step, the largest part of a checkpoint's cost. The
serializer keeps each frozen model's encoding and reuses it while it holds the very same object:
frozen models cannot change, and the bytes are exactly what LangGraph's encoder writes.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path

import ormsgpack
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer, _msgpack_default, _option
from langgraph.checkpoint.sqlite import SqliteSaver
from psycopg import Connection
from psycopg.rows import dict_row
from pydantic import BaseModel

from negotiation_graph.state import NegotiationState, ProducerState
from negotiation_graph.wal_database import connect_wal


def state_types(*roots: type) -> set[type]:
    """Every pydantic model and enum named, however deeply, by the annotations of `roots`."""
    found: set[type] = set()

    def visit(annotation) -> None:
        for arg in typing.get_args(annotation):
            visit(arg)
        if isinstance(annotation, type) and annotation not in found:
            if issubclass(annotation, Enum):
                found.add(annotation)
            elif issubclass(annotation, BaseModel):
                found.add(annotation)
                for field in annotation.model_fields.values():
                    visit(field.annotation)

    for root in roots:
        for annotation in typing.get_type_hints(root).values():
            visit(annotation)
    return found


class StrictSerializer(JsonPlusSerializer):
    """`JsonPlusSerializer` with an allow-list, encoding each frozen model object once."""

    max_cached = 2048  # objects; one negotiation's checkpoints hold a few hundred

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # id -> (the object, its encoding): holding the object keeps its id from being reused
        self._encoded: dict[int, tuple[BaseModel, ormsgpack.Ext]] = {}

    def _default(self, obj):
        if isinstance(obj, BaseModel) and obj.model_config.get("frozen"):
            held = self._encoded.get(id(obj))
            if held is not None and held[0] is obj:
                return held[1]
            encoded = _msgpack_default(obj)
            if len(self._encoded) >= self.max_cached:
                self._encoded = {}  # (a whole new dict: another thread may be reading the old one)
            self._encoded[id(obj)] = (obj, encoded)
            return encoded
        return _msgpack_default(obj)

    def dumps_typed(self, obj):
        if obj is None or isinstance(obj, (bytes, bytearray)):
            return super().dumps_typed(obj)
        return "msgpack", ormsgpack.packb(obj, default=self._default, option=_option)


def strict_serializer() -> StrictSerializer:
    allowed = sorted((t.__module__, t.__name__) for t in state_types(NegotiationState, ProducerState))
    return StrictSerializer(allowed_msgpack_modules=allowed)


@contextmanager
def sqlite_checkpointer(path: str | Path) -> Iterator[SqliteSaver]:
    """A `SqliteSaver` on `path` (created with its folder), closed on exit."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # WAL with synchronous=NORMAL: a committed checkpoint survives a killed process (the crash we resume from)
    conn = connect_wal(path, check_same_thread=False)
    try:
        yield SqliteSaver(conn, serde=strict_serializer())
    finally:
        conn.close()


@contextmanager
def postgres_checkpointer(url: str) -> Iterator[PostgresSaver]:
    """A `PostgresSaver` on the database at `url` (tables created on first use), closed on exit.

    Autocommit: each checkpoint write is committed when `put` returns, so a killed process resumes
    from its last completed step, as with SQLite."""
    with Connection.connect(url, autocommit=True, prepare_threshold=0, row_factory=dict_row) as conn:
        saver = PostgresSaver(conn, serde=strict_serializer())
        saver.setup()  # idempotent: runs only the migrations this database has not seen
        yield saver
