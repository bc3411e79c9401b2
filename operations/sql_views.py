"""The SQL views for operators' own queries, and keeping them through later migrations.

Migration 0001 created them with its own frozen copy of this SQL. SQLite refuses to rebuild a
table (Django's way to alter one) while a view names it, so every `migrate` drops the views
first (pre_migrate) and creates them again from this module once it is done (post_migrate),
if 0001 is applied. Editing the SQL here therefore changes the views at the next `migrate`.
"""

from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

VIEWS_MIGRATION = ("operations", "0001_convenience_views")

SQLITE_WEEK = "date({column}, 'weekday 0', '-6 days')"
POSTGRES_WEEK = "CAST(date_trunc('week', {column} AT TIME ZONE 'UTC') AS date)"
SQLITE_LIST = (
    "(SELECT group_concat(name, ',') FROM (SELECT c.name FROM {table} p JOIN categories c ON c.id = p.category_id "
    "WHERE p.user_id = u.id ORDER BY c.name))"
)
POSTGRES_LIST = (
    "(SELECT string_agg(c.name, ',' ORDER BY c.name) FROM {table} p JOIN categories c ON c.id = p.category_id "
    "WHERE p.user_id = u.id)"
)


def statements(vendor: str) -> list[str]:
    if vendor == "sqlite":
        week, listed = SQLITE_WEEK, SQLITE_LIST
    elif vendor == "postgresql":
        week, listed = POSTGRES_WEEK, POSTGRES_LIST
    else:
        raise NotImplementedError(f"No convenience views for {vendor}.")
    # The SQL is made of constants only (no input): S608 does not apply.
    return [
        f"""CREATE VIEW v_revenue_by_category_week AS
        SELECT {week.format(column="e.created_at")} AS week_start,
               c.id AS category_id, c.name AS category, c.display_name AS display_name,
               COUNT(e.id) AS engagements,
               SUM(e.deal_value_usd) AS total_deal_value,
               SUM(e.commission_usd) AS total_commission
        FROM engagements e JOIN categories c ON e.category_id = c.id
        GROUP BY {week.format(column="e.created_at")}, c.id, c.name, c.display_name""",  # noqa: S608
        f"""CREATE VIEW v_pot_flows_week AS
        SELECT {week.format(column="t.created_at")} AS week_start,
               t.transaction_type AS transaction_type, t.category AS category,
               COUNT(*) AS transaction_count, SUM(t.amount) AS total_pot
        FROM pot_transactions t
        GROUP BY {week.format(column="t.created_at")}, t.transaction_type, t.category""",  # noqa: S608
        f"""CREATE VIEW v_user_roles AS
        SELECT u.id AS user_id, u.email AS email, u.name AS name, u.account_type AS account_type,
               u.is_staff AS is_staff,
               {listed.format(table="seekers")} AS seeker_categories,
               {listed.format(table="providers")} AS provider_categories,
               COALESCE((SELECT w.balance FROM pot_wallets w WHERE w.user_id = u.id), 0) AS pot_balance
        FROM users u""",  # noqa: S608
    ]


DROP = [
    "DROP VIEW IF EXISTS v_revenue_by_category_week",
    "DROP VIEW IF EXISTS v_pot_flows_week",
    "DROP VIEW IF EXISTS v_user_roles",
]


def drop(*, using: str) -> None:
    with connections[using].cursor() as cursor:
        for statement in DROP:
            cursor.execute(statement)


def recreate(*, using: str) -> None:
    """Drop and create the views (when their migration is applied)."""
    connection = connections[using]
    if not MigrationRecorder(connection).migration_qs.filter(app=VIEWS_MIGRATION[0], name=VIEWS_MIGRATION[1]).exists():
        return
    drop(using=using)
    with connection.cursor() as cursor:
        for statement in statements(connection.vendor):
            cursor.execute(statement)


def before_migrate(sender, using: str = "default", **kwargs) -> None:
    """pre_migrate: no view may name a table that a migration is about to rebuild."""
    drop(using=using)


def after_migrate(sender, using: str = "default", **kwargs) -> None:
    """post_migrate: the views again, on the tables as they are now."""
    recreate(using=using)
