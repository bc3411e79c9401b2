"""Database helpers for the whole project, for any model; nothing here imports an app."""

import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import DatabaseError, connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Count, Field, Model, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

INSERT_BATCH = 1000  # rows per `executemany` where there is no COPY


def indexes_dropped(covered: Sequence[tuple[str, str, str]]) -> list:
    """A migration's database operations that drop the single-column indexes `covered` lists as
    (table, column, index name), each served by a longer index that begins with its column; undone
    by creating them again. Only the index goes: no foreign key re-check on PostgreSQL, no table
    rebuild on SQLite (pair with `AlterField(..., db_index=False)` as state operations)."""
    from django.db import migrations

    return [
        migrations.RunSQL(
            f"DROP INDEX IF EXISTS {index}",
            reverse_sql=f"CREATE INDEX IF NOT EXISTS {index} ON {table} ({column})",
        )
        for table, column, index in covered
    ]


def prepared_cursor(connection: BaseDatabaseWrapper):
    """A cursor for the hand-written statements of the busiest writes, whose planning costs more
    than their running: on PostgreSQL each is prepared once per database session and its
    parameters are bound on the server (see `imatch.postgresql`); elsewhere `connection.cursor()`."""
    prepare = getattr(connection, "prepared_cursor", None)
    return connection.cursor() if prepare is None else prepare()


