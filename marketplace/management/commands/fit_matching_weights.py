"""Fit each category's matching weights from what happened to its matches (an operator applies them in the admin)."""

from django.core.management.base import BaseCommand, CommandError

from categories.models import Category
from marketplace.matching.factors import FACTORS
from marketplace.services.weight_fits import weights_fit


class Command(BaseCommand):
    help = (
        "Fit the factor weights of each active category (or --category) from its matches' outcomes, "
        "print the old and new weights and the held-out NDCG of each, and store the fit for an operator "
        "to apply in the admin (Matching weight fits → Apply these weights). --dry-run stores nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--category", metavar="SLUG", help="Only this category (machine name).")
        parser.add_argument("--dry-run", action="store_true", help="Print the fit; store nothing.")

    def handle(self, *args, category=None, dry_run=False, **options):
        categories = Category.objects.filter(active=True).order_by("name")
        if category:
            categories = Category.objects.filter(name=category)
            if not categories.exists():
                raise CommandError(f"No category named {category!r}.")
        for chosen in categories:
            report = weights_fit(category=chosen, dry_run=dry_run)
            self.stdout.write(f"{chosen.name}: {report.outcomes} outcomes")
            if report.fit is None:
                self.stdout.write(f"  {report.refusal}")
                continue
            fit = report.fit
            self.stdout.write(f"  {'factor':<15} {'old':>7} {'new':>7}")
            for name in FACTORS:
                self.stdout.write(f"  {name:<15} {report.old_weights[name]:>7.3f} {fit.weights[name]:>7.3f}")
            self.stdout.write(
                f"  held-out NDCG: old {fit.ndcg_old:.3f}, new {fit.ndcg_new:.3f} "
                f"({fit.held_out} held-out outcomes, fitted on {fit.train})"
            )
            if report.row is None:
                self.stdout.write("  Dry run: nothing stored.")
            else:
                self.stdout.write(f"  Stored as fit #{report.row.pk}: apply it in the admin.")
