"""Match every open seeker, category by category; expire introductions left unanswered for 72 hours."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from categories.models import Category
from marketplace.services import matches, profiles


class Command(BaseCommand):
    help = (
        "Expire introductions unanswered for 72 hours (their seekers get the next-best provider), "
        "then fill the free match slots of every seeker in the active categories."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--category", metavar="NAME", help="Only this category (machine name, e.g. financial_advisors)."
        )

    def handle(self, *args, category=None, **options):
        started = time.perf_counter()
        now = timezone.now()
        categories = Category.objects.filter(active=True).order_by("name")
        if category:
            chosen = Category.objects.filter(name=category).first()
            if chosen is None:
                raise CommandError(f"No category named {category!r}.")
            if not chosen.active:
                raise CommandError(f"{chosen.display_name} is not active: launch it first.")
            categories = [chosen]
        lapsed = profiles.providers_provisional_lapse(now=now)
        if lapsed:
            self.stdout.write(f"{lapsed} Phase 1 advisors passed their license deadline unverified: no longer matched.")
        expired = matches.match_expire_stale(now=now, category=categories[0] if category else None)
        self.stdout.write(f"Expired {len(expired)} introductions unanswered for 72 hours.")
        totals = {"seekers": 0, "matched": 0, "matches": 0, "unmatched": 0}
        for current in categories:
            run = matches.match_run_for_category(category=current, now=now, progress=self._progress(current))
            if not run.seekers:
                self.stdout.write(f"{current.name}: no seeker has a free match slot.")
                continue
            totals["seekers"] += run.seekers
            totals["matched"] += run.matched
            totals["unmatched"] += run.unmatched
            totals["matches"] += run.matches
        self.stdout.write(
            self.style.SUCCESS(
                f"Done in {time.perf_counter() - started:.1f}s: {totals['seekers']} open seekers, "
                f"{totals['matches']} new matches for {totals['matched']} of them; "
                f"{totals['unmatched']} had no new compatible provider; {len(expired)} introductions expired."
            )
        )

    def _progress(self, category: Category):
        """A progress line rewritten in place (`\\r`), ended once the last seeker is done."""

        def report(done: int, total: int, made: int) -> None:
            self.stdout.write(
                f"\r{category.name}: {done}/{total} seekers, {made} new matches",
                ending="\n" if done == total else "",
            )
            self.stdout.flush()

        return report
