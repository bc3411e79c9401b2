import factory
from django.utils import timezone

from categories.models import Category, Specialty


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"category_{n}")
    display_name = factory.LazyAttribute(lambda o: o.name.replace("_", " ").title())
    description = "A category of service."
    active = True
    launched_at = factory.LazyFunction(timezone.now)


class SpecialtyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Specialty
        django_get_or_create = ["category", "slug"]

    category = factory.SubFactory(CategoryFactory)
    slug = factory.Sequence(lambda n: f"specialty-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").capitalize())
