"""Quality-gate outcome on every ingest: ingest_log.gate_status and gate_findings.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ingest_log") as batch:
        batch.add_column(sa.Column("gate_status", sa.String(10),
                                   comment="quality gate outcome: pass, warning or critical (NULL: no gate ran)"))
        batch.add_column(sa.Column("gate_findings", sa.Text, comment="failed expectations of the gate, JSON"))


def downgrade() -> None:
    with op.batch_alter_table("ingest_log") as batch:
        batch.drop_column("gate_findings")
        batch.drop_column("gate_status")
