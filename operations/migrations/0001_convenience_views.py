"""SQL views for operators' own queries (the plan's "views for convenience queries").

- v_revenue_by_category_week: per week (starting Monday, UTC) and category, the engagements
  reported, their deal value and commission (as the runbook's revenue query counts them);
- v_pot_flows_week: per week, transaction type and reason, the POT transactions and their
  signed POT;
- v_user_roles: per user, the categories they are a seeker in and a provider in (comma
  separated, by name) and their POT balance.

The SQL differs by database only in the week and the list functions. This migration carries
its own copy of it: later edits of the app never change what it did. On SQLite, Django
rebuilds a table to alter it; SQLite then refuses while a view names that table, so the
views are dropped before and created after such a migration (`operations.views.recreate`).
"""

from django.db import migrations

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


def create(apps, schema_editor):
    for statement in statements(schema_editor.connection.vendor):
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    for statement in DROP:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("categories", "0004_deal_review_thresholds"),
        ("marketplace", "0009_referral_over_limit"),
        ("currency", "0010_experiments_and_verbose_names"),
    ]

    operations = [migrations.RunPython(create, drop)]
