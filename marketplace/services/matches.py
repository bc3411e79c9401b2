"""Writes on matches: run the engine for a seeker, introduce, accept, decline, expire.

Statuses follow `MATCH_TRANSITIONS` (models.py); every move is checked here.
Emails go out after commit (`marketplace.emails`); an introduction's through the outbox
(`notifications.outbox`), whose row is written in the introduction's own transaction or statement.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Q
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from categories.errors import CategoryInactive
from categories.models import Category
from currency.selectors import extra_matches_available
from currency.services import extra_matches_take
from imatch.db import column_converters, converted_row, instance_update, prepared_cursor
from imatch.errors import DomainError, ErrorCode, NotFound
from imatch.person_cache import Scope, person_forget
from imatch.text import clean_text
from marketplace import emails
from marketplace.candidates import candidate_pool, seeker_exclusions, seeker_profile
from marketplace.errors import AccountInactive, ProviderUnavailable, WrongSide
from marketplace.matching.pool import CandidatePool
from marketplace.models import (
    INTRODUCTION_TIMEOUT,
    MATCH_TRANSITIONS,
    Match,
    MatchStatus,
    Provider,
    Seeker,
    User,
    match_live_q,
)
from marketplace.selectors import LEAD_ANSWER_WINDOW, match_visible, seekers_with_free_slots
from marketplace.services.lists import lists_forget, lists_forget_sides
from marketplace.services.states import check_transition
from marketplace.services.streaks import streak_action_recorded
from notifications.models import Notification, NotificationKind
from notifications.outbox import outbox_flush_on_commit, outbox_insert_sql

DECLINE_REASON_MAX = 1000
PROGRESS_EVERY = 100  # seekers between two progress reports of a batch run


def _category_matching_check(*, category: Category) -> None:
    """Refuse to match in a category that is not launched (`CategoryInactive`)."""
    if not category.active:
        raise CategoryInactive(f"{category.display_name} is not open: no matches are made.", field="category")


# The locked read of a match with both sides, their users and the category, as one SQL statement
# written out once per process. Built by the ORM (select_related over five tables, ~90 columns),
# compiling it cost more CPU per introduction than the rest of the service.
# (alias, model, the alias it hangs from and by which field; None for the match itself)
_LOCKED_TABLES = (
    ("m", Match, None, None),
    ("s", Seeker, "m", "seeker"),
    ("su", User, "s", "user"),
    ("p", Provider, "m", "provider"),
    ("pu", User, "p", "user"),
    ("c", Category, "m", "category"),
)


@functools.cache
def _locked_statement(vendor: str) -> tuple[str, list, list]:
    """The SQL of `_locked` for a database vendor, per table its fields, and the columns' converters."""
    quote = connection.ops.quote_name
    columns, expressions, joins, tables = [], [], [], []
    for alias, model, parent, via in _LOCKED_TABLES:
        fields = model._meta.concrete_fields
        columns += [f"{alias}.{quote(field.column)}" for field in fields]
        expressions += [field.get_col(alias) for field in fields]
        tables.append((alias, model, parent, via, [field.attname for field in fields]))
        if parent is not None:
            column, key = quote(_LOCKED_MODELS[parent]._meta.get_field(via).column), quote(model._meta.pk.column)
            joins.append(f"JOIN {quote(model._meta.db_table)} {alias} ON {alias}.{key} = {parent}.{column}")
    lock = " FOR UPDATE OF m" if connection.features.has_select_for_update_of else ""
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(Match._meta.db_table)} m {' '.join(joins)} "  # noqa: S608 - names from the models
        f"WHERE m.{quote(Match._meta.pk.column)} = %s{lock}"
    )
    return sql, tables, column_converters(connection, expressions)


_LOCKED_MODELS = {alias: model for alias, model, _, _ in _LOCKED_TABLES}


