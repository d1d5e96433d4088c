"""Migrations build the schema from scratch on both backends and match schema.py."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from envquality.store import current_revision, upgrade_to_head
from envquality.store.schema import TABLE_NAMES, metadata

from . import BACKENDS

import pytest


@pytest.mark.parametrize("kind", BACKENDS)
def test_upgrade_from_scratch_matches_metadata(fresh_store, kind):
    with fresh_store(kind, migrate=False) as engine:
        assert current_revision(engine) is None
        assert upgrade_to_head(engine) == "0005"
        assert upgrade_to_head(engine) == "0005"  # idempotent
        insp = sa.inspect(engine)
        assert set(insp.get_table_names()) == set(TABLE_NAMES) | {"alembic_version"}
        for table in metadata.sorted_tables:
            cols = {c["name"] for c in insp.get_columns(table.name)}
            assert cols == {c.name for c in table.columns}, table.name
            pk = insp.get_pk_constraint(table.name)["constrained_columns"]
            assert pk == [c.name for c in table.primary_key.columns], table.name
            assert ({i["name"] for i in insp.get_indexes(table.name) if not i.get("duplicates_constraint")}
                    == {i.name for i in table.indexes}), table.name
            assert ({tuple(u["column_names"]) for u in insp.get_unique_constraints(table.name)}
                    == {tuple(c.name for c in u.columns) for u in table.constraints
                        if isinstance(u, sa.UniqueConstraint)}), table.name
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        assert diff == [], diff


@pytest.mark.parametrize("kind", BACKENDS)
def test_0004_downgrades_and_upgrades_again(fresh_store, kind):
    from alembic import command

    from envquality.store import alembic_config

    with fresh_store(kind) as engine:
        with engine.begin() as conn:
            command.downgrade(alembic_config(connection=conn), "0003")
        assert current_revision(engine) == "0003"
        names = set(sa.inspect(engine).get_table_names())
        assert "reading_delivery" not in names and "reading_history" not in names
        assert "delivery_id" not in {c["name"] for c in sa.inspect(engine).get_columns("ingest_log")}
        assert upgrade_to_head(engine) == "0005"
        assert {"reading_delivery", "reading_history"} <= set(sa.inspect(engine).get_table_names())
