"""Alembic environment of the store (configured programmatically).

Use :func:`envquality.store.migrate` or :func:`envquality.store.upgrade_to_head`;
no ``alembic.ini`` is needed.  A connection passed in
``config.attributes["connection"]`` is used as is (its ``search_path``
decides the PostgreSQL schema); otherwise an engine is built from the
``sqlalchemy.url`` option or :func:`envquality.store.engine.make_engine`.
"""

from __future__ import annotations

from alembic import context

from envquality.store.schema import metadata

config = context.config
target_metadata = metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from envquality.store.engine import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