def rows_insert(*, model: type[Model], rows: Sequence[dict[str, Any]]) -> None:
    """INSERT rows of a model (attribute name -> value) through the database's bulk path.

    Why not `bulk_create`: building 110,000 model instances and preparing each of their
    values one field at a time was three quarters of the legacy import's time (26 s of 33
    on the 2-core machine, SQLite), and on PostgreSQL psycopg parsing its long multi-row
    INSERTs cost as much again. Here a value of a plain type (str, int, bool, None) goes to
    the driver as it is, as `bulk_create` would send it; any other value (Decimal, datetime)
    goes through its field's own `get_db_prep_save`. A field a row leaves out takes its
    default, and `auto_now`/`auto_now_add` fields the time of the insert, as on a save.
    PostgreSQL gets the rows by COPY, other databases by `executemany` of one INSERT.
    No signal is sent and no instance is returned: callers read back the ids they need.
    """
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    columns = [column for column in model._meta.concrete_fields if not column.primary_key]
    now = timezone.now()
    fixed: dict[str, Any] = {}  # what every row gets for a column it leaves out
    for column in columns:
        if getattr(column, "auto_now", False) or getattr(column, "auto_now_add", False):
            fixed[column.attname] = column.get_db_prep_save(now, connection)
        elif not callable(column.default):
            fixed[column.attname] = column.get_db_prep_save(column.get_default(), connection)

    def db_value(column: Field, row: dict[str, Any]) -> Any:
        if column.attname in row:
            value = row[column.attname]
            if value is None or type(value) in (str, int, bool):
                return value
            return column.get_db_prep_save(value, connection)
        if column.attname in fixed:
            return fixed[column.attname]
        return column.get_db_prep_save(column.get_default(), connection)  # a callable default: one per row

    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(column.column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # psycopg's own cursor (COPY is not DB-API); Django still turns its errors into
            # django.db errors (an IntegrityError for a duplicate key, as with an INSERT).
            with connection.wrap_database_errors, cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([db_value(column, row) for column in columns])
        else:
            sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608 - names from the model
            for start in range(0, len(rows), INSERT_BATCH):
                chunk = rows[start : start + INSERT_BATCH]
                cursor.executemany(sql, [[db_value(column, row) for column in columns] for row in chunk])


def counts_per_person(
    rows: QuerySet,
    *,
    person: str,
    at: str,
    user_ids: Iterable[int] | None = None,
    since=None,
    until=None,
    category_id: int | None = None,
    active_accounts_only: bool = False,
) -> dict[int, int]:
    """How many of `rows` each person has, by user id, in one grouped query (badges, leaderboards).

    `person` is the lookup of the user id (e.g. "author__user_id"), `at` the time field that
    `since` / `until` bound as [since, until); `category_id` keeps one category's rows,
    `active_accounts_only` leaves deactivated accounts out; `user_ids` None: everyone's.
    """
    if user_ids is not None:
        rows = rows.filter(**{f"{person}__in": list(user_ids)})
    if active_accounts_only:
        rows = rows.filter(**{f"{person.removesuffix('_id')}__is_active": True})
    if since is not None:
        rows = rows.filter(**{f"{at}__gte": since})
    if until is not None:
        rows = rows.filter(**{f"{at}__lt": until})
    if category_id is not None:
        rows = rows.filter(category_id=category_id)
    return dict(rows.values_list(person).annotate(n=Count("id")).values_list(person, "n"))


# --- One row by a unique column, the query written out ----------------------------------
_row_plans: "weakref.WeakKeyDictionary[BaseDatabaseWrapper, dict]" = weakref.WeakKeyDictionary()


def row_values(model: type[Model], fields: tuple[str, ...], *, unique: str, value: int | str) -> tuple | None:
    """`fields` (attribute names) of the row of `model` whose unique column `unique` is `value`; None when none is.

    What `model.objects.filter(**{unique: value}).values_list(*fields).first()` answers, for reads
    made on every request: building and compiling that query cost the ORM ~0.2 ms of CPU, more
    than the round trip. The SQL and each column's converters are worked out once per model,
    fields and connection; values are converted as the ORM converts them (e.g. SQLite's
    datetimes). `value` goes to the driver as it is: a plain int or str.
    """
    connection = connections[router.db_for_read(model)]
    plans = _row_plans.setdefault(connection, {})
    plan = plans.get((model, fields, unique))
    if plan is None:
        plan = plans[(model, fields, unique)] = _row_plan(connection, model, fields, unique)
    sql, converters = plan
    with connection.cursor() as cursor:
        cursor.execute(sql, [value])
        row = cursor.fetchone()
    return row if row is None or not converters else converted_row(row, converters, connection)


def _row_plan(connection: BaseDatabaseWrapper, model: type[Model], fields: tuple[str, ...], unique: str) -> tuple:
    meta, quote = model._meta, connection.ops.quote_name
    key = meta.get_field(unique)
    if not (key.unique or key.primary_key):
        raise ValueError(f"{meta.label}.{unique} is not unique: row_values reads one row by a unique column.")
    columns = [meta.get_field(name) for name in fields]
    sql = (
        f"SELECT {', '.join(quote(column.column) for column in columns)} FROM {quote(meta.db_table)} "  # noqa: S608 - names from the model
        f"WHERE {quote(key.column)} = %s LIMIT 1"
    )
    return sql, column_converters(connection, [column.get_col(meta.db_table) for column in columns])


def column_converters(connection: BaseDatabaseWrapper, expressions: Sequence) -> list[tuple]:
    """(index, expression, converters) of each selected column the ORM converts (the backend's, then the field's).

    For SQL written out once and run often (`row_values`, `page_values`, the token check, the
    locked match): work these out with the SQL, then give each row to `converted_row`."""
    return [
        (index, expression, converters)
        for index, expression in enumerate(expressions)
        if (converters := connection.ops.get_db_converters(expression) + expression.get_db_converters(connection))
    ]


def converted_row(row: Sequence, converters: list[tuple], connection: BaseDatabaseWrapper) -> tuple:
    """The row's values as the ORM would give them."""
    values = list(row)
    for index, expression, field_converters in converters:
        for converter in field_converters:
            values[index] = converter(values[index], expression, connection)
    return tuple(values)


# Where `page_values` puts the page's ids query into the columns query it compiled once.
_PAGE_IDS = "SELECT NULL /* the page's ids */"
_page_columns_queries: dict[tuple, tuple[str, list]] = {}


def page_values(
    page: QuerySet, columns: Sequence[str], *, annotations: Callable[[], dict[str, Any]] | None = None
) -> list[tuple]:
    """`page.values_list(*columns)` of a list's page (a filtered, ordered, sliced queryset), compiled for less.

    Compiling a values query of 20-30 columns across four joins cost Django ~1 ms of CPU per
    request (every column resolves its joins again), more than the database took to run it.
    Here Django compiles only the page's ids (its filters, order and slice: no joins but the
    filters'), and the columns come from `SELECT columns … WHERE id IN (the page's ids)
    ORDER BY (the page's order)`, compiled once per process for these columns and that order.
    The same rows in the same order with the same values as `values_list`'s (the ORM's
    converters apply). `annotations` makes the annotations the columns name (e.g. a scalar
    subquery): the page's ids need none, so the page's queryset need not carry them.
    """
    query = page.query
    connection = connections[page.db]
    ordering = tuple(query.order_by or (query.get_meta().ordering if query.default_ordering else ()))
    if (
        query.combinator
        or query.distinct
        or query.extra_order_by
        or not ordering
        or not all(isinstance(term, str) and term != "?" for term in ordering)
        or not connection.features.allow_sliced_subqueries_with_in
    ):
        wanted = annotations() if annotations else {}
        missing = {name: value for name, value in wanted.items() if name not in query.annotations}
        return list((page.annotate(**missing) if missing else page).values_list(*columns))
    key = (page.model, tuple(columns), ordering, page.db)
    if key not in _page_columns_queries:
        template = page.model._base_manager.using(page.db).annotate(**(annotations() if annotations else {}))
        ids = RawSQL(_PAGE_IDS, ())  # noqa: S611 - a constant, replaced by the SQL Django compiles for the page
        template = template.filter(pk__in=ids).order_by(*ordering).values_list(*columns)
        compiler = template.query.get_compiler(page.db)
        sql, params = compiler.as_sql()
        if params or sql.count(_PAGE_IDS) != 1:
            raise ValueError(f"page_values: the columns query of {page.model.__name__} must have no parameters.")
        _page_columns_queries[key] = (sql, [selected[0] for selected in compiler.select[: compiler.col_count]])
    sql, expressions = _page_columns_queries[key]
    ids_sql, ids_params = page.values_list("pk").query.get_compiler(page.db).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql.replace(_PAGE_IDS, ids_sql), ids_params)
        rows = cursor.fetchall()
    converters = column_converters(connection, expressions)
    return [converted_row(row, converters, connection) for row in rows] if converters else rows


