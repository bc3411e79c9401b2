"""`manage.py seed_demo`: a living marketplace built through the services, ledger clean."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from community.models import Answer, Question, Vote
from currency.models import PotTransaction, Purchase, Redemption
from library.models import Article, ArticleStatus
from marketplace.candidates import clear_pool_cache
from marketplace.demo import DEMO_DOMAIN
from marketplace.models import AccountType, Engagement, Match, Provider, Rating, Seeker, User

pytestmark = pytest.mark.django_db

SMALL = {"seed": 7, "providers": 60, "seekers": 90}


def _seed_demo(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def _demo_state() -> list:
    return [
        sorted(User.objects.values_list("email", "name", "account_type")),
        sorted(
            Provider.objects.values_list("user__email", "category__name", "city", "pricing_min", "license_verified")
        ),
        sorted(Seeker.objects.values_list("user__email", "category__name", "needs_description", "budget_max")),
        sorted(Match.objects.values_list("seeker__user__email", "provider__user__email", "status")),
        sorted(Engagement.objects.values_list("provider__user__email", "deal_value_usd", "status", "billing_status")),
    ]


@pytest.fixture
def local(settings, seeded_categories):
    settings.DEBUG = True
    return seeded_categories


def test_seed_demo_builds_every_part_of_the_marketplace_and_the_ledger_stays_clean(local):
    output = _seed_demo(**SMALL)

    categories = {category.name: category for category in local.values()}
    for name in ("financial_advisors", "career_coaches", "therapists", "fitness_trainers"):
        categories[name].refresh_from_db()
        assert categories[name].active, name
        assert Provider.objects.filter(category__name=name).exists(), name
        assert Seeker.objects.filter(category__name=name).exists(), name
    assert Provider.objects.count() == 60
    assert Seeker.objects.count() == 90
    assert User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}", referred_by__isnull=False).exists()
    assert User.objects.filter(account_type=AccountType.BOTH).exists()
    licensed = Provider.objects.filter(category__requires_license=True)
    assert licensed.filter(license_verified=True, license_verified_by__email=f"operator@{DEMO_DOMAIN}").exists()
    assert licensed.filter(license_verified=False).exists()  # some still wait for an operator

    for status in ("suggested", "introduced", "accepted", "declined", "engaged"):
        assert Match.objects.filter(status=status).exists(), status
    for status in ("reported", "confirmed", "completed"):
        assert Engagement.objects.filter(status=status).exists(), status
    for billing in ("pending", "invoiced", "paid"):
        assert Engagement.objects.filter(billing_status=billing).exists(), billing
    assert Rating.objects.exists()
    assert Purchase.objects.filter(effect="profile_boost").exists()
    for reason in ("profile_creation", "engagement_bonus", "rating_given", "referral", "profile_boost"):
        assert PotTransaction.objects.filter(category=reason).exists(), reason

    # The library and the community: published articles (one premium per category), questions answered.
    published = Article.objects.filter(status=ArticleStatus.PUBLISHED)
    assert set(published.values_list("category__name", flat=True)) == set(categories)  # the four launched
    assert published.filter(premium=True).exists()
    assert PotTransaction.objects.filter(category="content_published").count() == published.count()
    assert Question.objects.filter(accepted_answer__isnull=False).exists() and Vote.objects.exists()

    # The printed counts are the database's.
    counts = dict(line.rsplit(maxsplit=1) for line in output.splitlines() if line.startswith("  "))
    counts = {label.strip(): int(value) for label, value in counts.items()}
    assert counts["providers"] == 60 and counts["seekers"] == 90
    assert counts["matches"] == Match.objects.count()
    assert counts["engagements"] == Engagement.objects.count()
    assert counts["ratings"] == Rating.objects.count()
    assert counts["redemptions"] == Redemption.objects.count()
    assert counts["articles"] == published.count() and counts["answers"] == Answer.objects.count()
    assert all(value > 0 for label, value in counts.items() if label not in {"categories launched", "redemptions"})

    ledger = StringIO()
    call_command("verify_ledger", stdout=ledger)  # raises SystemExit(1) on any mismatch
    assert "Ledger OK" in ledger.getvalue()


def test_a_second_run_adds_nothing_and_says_so(local):
    _seed_demo(seed=3, providers=8, seekers=10)
    before = _demo_state()
    rows = PotTransaction.objects.count()
    output = _seed_demo(seed=4, providers=8, seekers=10)
    assert "already here: nothing was added" in output
    assert _demo_state() == before
    assert PotTransaction.objects.count() == rows


def test_the_same_seed_gives_the_same_marketplace(local):
    runs = []
    for _ in range(2):
        with transaction.atomic():
            _seed_demo(seed=5, providers=12, seekers=16)
            runs.append(_demo_state())
            transaction.set_rollback(True)  # start again from the categories alone
        clear_pool_cache()
    assert runs[0] == runs[1]
    assert runs[0][0]


def test_seed_demo_refuses_a_production_database(settings, seeded_categories):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG"):
        _seed_demo(seed=1, providers=1, seekers=1)
    assert not User.objects.exists()
