"""Add the categories of a fixture that are missing; never touch existing ones.

`make run` calls this on every start, so an operator's launch, deactivation or edited
commission rate survives: only categories and specialties not yet in the database are
inserted. (`loaddata` would overwrite them with the fixture's values.)
"""

from pathlib import Path

from django.conf import settings
from django.core import serializers
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

FIXTURES_DIR = Path(settings.BASE_DIR) / "fixtures"


class Command(BaseCommand):
    help = "Insert the categories and specialties of a fixture that are not in the database yet."

    def add_arguments(self, parser):
        parser.add_argument(
            "fixtures",
            nargs="*",
            default=["categories"],
            help="Fixture names in fixtures/ (default: categories; the full catalog is 'catalog').",
        )

    @transaction.atomic
    def handle(self, *args, fixtures, **options):
        created = {"categories.category": 0, "categories.specialty": 0}
        for fixture in fixtures:
            path = FIXTURES_DIR / f"{fixture}.json"
            if not path.exists():
                raise CommandError(f"No fixture {path.name} in {FIXTURES_DIR}.")
            for deserialized in serializers.deserialize("json", path.read_text(), ignorenonexistent=True):
                if deserialized.object.pk is None:  # natural key not found: a new row
                    deserialized.save()
                    created[deserialized.object._meta.label_lower] += 1
        self.stdout.write(
            f"Seeded {created['categories.category']} new categories and "
            f"{created['categories.specialty']} new specialties; existing ones left as they are."
        )