# --- New rows from model instances, the INSERT written out -----------------------------
_insert_plans: "weakref.WeakKeyDictionary[BaseDatabaseWrapper, dict]" = weakref.WeakKeyDictionary()


def instance_insert(instance: Model) -> Model:
    """INSERT a new instance (its pk unset) as `instance.save(force_insert=True)` does; returns it, saved.

    For a row written by every request of a hot write (a spend's purchase): the ORM compiled
    the INSERT again for each save, ~0.25 ms of CPU. `instances_insert` of one row, related
    objects checked as `save()` checks them. It sends no `pre_save`/`post_save` signal, so a model
    that receivers listen to goes through `save(force_insert=True)` itself (as `instance_update`).
    """
    model = type(instance)
    if instance.pk is not None:
        raise ValueError(f"instance_insert inserts a new {model.__name__}: its pk is set.")
    if (
        pre_save.has_listeners(model)
        or post_save.has_listeners(model)
        or not connections[router.db_for_write(model, instance=instance)].features.can_return_columns_from_insert
    ):
        instance.save(force_insert=True)  # signals and all (or an old SQLite: no RETURNING)
        return instance
    return _inserted([instance], operation_name="save")[0]


def instances_insert(instances: Sequence[Model]) -> list[Model]:
    """INSERT new instances of one model (their pks unset) as `bulk_create` does, in one statement; returns them, saved.

    For the few rows of one event (an introduction's two notifications): built by the ORM,
    `bulk_create` of two rows cost ~0.3 ms of CPU, three times its round trip. Each value is the
    one the ORM sends (the field's `pre_save`, so `auto_now` fields take the time of the insert,
    then its `get_db_prep_save`), related objects are checked as `bulk_create` checks them, the
    rows go as one `INSERT … VALUES (…), (…) RETURNING` of parameters (worked out once per model,
    row count and connection; the pks come back in the rows' order, as `bulk_create` takes them),
    and a database error inside a transaction marks it for rollback. As with `bulk_create`, no
    signal is sent. Refused: a saved instance, models with a parent or proxies, a `db_default` or
    generated column (more than the pk to read back), values that are expressions. A database
    without RETURNING from a multi-row insert gets `bulk_create` itself.
    """
    if not instances:
        return []
    model = type(instances[0])
    if any(type(instance) is not model or instance.pk is not None for instance in instances):
        raise ValueError(f"instances_insert inserts new instances of one model ({model.__name__}): a pk is set.")
    if not connections[router.db_for_write(model, instance=instances[0])].features.can_return_rows_from_bulk_insert:
        return model._base_manager.using(router.db_for_write(model)).bulk_create(instances)
    return _inserted(instances, operation_name="bulk_create")


