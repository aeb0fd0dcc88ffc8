"""The CLI's error boundary names what failed: a library's exception by its type and the module that
raised it (its message may quote data), never a guess at the cause."""

from __future__ import annotations

from urllib.parse import urlsplit

from hurricane_assets.cli.errors import describe


def test_a_library_error_is_named_by_type_and_module_not_blamed_on_the_state():
    try:
        urlsplit("http://[secret-value")  # raised inside urllib.parse, with the value in its message
    except ValueError as exc:
        message = describe(exc, "hurricane contracts revoke")
    assert message.startswith("hurricane contracts revoke failed: ValueError in urllib.parse")
    assert "secret-value" not in message and "state it read" not in message
