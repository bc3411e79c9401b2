"""Fill a local database with a living demo marketplace (`make demo`)."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings


class Command(BaseCommand):
    help = (
        "Create fictional seekers and providers in the four first categories (launching them) and play the "
        "core loop through the services: license checks, matches, introductions, engagements, invoices, "
        "ratings, referrals and POT spending; then publish articles and ask and answer community questions. "
        "The same --seed gives the same people. Local databases only "
        "(refuses when DJANGO_DEBUG is off); a second run adds nothing and says so."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument("--providers", type=int, default=200, help="Number of providers (default 200).")
        parser.add_argument("--seekers", type=int, default=300, help="Number of seekers (default 300).")

    def handle(self, *args, seed, providers, seekers, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo fills the database with fictional people: it runs only with DJANGO_DEBUG=true "
                "(a local .env from `make env`), never on a production database."
            )
        if providers < 0 or seekers < 0:
            raise CommandError("--providers and --seekers must be zero or more.")
        try:
            from marketplace.demo import DemoAlreadySeeded, DemoRefused, demo_marketplace_seed
            from operations.demo import demo_content_seed
        except ImportError as error:  # Faker comes with the development requirements
            raise CommandError(f"{error}: install requirements-dev.txt (make install).") from error
        started = time.perf_counter()
        # The demo's people are fictional: the emails the services send for them go nowhere.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            try:
                with transaction.atomic():  # all or nothing: the marketplace and its content
                    counts = demo_marketplace_seed(seed=seed, providers=providers, seekers=seekers)
                    content = demo_content_seed(seed=seed)
            except DemoAlreadySeeded as error:
                self.stdout.write(self.style.WARNING(f"{error} Start from an empty database to seed again."))
                return
            except DemoRefused as error:
                raise CommandError(str(error)) from error
        self.stdout.write(f"Demo marketplace (seed {seed}) built in {time.perf_counter() - started:.1f}s:")
        for label, value in [*counts.rows(), *content.rows()]:
            self.stdout.write(f"  {label:<20} {value:>6}")
        self.stdout.write(
            self.style.SUCCESS(
                "Done. The demo's people have no password; create an operator with `createsuperuser` to look "
                "around in /admin/."
            )
        )