def _locked(match: Match | int, *, user: User) -> Match:
    """The match row-locked (`FOR UPDATE OF` the match), with both sides, their users and the category.

    Given an id (the API), this is the only read of the match: NotFound unless `user` may see
    it (`match_visible`, checked on the locked row instead of by a query of its own before).
    Given a match, the caller has already checked that.
    """
    sql, tables, converters = _locked_statement(connection.vendor)
    with prepared_cursor(connection) as cursor:
        # Prepared once per database session: the six tables' join plans in ~10x the time it runs.
        cursor.execute(sql, [match if isinstance(match, int) else match.pk])
        row = cursor.fetchone()
    if row is None:
        raise NotFound("No such match.")
    locked = _loaded(row, tables, converters)
    if isinstance(match, int) and not match_visible(locked, user=user):
        raise NotFound("No such match.")
    return locked


def _loaded(row: tuple, tables: list, converters: list) -> Match:
    """The match of a row of `_LOCKED_TABLES`' columns, its sides, their users and its category
    cached on it as `select_related` caches them (`_locked_statement`'s tables and converters)."""
    values = converted_row(row, converters, connection)
    loaded, start = {}, 0
    for alias, model, parent, via, attnames in tables:
        loaded[alias] = model.from_db(connection.alias, attnames, values[start : start + len(attnames)])
        start += len(attnames)
        if parent is not None:
            model_field = loaded[parent]._meta.get_field(via)
            model_field.set_cached_value(loaded[parent], loaded[alias])
    return loaded["m"]


def _move(match: Match, target: str, *, message: str) -> None:
    check_transition(MATCH_TRANSITIONS, match.status, target, message=message, labels=dict(MatchStatus.choices))
    match.status = target


@transaction.atomic
def match_run_for_seeker(
    *, seeker: Seeker, pool: CandidatePool | None = None, now: datetime | None = None
) -> list[Match]:
    """Fill the seeker's free match slots with the best providers; returns the new matches.

    A seeker has `category.matches_per_request` slots, more after an extra-matches purchase
    (used up by the run that fills them; kept while no provider is left to fill them).
    Existing matches are kept: only slots freed by a decline or an expiry get new
    providers. `pool` lets a batch run share one category's loaded candidates.
    """
    now = now or timezone.now()
    seeker = Seeker.objects.select_for_update(of=("self",)).select_related("category", "user").get(pk=seeker.pk)
    category = seeker.category
    _category_matching_check(category=category)
    if not seeker.user.is_active:
        raise AccountInactive("This seeker's account is deactivated: no matches are made for it.")
    counts = Match.objects.filter(seeker=seeker).aggregate(live=Count("id", filter=match_live_q()), made=Count("id"))
    slots = category.matches_per_request - counts["live"]
    extra = extra_matches_available(user=seeker.user) if slots >= 0 else 0
    if slots + extra <= 0:
        return []
    pool = pool or candidate_pool(category, now=now)
    ranked = pool.rank(seeker_profile(seeker), limit=slots + extra, exclusions=seeker_exclusions(seeker))
    if len(ranked) > max(slots, 0):
        extra_matches_take(user=seeker.user)  # used only when the extra slots were filled
    matches = Match.objects.bulk_create(
        [
            Match(
                seeker=seeker,
                provider_id=scored.provider_id,
                category=category,
                score=Decimal(f"{scored.score:.4f}"),
                rank=counts["made"] + scored.rank,
                breakdown=scored.breakdown,
                reasons=list(scored.reasons),
                featured=scored.featured,
            )
            for scored in ranked
        ]
    )
    for match in matches:
        pool.note_lead(match.provider_id)
    if matches:
        lists_forget([seeker.user_id])  # a provider sees a match only once introduced
        emails.new_matches(seeker, count=len(matches))
    return matches


@dataclass(frozen=True)
class CategoryMatchRun:
    """What a batch run did in one category."""

    seekers: int  # seekers with a free match slot when the run started
    matched: int  # of them, those who got at least one new match
    unmatched: int  # those for whom no new compatible provider was left
    matches: int  # new matches made


