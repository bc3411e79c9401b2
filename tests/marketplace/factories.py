from decimal import Decimal

import factory
from django.utils import timezone

from marketplace.models import Provider, Seeker, User
from tests.categories.factories import CategoryFactory

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    class Params:
        # A person who opened the verification link (needed to redeem POT and for referral awards).
        verified = factory.Trait(email_verified_at=factory.LazyFunction(timezone.now))

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class SeekerFactory(factory.django.DjangoModelFactory):
    """A seeker row written directly (for reads); use services.seeker_create to test rules."""

    class Meta:
        model = Seeker

    user = factory.SubFactory(UserFactory)
    category = factory.SubFactory(CategoryFactory)
    needs_description = "Planning for retirement in ten years."
    budget_min = Decimal("100.00")
    budget_max = Decimal("300.00")
    city = "Austin"
    state = "TX"
    location = "Austin, TX"


class ProviderFactory(factory.django.DjangoModelFactory):
    """A provider row written directly (for reads); use services.provider_create to test rules."""

    class Meta:
        model = Provider

    user = factory.SubFactory(UserFactory)
    category = factory.SubFactory(CategoryFactory)
    business_name = factory.Faker("company")
    bio = "Helping clients for years."
    years_experience = 10
    pricing_min = Decimal("100.00")
    pricing_max = Decimal("250.00")
    city = "Austin"
    state = "TX"
    location = "Austin, TX"
