"""Categories of service (financial advisors, career coaches, …) and their specialties."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F

from categories.matching_weights import FACTORS, MAX_BOOST, MAX_RADIUS_KM, MAX_WEIGHT, MIN_RADIUS_KM


def validate_matching_weights(value: object) -> None:
    """Overrides of the matching engine's weights: positive factor weights, boost in [0, MAX_BOOST]."""
    if not isinstance(value, dict):
        raise ValidationError('Give an object such as {"need": 0.5, "budget": 0.2}.')
    for key, weight in value.items():
        if key not in (*FACTORS, "boost"):
            raise ValidationError(f"Unknown weight {key!r}; use {', '.join(FACTORS)} or boost.")
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise ValidationError(f"The weight of {key} must be a number.")
        if key == "boost" and not 0 <= weight <= MAX_BOOST:
            raise ValidationError(f"The boost must be between 0 and {MAX_BOOST}.")
        if key != "boost" and not 0 < weight <= MAX_WEIGHT:
            raise ValidationError(f"The weight of {key} must be more than 0 (and at most {MAX_WEIGHT}).")


class PricingUnit(models.TextChoices):
    """How a category's providers quote their price."""

    SESSION = "session", "per session"
    HOUR = "hour", "per hour"
    MONTH = "month", "per month"
    PROJECT = "project", "per project"


class CategoryQuerySet(models.QuerySet):
    def active(self) -> "CategoryQuerySet":
        return self.filter(active=True)

    def get_by_natural_key(self, name: str) -> "Category":
        return self.get(name=name)


class Category(models.Model):
    """A kind of service; the same matching engine serves every category."""

    name = models.SlugField(max_length=64, unique=True, help_text="Machine name, e.g. financial_advisors.")
    display_name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=False, help_text="Visible to the public and open for profiles.")
    launched_at = models.DateTimeField(null=True, blank=True, help_text="Set on first launch; kept on relaunch.")
    commission_rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.20"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    pro_commission_rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="The commission rate of Pro providers' engagements (at most the normal rate). Empty: no Pro here.",
    )
    requires_license = models.BooleanField(
        default=False, help_text="Providers are matched and listed only once an operator verified them."
    )
    pricing_unit = models.CharField(max_length=16, choices=PricingUnit.choices, default=PricingUnit.SESSION)
    matches_per_request = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1)])
    matching_weights = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_matching_weights],
        help_text='Overrides of the matching weights, e.g. {"need": 0.5, "location": 0.1, "boost": 0.05}. '
        f"Factors: {', '.join(FACTORS)} (relative, positive); boost: 0 to {MAX_BOOST}. "
        "Empty: the engine's defaults.",
    )
    default_radius_km = models.PositiveSmallIntegerField(
        default=25,
        validators=[MinValueValidator(MIN_RADIUS_KM), MaxValueValidator(MAX_RADIUS_KM)],
        help_text="Seekers who set no radius: providers within this many km fit best.",
    )
    deal_review_threshold_usd = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="A confirmed deal above this value waits for an operator's approval. Empty: no review.",
    )
    seeker_bonus_min_deal_usd = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("500.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="The seeker's engagement bonus applies from this deal value.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        db_table = "categories"
        ordering = ["display_name"]
        verbose_name_plural = "categories"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(commission_rate__gte=0) & models.Q(commission_rate__lte=1),
                name="category_commission_rate_0_1",
            ),
            models.CheckConstraint(condition=models.Q(matches_per_request__gte=1), name="category_matches_min_1"),
            models.CheckConstraint(
                condition=models.Q(pro_commission_rate__isnull=True)
                | (models.Q(pro_commission_rate__gte=0) & models.Q(pro_commission_rate__lte=F("commission_rate"))),
                name="category_pro_rate_within_rate",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def clean(self) -> None:
        super().clean()
        rate, pro = self.commission_rate, self.pro_commission_rate
        if pro is not None and rate is not None and pro > rate:
            percent = f"{(rate * 100).normalize():f}%"
            raise ValidationError(
                {"pro_commission_rate": f"The Pro rate must be at most the commission rate ({percent})."}
            )

    def natural_key(self) -> tuple[str]:
        return (self.name,)


class SpecialtyQuerySet(models.QuerySet):
    def get_by_natural_key(self, category_name: str, slug: str) -> "Specialty":
        return self.get(category__name=category_name, slug=slug)


class Specialty(models.Model):
    """One entry of a category's vocabulary, shared by its seekers and providers."""

    # No index of its own: `specialty_unique_slug_per_category` begins with it.
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="specialties", db_index=False)
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=120)

    objects = SpecialtyQuerySet.as_manager()

    class Meta:
        db_table = "specialties"
        ordering = ["category_id", "name"]
        verbose_name_plural = "specialties"
        constraints = [
            models.UniqueConstraint(fields=["category", "slug"], name="specialty_unique_slug_per_category"),
        ]

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str, str]:
        return (self.category.name, self.slug)

    natural_key.dependencies = ["categories.category"]
