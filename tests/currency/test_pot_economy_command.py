"""`manage.py pot_economy`: the plan's daily check, the same figures as the API."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from currency.services import pot_award
from tests.currency.factories import pot_fund
from tests.marketplace.factories import UserFactory

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = StringIO()
    call_command("pot_economy", *args, stdout=out)
    return out.getvalue()


def test_pot_economy_prints_the_statistics_in_operators_words(operator_api):
    pot_award(user=UserFactory(), rule_key="profile_creation_provider", cause="a")
    UserFactory()
    pot_fund(UserFactory(), 1500)
    text = _run()
    assert "Marketplace users" in text and "Participation rate" in text and "66.7%" in text
    assert "POT in circulation" in text and "1,600 POT" in text
    assert "Outstanding POT liability" in text and "$1,280.00" in text
    body = json.loads(_run("--json"))
    assert body == operator_api.get("/api/v1/pot/economy/").json()
    assert body["participation_rate"] == 0.6667 and body["participation_rate_display"] == "66.7%"