def _inserted(instances: Sequence[Model], *, operation_name: str) -> list[Model]:
    """The INSERT … RETURNING of `instances` (new, of one model), their pks set from it."""
    model = type(instances[0])
    using = router.db_for_write(model, instance=instances[0])
    connection = connections[using]
    plans = _insert_plans.setdefault(connection, {})
    plan = plans.get((model, len(instances)))
    if plan is None:
        plan = plans[(model, len(instances))] = _insert_plan(connection, model, len(instances))
    sql, fields, converters = plan
    values = []
    for instance in instances:
        values += insert_values(instance, fields, connection, operation_name=operation_name)
    with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
        cursor.execute(sql, values)
        returned = cursor.fetchall()
    attname = model._meta.pk.attname
    for instance, row in zip(instances, returned, strict=True):
        if converters:
            row = converted_row(row, converters, connection)
        setattr(instance, attname, row[0])
        instance._state.adding = False
        instance._state.db = using
    return list(instances)


def insert_fields(model: type[Model]) -> list[Field]:
    """The fields an INSERT of a new `model` row writes, in the model's order (all but its auto pk).

    Refused (ValueError): what a written-out INSERT cannot do as `save()` does (a model with a
    parent or a proxy, more than the auto pk to read back, a generated or `db_default` column).
    """
    meta = model._meta
    if meta.parents or meta.proxy:
        raise ValueError(f"Inserting {meta.label}: a child or proxy model; use save().")
    if list(meta.db_returning_fields) != [meta.pk] or meta.pk is not meta.auto_field:
        raise ValueError(f"Inserting {meta.label}: it reads back more than its auto pk; use save().")
    fields = [field for field in meta.local_concrete_fields if field is not meta.auto_field]
    if any(field.generated or field.has_db_default() for field in fields):
        raise ValueError(f"Inserting {meta.label}: a generated or db_default column; use save().")
    return fields


def insert_values(instance: Model, fields: Sequence[Field], connection, *, operation_name: str = "save") -> list:
    """The values of `fields` (`insert_fields`) of a new instance, as the ORM sends them in its INSERT.

    Each is the field's `pre_save` (so `auto_now` fields take the time of the insert), then its
    `get_db_prep_save`; related objects are checked as `save()` checks them. An expression is
    refused (ValueError: use save()).
    """
    instance._prepare_related_fields_for_save(operation_name=operation_name)
    values = []
    for field in fields:
        value = field.pre_save(instance, True)
        if hasattr(value, "resolve_expression"):
            raise ValueError(f"Inserting {type(instance).__name__}: its {field.name} is an expression; use save().")
        values.append(field.get_db_prep_save(value, connection))
    return values


