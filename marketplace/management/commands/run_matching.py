"""Match every open seeker, category by category; expire introductions left unanswered for 72 hours."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, F, Q
from django.utils import timezone

from categories.models import Category
from marketplace.candidates import candidate_pool
from marketplace.models import MATCH_LIVE_STATUSES, Seeker
from marketplace.services import matches


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
        expired = matches.match_expire_stale(now=now, category=categories[0] if category else None)
        self.stdout.write(f"Expired {len(expired)} introductions unanswered for 72 hours.")
        totals = {"seekers": 0, "matched": 0, "matches": 0, "unmatched": 0}
        for current in categories:
            open_seekers = list(
                Seeker.objects.filter(category=current)
                .annotate(live=Count("matches", filter=Q(matches__status__in=MATCH_LIVE_STATUSES)))
                .filter(live__lt=F("category__matches_per_request"))
                .select_related("category", "user")
                .prefetch_related("specialties")
                .order_by("id")
            )
            if not open_seekers:
                self.stdout.write(f"{current.name}: no seeker has a free match slot.")
                continue
            pool = candidate_pool(current, now=now)
            made = 0
            for number, seeker in enumerate(open_seekers, start=1):
                new = matches.match_run_for_seeker(seeker=seeker, pool=pool, now=now)
                made += len(new)
                totals["matched" if new else "unmatched"] += 1
                if number % 100 == 0 or number == len(open_seekers):
                    self.stdout.write(
                        f"\r{current.name}: {number}/{len(open_seekers)} seekers, {made} new matches",
                        ending="\n" if number == len(open_seekers) else "",
                    )
                    self.stdout.flush()
            totals["seekers"] += len(open_seekers)
            totals["matches"] += made
        self.stdout.write(
            self.style.SUCCESS(
                f"Done in {time.perf_counter() - started:.1f}s: {totals['seekers']} open seekers, "
                f"{totals['matches']} new matches for {totals['matched']} of them; "
                f"{totals['unmatched']} had no new compatible provider; {len(expired)} introductions expired."
            )
        )
