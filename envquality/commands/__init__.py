"""Subcommands of the ``envquality`` CLI; each module exposes ``register(subparsers)``."""
