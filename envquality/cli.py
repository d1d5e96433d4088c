"""Command-line entry point: ``envquality SUBCOMMAND ...``.

Each subcommand lives in a module of :mod:`envquality.commands` that exposes
``register(subparsers)``; this file only assembles them.  Errors that are the
input's fault (:class:`envquality.iotools.common.InputError`) print one clear
line and exit with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from typing import Any, Sequence

from envquality import __version__


class _SafeParser(argparse.ArgumentParser):
    """Argparse whose messages (which echo the user's arguments) are neutralised for the terminal."""

    def _print_message(self, message: str, file: Any = None) -> None:
        from envquality.text import terminal_safe

        super()._print_message(terminal_safe(message, keep_newlines=True), file)


def build_parser() -> argparse.ArgumentParser:
    parser = _SafeParser(
        prog="envquality",
        description="Environmental-quality monitoring: air (HJ 633/GB 3095/HJ 663) and drinking-water sources.",
    )
    parser.add_argument("--version", action="version", version=f"envquality {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    import envquality.commands as commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"envquality.commands.{info.name}")
        if hasattr(module, "register"):
            module.register(sub)
    return parser


def _one_line(exc: object) -> str:
    """The message as one terminal-safe line (control characters and newlines neutralised)."""
    from envquality.text import terminal_safe

    return " ".join(terminal_safe(exc).split())


def main(argv: Sequence[str] | None = None) -> int:
    from envquality.iotools.common import InputError
    from envquality.store.engine import StoreNotReady

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (InputError, StoreNotReady) as exc:
        print(f"envquality: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # output piped into `head` and the like: stop quietly, as Unix tools do
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except (OSError, ValueError) as exc:
        # unreadable paths (missing, a directory, undecodable) and unparseable argument values
        # (dates such as 2026-13-01): the user's input, so one line, never a traceback
        print(f"envquality: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # an unusable --db store: one line (envquality.store.errors), else re-raise
        import os

        from envquality.store.errors import describe_store_error

        line = describe_store_error(exc, getattr(args, "db", None) or os.environ.get("ENVQUALITY_DB_URL"))
        if line is None:
            raise
        print(f"envquality: error: {_one_line(line)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("envquality: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
