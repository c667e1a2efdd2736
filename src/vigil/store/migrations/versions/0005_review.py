"""the review app: review items, their sightings, votes, exposure; trusted flag on assessments

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "exposure",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reveals", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("breaks", sa.Integer(), nullable=False),
        sa.Column("reveals_at_break", sa.Integer(), nullable=False),
        sa.Column("seconds_at_break", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_exposure_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exposure")),
        sa.UniqueConstraint("user_id", "day", name="uq_exposure_user_day"),
    )
    op.create_table(
        "review_item",
        sa.Column("id", ID, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("hashes", sa.JSON(), nullable=False),
        sa.Column("quality", sa.JSON(), nullable=True),
        sa.Column("pdq", sa.LargeBinary(), nullable=True),
        sa.Column("pdq_quality", sa.Integer(), nullable=True),
        sa.Column("media_type", sa.String(length=100), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=2), nullable=True),
        sa.Column("entry_id", ID, nullable=True),
        sa.Column("scan_item_id", ID, nullable=True),
        sa.Column("submission_id", ID, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trusted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["entry_id"], ["entry.id"], name=op.f("fk_review_item_entry_id_entry")),
        sa.ForeignKeyConstraint(
            ["scan_item_id"], ["scan_item.id"], name=op.f("fk_review_item_scan_item_id_scan_item")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submission.id"], name=op.f("fk_review_item_submission_id_submission")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_item")),
        sa.UniqueConstraint("key", name=op.f("uq_review_item_key")),
    )
    op.create_index(op.f("ix_review_item_entry_id"), "review_item", ["entry_id"], unique=False)
    op.create_index("ix_review_item_status", "review_item", ["status"], unique=False)
    op.create_table(
        "review_link",
        sa.Column("id", ID, nullable=False),
        sa.Column("item_id", ID, nullable=False),
        sa.Column("scan_id", ID, nullable=True),
        sa.Column("scan_item_id", ID, nullable=True),
        sa.Column("submission_id", ID, nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("group_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["review_item.id"], name=op.f("fk_review_link_item_id_review_item")
        ),
        sa.ForeignKeyConstraint(["scan_id"], ["scan.id"], name=op.f("fk_review_link_scan_id_scan")),
        sa.ForeignKeyConstraint(
            ["scan_item_id"], ["scan_item.id"], name=op.f("fk_review_link_scan_item_id_scan_item")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submission.id"], name=op.f("fk_review_link_submission_id_submission")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_link")),
        sa.UniqueConstraint("scan_item_id", name=op.f("uq_review_link_scan_item_id")),
        sa.UniqueConstraint("submission_id", name=op.f("uq_review_link_submission_id")),
    )
    op.create_index("ix_review_link_item_id", "review_link", ["item_id"], unique=False)
    op.create_index("ix_review_link_scan_group", "review_link", ["scan_id", "group_id"], unique=False)
    op.create_table(
        "review_vote",
        sa.Column("id", ID, nullable=False),
        sa.Column("item_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("user_name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=2), nullable=False),
        sa.Column("series", sa.String(length=200), nullable=True),
        sa.Column("victim_identified", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("assessment_id", ID, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"], ["assessment.id"], name=op.f("fk_review_vote_assessment_id_assessment")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["review_item.id"], name=op.f("fk_review_vote_item_id_review_item")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_review_vote_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_vote")),
        sa.UniqueConstraint("item_id", "user_id", "kind", name="uq_review_vote_item_user_kind"),
    )
    op.create_index(op.f("ix_review_vote_item_id"), "review_vote", ["item_id"], unique=False)
    op.create_index(op.f("ix_review_vote_user_id"), "review_vote", ["user_id"], unique=False)
    # Every assessment so far came from an import: trusted as its source states it. On SQLite this is a
    # plain ADD COLUMN (no table copy).
    with op.batch_alter_table("assessment") as batch_op:
        batch_op.add_column(sa.Column("trusted", sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("assessment") as batch_op:
        batch_op.drop_column("trusted")
    op.drop_index(op.f("ix_review_vote_user_id"), table_name="review_vote")
    op.drop_index(op.f("ix_review_vote_item_id"), table_name="review_vote")
    op.drop_table("review_vote")
    op.drop_index("ix_review_link_scan_group", table_name="review_link")
    op.drop_index("ix_review_link_item_id", table_name="review_link")
    op.drop_table("review_link")
    op.drop_index("ix_review_item_status", table_name="review_item")
    op.drop_index(op.f("ix_review_item_entry_id"), table_name="review_item")
    op.drop_table("review_item")
    op.drop_table("exposure")