# Not atomic as a whole: each seeker is matched in its own transaction, so a long run
# locks one seeker at a time and keeps what it made if it stops half-way.
def match_run_for_category(
    *,
    category: Category,
    now: datetime | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> CategoryMatchRun:
    """Fill the free match slots of every open seeker of a category, one seeker after the other.

    The category's pool is loaded once and shared: each new match counts as a lead in
    the next seeker's ranking, which spreads leads across providers. `progress(done,
    total, matches)` is called every PROGRESS_EVERY seekers and after the last one.
    """
    now = now or timezone.now()
    _category_matching_check(category=category)
    seekers = list(seekers_with_free_slots(category=category))
    if not seekers:
        return CategoryMatchRun(seekers=0, matched=0, unmatched=0, matches=0)
    pool = candidate_pool(category, now=now)
    matched = made = 0
    for number, seeker in enumerate(seekers, start=1):
        new = match_run_for_seeker(seeker=seeker, pool=pool, now=now)
        made += len(new)
        matched += bool(new)
        if progress is not None and (number % PROGRESS_EVERY == 0 or number == len(seekers)):
            progress(number, len(seekers), made)
    return CategoryMatchRun(seekers=len(seekers), matched=matched, unmatched=len(seekers) - matched, matches=made)


def match_introduce(*, match: Match | int, user: User) -> Match:
    """The seeker asks to be introduced: a conversation opens; emails are shared once the provider accepts.

    `match` is the match or its id (NotFound if the person may not see it).

    On PostgreSQL, called in no transaction (the API's call), the introduction is first tried as
    one statement (`_introduce_in_one_statement`): the match moved, both notifications and the
    emails' outbox row written, only where every check of `_match_introduce` passes. That is the
    whole write, atomic by itself: one round trip instead of six (BEGIN, the locked read, the
    update, the notifications' insert, the outbox's, COMMIT), and none to the broker. When
    it introduced nothing, `_match_introduce` runs as before and decides the refusal (404, wrong
    side, not suggested, provider unavailable), so no refusal is written twice. Inside a
    transaction, on SQLite, or when receivers listen to a match's saves, only `_match_introduce`.
    """
    if (
        ONE_STATEMENT_INTRODUCTIONS
        and connection.vendor == "postgresql"
        and connection.get_autocommit()  # in no transaction: the statement commits by itself
        and not (pre_save.has_listeners(Match) or post_save.has_listeners(Match))  # `instance_update` sends them
    ):
        introduced = _introduce_in_one_statement(match_id=match if isinstance(match, int) else match.pk, user=user)
        if introduced is not None:
            # What `_match_introduce` leaves for the commit: both sides' kept lists
            # (`lists_forget_sides`) and bells (`notify_many`), forgotten in one DEL as its commit
            # does (outside a transaction, each forget is dropped at once), then, without a broker,
            # the emails' task sent from the outbox (with one, the beat's flush sends it).
            person_forget([introduced.seeker.user_id, introduced.provider.user_id], Scope.MATCHES, Scope.NOTIFICATIONS)
            outbox_flush_on_commit()
            return introduced
    return _match_introduce(match=match, user=user)


@transaction.atomic
def _match_introduce(*, match: Match | int, user: User) -> Match:
    """The introduction in one transaction: the locked read, the checks, the update, the notifications."""
    match = _locked(match, user=user)
    if user.pk != match.seeker.user_id:
        raise WrongSide("Only the seeker asks for an introduction.")
    _move(match, MatchStatus.INTRODUCED, message="Only a suggested match can be introduced.")
    provider = match.provider
    if not provider.user.is_active:
        raise ProviderUnavailable(f"{provider.business_name} is no longer on I MATCH.")
    if not provider.accepting_clients:
        raise ProviderUnavailable(f"{provider.business_name} is not accepting new clients right now.")
    match.introduced_at = timezone.now()
    instance_update(match, ("status", "introduced_at", "updated_at"))  # the save, its UPDATE written out
    lists_forget_sides(match)
    emails.introduction(match)
    return match


# The tests switch it off to run the general path on PostgreSQL and compare the two.
ONE_STATEMENT_INTRODUCTIONS = True
# The statuses a match is introduced from (`MATCH_TRANSITIONS`): a text[] parameter, the values.
_INTRODUCED_FROM = [str(status) for status, targets in MATCH_TRANSITIONS.items() if MatchStatus.INTRODUCED in targets]


# What an introduction's answer reads of each table of `_LOCKED_TABLES`, by field (`match_row` of
# the API, and the forgets of `match_introduce`): the one statement returns only these columns, and
# the other fields of the match it gives, and of its sides, are deferred. All 120 columns made a
# statement too long for psycopg to keep parsed (over 4,096 characters: parsed again on every
# call) and six whole model instances per introduction.
_INTRODUCED_FIELDS = {
    "m": (
        *("id", "category", "seeker", "provider", "status", "score", "rank", "reasons", "breakdown", "featured"),
        *("introduced_at", "responded_at", "decline_reason", "created_at"),
    ),
    "s": ("id", "user", "needs_description", "budget_min", "budget_max", "location", "remote_ok"),
    "su": ("id", "name", "email"),
    "p": ("id", "user", "business_name", "location", "remote", "license_verified", "rating_avg", "rating_count"),
    "pu": ("id", "name", "email"),
    "c": ("id", "name", "display_name"),
}


@functools.cache
def _introduce_statement() -> tuple[str, list, list]:
    """The SQL of `_introduce_in_one_statement` (PostgreSQL), written out once per process (names
    from the models), with the tables it loads (as `_locked_statement` lists them, each with its
    fields of `_INTRODUCED_FIELDS`) and the converters of its columns.

    `introduced` moves the match only where every check of `_match_introduce` passes: the match,
    its seeker's user is the person, its status may move to introduced, the provider's user is
    active and the provider accepts clients. It returns the columns of `_INTRODUCED_FIELDS` (the
    match as moved), each named after its table's alias. `notified` inserts both notifications
    from that row and `queued` the outbox row of the emails' task
    (`emails.introduction_emails_queue`'s), so they are written exactly when the match moved (a
    data-modifying CTE runs once, to the end, whether or not the outer query reads it). Under
    concurrent introductions PostgreSQL checks the WHERE again on the newest version of the match:
    one moves it, the others find no row.
    """
    quote = connection.ops.quote_name
    columns, expressions, loaded, tables, joins = [], [], [], [], []
    for alias, model, parent, via in _LOCKED_TABLES:
        # In the model's order: `Model.from_db` takes a subset's values in that order.
        fields = sorted(map(model._meta.get_field, _INTRODUCED_FIELDS[alias]), key=model._meta.concrete_fields.index)
        columns += [f"{alias}.{quote(field.column)} AS {quote(f'{alias}_{field.column}')}" for field in fields]
        expressions += [field.get_col(alias) for field in fields]
        loaded.append((alias, model, parent, via, [field.attname for field in fields]))
        if parent is not None:
            tables.append(f"{quote(model._meta.db_table)} {alias}")
            column = quote(_LOCKED_MODELS[parent]._meta.get_field(via).column)
            joins.append(f"{alias}.{quote(model._meta.pk.column)} = {parent}.{column}")
    match, notification = Match._meta, Notification._meta

    def col(model, name: str) -> str:
        return quote(model._meta.get_field(name).column)

    def returned(alias: str, model, name: str) -> str:
        return quote(f"{alias}_{model._meta.get_field(name).column}")

    inserted = ", ".join(col(Notification, name) for name in ("user", "kind", "text", "link", "created_at"))
    # The emails' task with the match's id, queued at the time of the introduction.
    emails_queued = outbox_insert_sql(
        rows="introduced",
        kwargs={"match_id": returned("m", Match, "id")},
        queued_at=returned("m", Match, "introduced_at"),
    )
    # One notification: its user, then the kind, its text (the wording's template, a parameter, of
    # a returned column, cut as `notify_many` cuts it), its link, at the time of the introduction;
    # unread (`read_at` left out: NULL).
    notice = (
        f"%s::text, left(format(%s::text, {{column}}), {Notification.TEXT_MAX}), %s::text, "
        f"{returned('m', Match, 'introduced_at')}"
    )
    sql = (
        f"WITH introduced AS (UPDATE {quote(match.db_table)} m "  # noqa: S608 - names from the models
        f"SET {col(Match, 'status')} = %s, {col(Match, 'introduced_at')} = %s, {col(Match, 'updated_at')} = %s "
        f"FROM {', '.join(tables)} WHERE {' AND '.join(joins)} "
        f"AND m.{quote(match.pk.column)} = %s AND s.{col(Seeker, 'user')} = %s AND m.{col(Match, 'status')} = ANY(%s) "
        f"AND pu.{col(User, 'is_active')} AND p.{col(Provider, 'accepting_clients')} "
        f"RETURNING {', '.join(columns)}), "
        f"notified AS (INSERT INTO {quote(notification.db_table)} ({inserted}) "
        f"SELECT {returned('su', User, 'id')}, {notice.format(column=returned('p', Provider, 'business_name'))} "
        "FROM introduced UNION ALL "
        f"SELECT {returned('pu', User, 'id')}, {notice.format(column=returned('c', Category, 'display_name'))} "
        "FROM introduced), "
        f"queued AS ({emails_queued}) "
        "SELECT * FROM introduced"
    )
    return sql, loaded, column_converters(connection, expressions)


@functools.cache
def _introduction_wordings() -> tuple[str, str]:
    """The notifications' wordings (`emails.INTRODUCTION_TO_*`) as templates of PostgreSQL's `format`."""
    return (
        emails.INTRODUCTION_TO_SEEKER.replace("%", "%%").format(business_name="%s"),
        emails.INTRODUCTION_TO_PROVIDER.replace("%", "%%").format(category="%s"),
    )


def _introduce_in_one_statement(*, match_id: int, user: User) -> Match | None:
    """The introduction as one statement (`_introduce_statement`): the match as `_locked` loads it
    but with only the answer's fields (`_INTRODUCED_FIELDS`), moved to introduced, with both
    notifications and the emails' outbox row written; None when it introduced nothing (a check
    failed, or there is no such match): nothing was written."""
    sql, tables, converters = _introduce_statement()
    now = timezone.now()
    to_seeker, to_provider = emails.introduction_links(match_id)
    seeker_wording, provider_wording = _introduction_wordings()
    kind = str(NotificationKind.INTRODUCTION)
    with prepared_cursor(connection) as cursor:
        # Prepared once per database session, as `_locked` is.
        cursor.execute(
            sql,
            [
                *(str(MatchStatus.INTRODUCED), now, now),
                *(match_id, user.pk, _INTRODUCED_FROM),
                *(kind, seeker_wording, to_seeker),
                *(kind, provider_wording, to_provider),
                emails.introduction_emails.name,
            ],
        )
        row = cursor.fetchone()
    return None if row is None else _loaded(row, tables, converters)


def _lead_answered(match: Match) -> None:
    """A provider answered a lead: within 24 hours it counts for their streak."""
    if match.introduced_at and match.responded_at - match.introduced_at <= LEAD_ANSWER_WINDOW:
        streak_action_recorded(user=match.provider.user)


@transaction.atomic
def match_accept(*, match: Match | int, user: User) -> Match:
    """The provider accepts an introduction: each side gets the other's email; they can agree on an engagement.

    `match` is the match or its id (NotFound if the person may not see it).
    """
    match = _locked(match, user=user)
    if user.pk != match.provider.user_id:
        raise WrongSide("Only the provider accepts an introduction.")
    _move(match, MatchStatus.ACCEPTED, message="Only an introduction waiting for an answer can be accepted.")
    match.responded_at = timezone.now()
    instance_update(match, ("status", "responded_at", "updated_at"))
    lists_forget_sides(match)
    emails.match_accepted(match)
    _lead_answered(match)
    return match


@transaction.atomic
def match_decline(*, match: Match, user: User, reason: str = "") -> Match:
    """Either side declines; the pair is never matched again.

    When the provider declines, the seeker gets the next-best provider at once.
    """
    match = _locked(match, user=user)
    is_seeker = user.pk == match.seeker.user_id
    is_provider = user.pk == match.provider.user_id
    if not (is_seeker or is_provider):
        raise WrongSide("Only the seeker or the provider of a match can decline it.")
    if is_provider and not is_seeker and match.status == MatchStatus.SUGGESTED:
        raise WrongSide("The seeker has not asked for an introduction yet.")
    reason = clean_text(reason)
    if len(reason) > DECLINE_REASON_MAX:
        raise DomainError(
            f"Keep the reason under {DECLINE_REASON_MAX} characters.", field="reason", code=ErrorCode.TOO_LONG
        )
    was_known_to_both = match.status != MatchStatus.SUGGESTED
    _move(match, MatchStatus.DECLINED, message="This match can no longer be declined.")
    match.declined_by = user
    match.decline_reason = reason
    match.responded_at = timezone.now()
    instance_update(match, ("status", "declined_by", "decline_reason", "responded_at", "updated_at"))
    lists_forget_sides(match)
    if was_known_to_both:
        emails.match_declined(match, by=user)
    if is_provider and not is_seeker:
        _lead_answered(match)
    if is_provider and not is_seeker and match.category.active and match.seeker.user.is_active:
        match_run_for_seeker(seeker=match.seeker)
    return match


@transaction.atomic
def matches_close_for_deactivated(*, user: User, operator: User, now: datetime | None = None) -> list[Match]:
    """Decline the suggested matches and open introductions of a deactivated person, on both sides.

    Called by `user_deactivate`. Declined by the operator, with no note for the other
    side: the other side of an introduction gets an email saying the person left; seekers
    who lose a provider this way get the next-best one at once. (Accepted matches and
    engagements are left to the operator.)
    """
    now = now or timezone.now()
    open_matches = list(
        Match.objects.filter(Q(seeker__user=user) | Q(provider__user=user))
        .filter(status__in=(MatchStatus.SUGGESTED, MatchStatus.INTRODUCED))
        .select_for_update(of=("self",))
        .select_related("seeker__user", "provider__user", "category")
        .order_by("pk")
    )
    for match in open_matches:
        was_introduced = match.status == MatchStatus.INTRODUCED
        _move(match, MatchStatus.DECLINED, message="This match can no longer be declined.")
        match.declined_by = operator
        match.responded_at = now
        match.save(update_fields=["status", "declined_by", "responded_at", "updated_at"])
        lists_forget_sides(match)
        if was_introduced:
            emails.match_withdrawn(match, departed=user)
    left_by_provider = {m.seeker_id: m for m in open_matches if m.seeker.user_id != user.pk}
    for match in left_by_provider.values():
        if match.category.active and match.seeker.user.is_active:
            match_run_for_seeker(seeker=match.seeker, now=now)
    return open_matches


@transaction.atomic
def match_expire_stale(*, now: datetime | None = None, category: Category | None = None) -> list[Match]:
    """Expire introductions the provider left unanswered for 72 hours; their seekers get the next-best provider."""
    now = now or timezone.now()
    stale = Match.objects.filter(status=MatchStatus.INTRODUCED, introduced_at__lt=now - INTRODUCTION_TIMEOUT)
    if category is not None:
        stale = stale.filter(category=category)
    stale = list(
        stale.select_for_update(of=("self",))
        .select_related("seeker__user", "provider__user", "category")
        .order_by("pk")
    )
    for match in stale:
        _move(match, MatchStatus.EXPIRED, message="Only an introduction can expire.")
        match.responded_at = now
        match.save(update_fields=["status", "responded_at", "updated_at"])
        lists_forget_sides(match)
        emails.match_expired(match)
    for match in {match.seeker_id: match for match in stale}.values():
        if match.category.active and match.seeker.user.is_active:
            match_run_for_seeker(seeker=match.seeker, now=now)
    return stale
