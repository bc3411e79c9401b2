"""The pure part of the legacy import: reading values out of Phase 1 rows, on plain data."""

from decimal import Decimal

import pytest
from django.core.validators import validate_email
from hypothesis import given
from hypothesis import strategies as st

from marketplace.legacy import FINANCIAL_ADVISOR_SYNONYMS, FieldLimits, LegacyTables, SpecialtyVocabulary, plan_people
from marketplace.legacy.repair import PLAIN_EMAIL, _RowReader
from marketplace.models import REFERRAL_CODE_ALPHABET, UserManager, new_referral_code

VOCABULARY = SpecialtyVocabulary(
    [("retirement-planning", "Retirement planning"), ("budgeting", "Budgeting and cash flow")],
    FINANCIAL_ADVISOR_SYNONYMS,
)


def reader(**row) -> _RowReader:
    return _RowReader("providers", {"id": 1, **row}, FieldLimits())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (80, Decimal("80.00")),
        (80.125, Decimal("80.13")),
        (0.1, Decimal("0.10")),  # the float's shortest decimal, not 0.1000000000000000055…
        ("1,200", Decimal("1200.00")),
        (" $75.5 ", Decimal("75.50")),
        (Decimal("9999999999.99"), Decimal("9999999999.99")),
        (None, None),
        ("  ", None),
    ],
)
def test_money_from_numbers_and_numeric_strings(value, expected):
    row = reader()
    assert row.money(value, "price") == expected
    assert row.issues == []


@pytest.mark.parametrize("value", ["lots", True, -1, "NaN", float("inf"), "1e12", "1e30", 1e300, 10**40, [100]])
def test_unusable_money_is_left_empty_and_reported(value):
    row = reader()
    assert row.money(value, "price") is None
    assert len(row.issues) == 1 and row.issues[0].action == "repaired"


@given(st.from_regex(PLAIN_EMAIL, fullmatch=True).filter(lambda email: len(email) <= FieldLimits().email))
def test_the_fast_email_check_accepts_only_what_django_accepts(email):
    """The reader checks the length (254, as users.email) before the fast path, so only that is drawn."""
    validate_email(email)  # raises if the fast path ever let a bad address through


@pytest.mark.parametrize("raw", ["  Ann@Example.COM ", "bob@example.com", "\tX@Y.ORG\n"])
def test_people_are_keyed_by_email_as_users_are(raw):
    plan = plan_people(LegacyTables(customers=[{"id": 1, "email": raw}], providers=[]), vocabulary=VOCABULARY)
    assert plan.people[0].email == UserManager.normalize_email(raw)


@pytest.mark.parametrize(
    ("label", "slug"),
    [
        ("retirement-planning", "retirement-planning"),
        ("RETIREMENT_PLANNING", "retirement-planning"),
        ("Retirement Planning", "retirement-planning"),
        ("401(k)", "retirement-planning"),
        ("Budgeting & Cash Flow", "budgeting"),
        ("cash flow", "budgeting"),
        ("taxes", None),  # tax-planning is not in this vocabulary: its synonyms are not either
        ("astrology", None),
    ],
)
def test_specialties_are_found_by_slug_name_or_synonym(label, slug):
    assert VOCABULARY.slug_for(label) == slug


def test_the_first_non_empty_value_wins_but_zero_is_a_value():
    plan = plan_people(
        LegacyTables(
            customers=[],
            providers=[
                {"id": 1, "email": "a@example.com", "years_experience": 0, "company": ""},
                {"id": 2, "email": "a@example.com", "years_experience": 20, "company": "Later Firm"},
            ],
        ),
        vocabulary=VOCABULARY,
    )
    draft = plan.people[0].provider
    assert (draft.years_experience, draft.business_name) == (0, "Later Firm")


def test_certifications_given_as_a_json_list_read_as_text():
    plan = plan_people(
        LegacyTables(customers=[], providers=[{"id": 1, "email": "a@example.com", "certifications": '["CFP", "CFA"]'}]),
        vocabulary=VOCABULARY,
    )
    assert plan.people[0].provider.certifications == "CFP, CFA"


def test_referral_codes_use_the_whole_alphabet_and_eight_letters():
    codes = {new_referral_code() for _ in range(2000)}
    assert len(REFERRAL_CODE_ALPHABET) == 32  # new_referral_code takes 5 random bits per letter
    assert all(len(code) == 8 and set(code) <= set(REFERRAL_CODE_ALPHABET) for code in codes)
    assert set("".join(codes)) == set(REFERRAL_CODE_ALPHABET)
    assert len(codes) == 2000
