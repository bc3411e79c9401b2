"""Fill the coordinates of seeker and provider profiles from the shipped gazetteer (no network)."""

from django.core.management.base import BaseCommand

from marketplace.services.profiles import geocode_profiles


class Command(BaseCommand):
    help = (
        "Look up the coordinates of every profile with a city and state that has none yet "
        "(--all: every profile again, e.g. after changing MATCHING_GAZETTEER_MIN_POPULATION)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="Look up every profile, not only those without.")

    def handle(self, *args, all=False, **options):
        located = geocode_profiles(only_missing=not all)
        self.stdout.write(f"Located {located['seeker']} seeker and {located['provider']} provider profiles.")