def _insert_plan(connection: BaseDatabaseWrapper, model: type[Model], rows: int) -> tuple[str, list[Field], list]:
    meta, quote = model._meta, connection.ops.quote_name
    fields = insert_fields(model)
    row = f"({', '.join(['%s'] * len(fields))})"
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "  # noqa: S608 - names from the model
        f"VALUES {', '.join([row] * rows)} RETURNING {quote(meta.pk.column)}"
    )
    return sql, fields, column_converters(connection, [meta.pk.get_col(meta.db_table)])


# --- Some fields of a saved instance, the UPDATE written out ----------------------------
_update_plans: "weakref.WeakKeyDictionary[BaseDatabaseWrapper, dict]" = weakref.WeakKeyDictionary()


def instance_update(instance: Model, fields: tuple[str, ...]) -> None:
    """`instance.save(update_fields=fields)`, with the UPDATE written out once per model, fields and connection.

    For a row updated by every request of a hot write (an introduction's match): the ORM built
    and compiled the UPDATE again for each save, ~0.15 ms of CPU, more than its round trip.
    Each value is the one the ORM sends (the field's `pre_save`, so an `auto_now` field takes
    the time of the update and the instance keeps it, then its `get_db_prep_save`); an update
    that finds no row raises `DatabaseError` as the save does, and a database error inside a
    transaction marks it for rollback. A model that `pre_save` or `post_save` receivers listen
    to, or a value that is an expression, goes through `save()` itself.
    """
    model = type(instance)
    if pre_save.has_listeners(model) or post_save.has_listeners(model):
        instance.save(update_fields=fields)
        return
    instance._prepare_related_fields_for_save(operation_name="save")
    using = router.db_for_write(model, instance=instance)
    connection = connections[using]
    plans = _update_plans.setdefault(connection, {})
    plan = plans.get((model, fields))
    if plan is None:
        plan = plans[(model, fields)] = _update_plan(connection, model, fields)
    sql, updated = plan
    values = []
    for field in updated:
        value = field.pre_save(instance, False)
        if hasattr(value, "resolve_expression"):
            instance.save(update_fields=fields)
            return
        values.append(field.get_db_prep_save(value, connection))
    values.append(model._meta.pk.get_db_prep_value(instance.pk, connection))
    with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
        cursor.execute(sql, values)
        if cursor.rowcount < 1:
            raise DatabaseError("Save with update_fields did not affect any rows.")
    instance._state.adding = False
    instance._state.db = using


def _update_plan(connection: BaseDatabaseWrapper, model: type[Model], fields: tuple[str, ...]) -> tuple[str, list]:
    meta, quote = model._meta, connection.ops.quote_name
    if meta.parents or meta.proxy:
        raise ValueError(f"instance_update: {meta.label} is a child or proxy model; use save().")
    by_name = {name: field for field in meta.local_concrete_fields for name in (field.name, field.attname)}
    if not fields or any(name not in by_name or by_name[name].primary_key for name in fields):
        raise ValueError(f"instance_update: {fields} are not all concrete fields of {meta.label} besides its pk.")
    # The columns in the model's order, each once, as the ORM writes them.
    updated = [field for field in meta.local_concrete_fields if field.name in fields or field.attname in fields]
    if any(field.generated for field in updated):
        raise ValueError(f"instance_update: {meta.label} has a generated column among {fields}; use save().")
    table = quote(meta.db_table)
    sql = (
        f"UPDATE {table} SET {', '.join(f'{quote(field.column)} = %s' for field in updated)} "  # noqa: S608 - names from the model
        f"WHERE {table}.{quote(meta.pk.column)} = %s"
    )
    return sql, updated
