"""The CLI's one error boundary: every failure becomes one line on stderr and an exit code.

Exit codes (documented in README and `hurricane --help`): 0 ok; 1 a request denied or a check that
failed (ledger verify, the demo's loop); 2 bad input — arguments, options, or state files that
cannot be read; 3 `request` delivered a copy that then failed its blocking check; 130 interrupted by
Ctrl-C (typer turns a KeyboardInterrupt into it; `demo --stack services` stops its stack first and
says so in one line). No traceback ever reaches the user.

Messages never carry data values. An exception's own message is shown only when it was raised by
this project's code (whose messages name fields, files and inputs, never row values) or is one of
a few standard kinds whose parts are known (a file error's path, a JSON error's position, a
pydantic error's field); anything else — pyarrow, deltalake, pandas, whose messages may quote a
row — is shown by its type and the command only. `HURRICANE_DEBUG=1` re-raises for a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import typer
from pydantic import ValidationError
from typer._click import exceptions as click  # typer vendors its own click; its exceptions are these
from typer.core import TyperGroup

OK, DENIED, BAD_INPUT = 0, 1, 2
CHECK_FAILED = 3  # delivered, then a blocking check failed: the copy is there, not fit for the model
INTERRUPTED = 130  # Ctrl-C, as a shell reports it (128 + SIGINT); typer gives it to a KeyboardInterrupt
OWN_PACKAGES = ("hurricane_assets", "negotiation_graph", "domains")
MAX_MESSAGE = 300  # one line a terminal can still show whole-ish; ids of 300 characters are cut


class CliInputError(Exception):
    """Bad input found by a command itself; its message is shown as is."""


def fail(message: str) -> None:
    """Stop the command with a one-line error and exit code 2."""
    raise CliInputError(message)


def _raising_module(exc: BaseException) -> str:
    """The module whose code raised `exc` (the innermost frame of its traceback)."""
    tb = exc.__traceback__
    module = ""
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        tb = tb.tb_next
    return module


def _raised_in_own_code(exc: BaseException) -> bool:
    return _raising_module(exc).split(".")[0] in OWN_PACKAGES


def _short(text: Any, limit: int = 80) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(exc: BaseException, command: str) -> str:
    """One line saying what went wrong and where, without data values."""
    if isinstance(exc, CliInputError):
        message = str(exc)
    elif isinstance(exc, ValidationError):
        first = exc.errors(include_input=False, include_url=False)[0]
        where = ".".join(map(str, first["loc"])) or exc.title
        message = f"{exc.title}: {where}: {first['msg']} ({exc.error_count()} error(s))"
    elif isinstance(exc, json.JSONDecodeError):
        message = f"{command}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
    elif isinstance(exc, OSError) and exc.strerror:
        where = f": {_short(exc.filename)}" if exc.filename else ""
        message = f"{command}: {exc.strerror}{where}"
    elif _raised_in_own_code(exc) and str(exc):
        # KeyError quotes its message; our own messages are whole sentences
        message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    else:
        # only the type and where: the cause may be a network, a disk or a state file, and its text may quote data
        where = f" in {_raising_module(exc)}" if _raising_module(exc) else ""
        message = (f"{command} failed: {type(exc).__name__}{where} (its message is not shown, as it may quote "
                   "data; HURRICANE_DEBUG=1 shows the traceback)")
    message = " ".join(message.split())
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


class HurricaneGroup(TyperGroup):
    """The root command: runs everything in non-standalone mode and turns whatever escapes into
    one line and an exit code, for every subcommand at once."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # noqa: ANN001
        argv = list(sys.argv[1:] if args is None else args)
        command = "hurricane " + " ".join(a for a in argv[:2] if not a.startswith("-"))
        try:
            code = super().main(args=argv, prog_name=prog_name or "hurricane", complete_var=complete_var,
                                standalone_mode=False, **extra)
            code = code if isinstance(code, int) else OK
        except click.NoArgsIsHelpError as exc:
            if exc.format_message().strip():  # with rich installed, the help is already printed
                exc.show()
            code = BAD_INPUT
        except click.ClickException as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if isinstance(exc, click.UsageError) and exc.ctx else ""
            typer.echo(f"error: {describe(CliInputError(exc.format_message()), command)}{hint}", err=True)
            code = exc.exit_code
        except typer.Abort:
            typer.echo("error: aborted", err=True)
            code = DENIED
        except Exception as exc:  # the boundary: nothing below it prints a traceback
            if os.environ.get("HURRICANE_DEBUG") == "1":
                raise
            typer.echo(f"error: {describe(exc, command.strip())}", err=True)
            code = BAD_INPUT
        if standalone_mode:
            sys.exit(code)
        return code

    def __call__(self, *args, **kwargs):  # noqa: ANN002, ANN003
        """The process's entry point (`hurricane …`, `python -m hurricane_assets.cli.main`; a test's
        CliRunner calls `main` and never gets here): once the command is done, end the process
        without the interpreter's finalization. Arrow's I/O threads (deltalake's datasets read
        through a Python filesystem handler) can still be winding down then; one that needs the GIL
        after finalization began is killed inside C++ and aborts the process — `terminate called
        without an active exception`, exit 134 — after a command that succeeded (apache/arrow#34314)."""
        try:
            self.main(*args, **kwargs)
        except SystemExit as exc:
            code = exc.code
        else:
            code = OK
        end_process(code)


def end_process(code: Any) -> None:
    """Do what the interpreter does at exit — end the threads still running, run the atexit
    handlers (temp folders, multiprocessing, logging), flush the streams — then `os._exit`, which
    skips the module teardown where native threads abort."""
    import atexit
    import threading

    if code is None:
        code = OK
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = DENIED
    # the interpreter's own first exit step: it runs the exit hooks of `threading` (concurrent.futures'
    # wakes its idle pool workers so they end) and then joins every non-daemon thread; joining the
    # threads alone waited forever on a pool's idle worker (a library's module-level executor)
    threading._shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`hurricane … | head`) or a closed stream
            pass
    os._exit(code)
