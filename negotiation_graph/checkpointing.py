"""Durable checkpoints: a SQLite saver whose deserializer admits only the state's own types.

LangGraph's default msgpack deserializer revives any importable class, so a tampered checkpoint
could instantiate arbitrary objects. The strict serializer starts from LangGraph's safe built-ins
and adds exactly the pydantic models and enums reachable from the negotiation state's annotations.
Any other saver (e.g. PostgresSaver) gets the same guard through `strict_serializer()`.
"""

from __future__ import annotations

import sqlite3
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from pydantic import BaseModel

from negotiation_graph.state import NegotiationState, ProducerState


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


def strict_serializer() -> JsonPlusSerializer:
    allowed = sorted((t.__module__, t.__name__) for t in state_types(NegotiationState, ProducerState))
    return JsonPlusSerializer(allowed_msgpack_modules=allowed)


@contextmanager
def sqlite_checkpointer(path: str | Path) -> Iterator[SqliteSaver]:
    """A `SqliteSaver` on `path` (created with its folder), closed on exit."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False)
    # WAL with synchronous=NORMAL: a committed checkpoint survives a killed process (the crash we
    # resume from); only an OS crash or power loss may lose the last few, at a fraction of the fsyncs
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    try:
        yield SqliteSaver(conn, serde=strict_serializer())
    finally:
        conn.close()
