"""The POT ledger: wallets, transactions, earning rules, spend options, purchases, redemptions.

Invariants the database enforces (so no code path can break them):
- a wallet's balance is never negative (CHECK), one wallet per user (UNIQUE); its promotional
  part is between 0 and the balance; its debt is never negative;
- a transaction's amount is never 0 (except a `debt` row, which records POT owed and moves no
  balance) and its sign follows its type; its promotional part has the amount's sign and is no
  larger; `balance_after` is never negative; each `idempotency_key` is used once (UNIQUE): the
  insert itself claims the cause;
- `pot_transactions` rows are never updated or deleted (triggers, see `currency.triggers`).

Only `currency.ledger.ledger_post` writes wallets and transactions.
"""

from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class Audience(models.TextChoices):
    """Which role an earning rule or a spend option is for."""

    SEEKER = "seeker", "Seekers"
    PROVIDER = "provider", "Providers"
    ANY = "any", "Everyone"


class TransactionType(models.TextChoices):
    """What kind of change a ledger row is; its sign follows from it."""

    EARN = "earn", "Earn"  # POT granted by an earning rule (> 0)
    SPEND = "spend", "Spend"  # POT paid for a spend option, burned (< 0)
    BURN = "burn", "Burn"  # POT taken back by the platform, e.g. a reversed award (< 0)
    REDEEM = "redeem", "Redeem"  # POT held for a redemption into USD (< 0)
    REFUND = "refund", "Refund"  # POT returned, e.g. a rejected redemption (> 0)
    ADJUST = "adjust", "Adjust"  # an operator's correction, with a reason (either sign)
    DEBT = "debt", "Debt"  # POT owed: a reversal found too small a balance (amount 0, debt_change > 0)
    # Promotional POT made redeemable because a paid commission pays for it (amount 0, promotional_amount < 0)
    RELEASE = "release", "Release"


POSITIVE_TYPES = (TransactionType.EARN, TransactionType.REFUND)
NEGATIVE_TYPES = (TransactionType.SPEND, TransactionType.BURN, TransactionType.REDEEM)


class SpendEffect(models.TextChoices):
    """What a spend option does in the product."""

    PROFILE_BOOST = "profile_boost", "Profile boost"  # the provider is featured in matching for N days
    EXTRA_MATCHES = "extra_matches", "Extra matches"  # the seeker's next match run returns N more
    COMMISSION_CREDIT = "commission_credit", "Commission credit"  # POT pays commission at the redemption rate
    CONTENT_UNLOCK = "content_unlock", "Content unlock"  # a premium article of the library, priced per article
    PRO_TIER = "pro_tier", "Pro tier"  # the provider is Pro for N days: lower commission, bounded matching lift


class RedemptionStatus(models.TextChoices):
    """Where a redemption stands; the POT is held from the moment it is asked for."""

    PENDING = "pending", "Requested"  # POT held, waiting for an operator
    APPROVED = "approved", "Approved"  # an operator approved it and sent the USD (with the payout reference)
    PAID = "paid", "Paid"  # the operator confirmed the payout arrived: the redemption is complete
    REJECTED = "rejected", "Rejected"  # refused, with the reason; the held POT came back as a refund row


class KeyQuerySet(models.QuerySet):
    def get_by_natural_key(self, key: str):
        return self.get(key=key)


class EarningRule(models.Model):
    """How much POT one kind of contribution earns: a fixed amount or a percent of a deal value."""

    key = models.SlugField(max_length=64, unique=True, help_text="Used by the code, e.g. rating_given.")
    name = models.CharField(max_length=120, help_text="Shown to people next to the award.")
    description = models.TextField(blank=True)
    reason = models.SlugField(max_length=64, help_text="Written as the transaction's reason, e.g. profile_creation.")
    audience = models.CharField(max_length=16, choices=Audience.choices, default=Audience.ANY)
    amount = models.BigIntegerField(null=True, blank=True, help_text="Fixed POT per award.")
    percent_of_deal_value = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Or: this percent of the deal value in USD, as whole POT rounded down.",
    )
    promotional = models.BooleanField(
        default=False,
        help_text="Sign-up-time POT that no revenue paid for (profiles, streaks): spendable at once, redeemable "
        "for USD only once a paid commission of the person's engagements pays for it (and the email is verified).",
    )
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = KeyQuerySet.as_manager()

    class Meta:
        db_table = "pot_earning_rules"
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(amount__isnull=False) & Q(percent_of_deal_value__isnull=True))
                | (Q(amount__isnull=True) & Q(percent_of_deal_value__isnull=False)),
                name="earning_rule_amount_xor_percent",
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="earning_rule_amount_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(percent_of_deal_value__isnull=True)
                | (Q(percent_of_deal_value__gte=0) & Q(percent_of_deal_value__lte=100)),
                name="earning_rule_percent_0_100",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        return (self.key,)

    def pot_for(self, deal_value_usd: Decimal | None = None) -> int:
        """The whole POT this rule grants (a percent rule needs the deal value; rounded down)."""
        if self.amount is not None:
            return self.amount
        if deal_value_usd is None:
            raise ValueError(f"Earning rule {self.key} is a percent of a deal value: pass deal_value_usd.")
        pot = (Decimal(deal_value_usd) * self.percent_of_deal_value / 100).to_integral_value(rounding=ROUND_DOWN)
        return max(int(pot), 0)

    @property
    def amount_display(self) -> str:
        if self.amount is not None:
            return f"{self.amount} POT"
        return f"{self.percent_of_deal_value.normalize():f}% of the deal value"


class SpendOption(models.Model):
    """Something POT buys; spent POT is burned."""

    key = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    cost = models.BigIntegerField(help_text="POT.")
    audience = models.CharField(max_length=16, choices=Audience.choices)
    effect = models.CharField(max_length=32, choices=SpendEffect.choices)
    duration_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Profile boost: days featured; Pro tier: days of one period."
    )
    quantity = models.PositiveIntegerField(null=True, blank=True, help_text="Extra matches: how many more.")
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = KeyQuerySet.as_manager()

    class Meta:
        db_table = "pot_spend_options"
        ordering = ["cost", "key"]
        constraints = [
            models.CheckConstraint(condition=Q(cost__gt=0), name="spend_option_cost_gt_0"),
            models.CheckConstraint(
                condition=~Q(effect=SpendEffect.PROFILE_BOOST) | Q(duration_days__gte=1),
                name="spend_option_boost_has_duration",
            ),
            models.CheckConstraint(
                condition=~Q(effect=SpendEffect.PRO_TIER) | Q(duration_days__gte=1),
                name="spend_option_pro_has_duration",
            ),
            models.CheckConstraint(
                condition=~Q(effect=SpendEffect.EXTRA_MATCHES) | Q(quantity__gte=1),
                name="spend_option_extra_matches_has_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.cost} POT)"

    def natural_key(self) -> tuple[str]:
        return (self.key,)

    def credit_usd(self) -> Decimal:
        """A commission credit's value: its cost at the redemption rate."""
        return (Decimal(self.cost) * settings.POT_USD_RATE).quantize(Decimal("0.01"))


class Wallet(models.Model):
    """A user's POT: the cached balance of their rows, and the POT they earned over time.

    `balance` is what the person can spend; `promotional_balance` is the part of it that came
    from promotional awards and is not redeemable until a paid commission of one of the
    person's engagements pays for it (`currency.services.pot_promotional_release`); redemptions
    also need a verified email. `debt` is POT a reversal could not take back;
    the next earnings and refunds settle it, and redemptions wait while it is open.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pot_wallet")
    balance = models.BigIntegerField(default=0)
    promotional_balance = models.BigIntegerField(
        default=0, help_text="The part of the balance from promotional awards (spent first)."
    )
    debt = models.BigIntegerField(default=0, help_text="POT owed after a reversal found too small a balance.")
    lifetime_earned = models.BigIntegerField(default=0, help_text="Earned POT, less reversed awards: sets the level.")
    paid_engagement_at = models.DateTimeField(
        null=True, blank=True, help_text="When a commission of one of the person's engagements was first paid."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "pot_wallets"
        verbose_name = "POT wallet"
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="wallet_balance_gte_0"),
            models.CheckConstraint(condition=Q(lifetime_earned__gte=0), name="wallet_lifetime_earned_gte_0"),
            models.CheckConstraint(
                condition=Q(promotional_balance__gte=0) & Q(promotional_balance__lte=F("balance")),
                name="wallet_promotional_within_balance",
            ),
            models.CheckConstraint(condition=Q(debt__gte=0), name="wallet_debt_gte_0"),
        ]

    def __str__(self) -> str:
        return f"Wallet of user {self.user_id}: {self.balance} POT"


# Plain words for a row's reason when it has no note of its own.
REASON_LABELS = {
    "profile_creation": "Profile created",
    "engagement_bonus": "Engagement bonus",
    "rating_given": "Thanks for rating",
    "rating_received": "5-star rating received",
    "referral": "Referral reward",
    "streak_bonus": "Streak bonus",
    "award_reversal": "Award taken back",
    "debt_settlement": "Debt settled",
    "redemption": "Redemption",
    "adjustment": "Correction by an operator",
}


def reason_label(reason: str) -> str:
    """A row's reason (`category`) in plain words: "profile_boost" -> "Profile boost"."""
    return REASON_LABELS.get(reason, reason.replace("_", " ").capitalize())


class PotTransaction(models.Model):
    """One change of one wallet. Never updated or deleted: a mistake is corrected by a new row."""

    # Indexes are few on purpose (each one costs every insert): the composite ones below serve
    # the user's history, the admin filters and the economy statistics.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pot_transactions", db_index=False
    )
    transaction_type = models.CharField(max_length=16, choices=TransactionType.choices)
    category = models.SlugField(
        max_length=64, db_index=False, help_text="The reason, e.g. profile_creation, profile_boost."
    )
    amount = models.BigIntegerField(help_text="Signed whole POT: earn > 0; spend, burn, redeem < 0.")
    balance_after = models.BigIntegerField()
    promotional_amount = models.BigIntegerField(
        default=0, help_text="The part of the amount that is promotional POT (same sign as the amount)."
    )
    debt_change = models.BigIntegerField(default=0, help_text="POT owed: + recorded by a reversal, - settled.")
    reference_type = models.CharField(max_length=32, blank=True, help_text="What caused it: engagement, rating, …")
    reference_id = models.BigIntegerField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        help_text="Who did it: the user (spend, redeem), an operator (adjust, approvals); empty for the platform.",
    )
    note = models.CharField(max_length=500, blank=True, help_text="A plain-language reason.")
    idempotency_key = models.CharField(max_length=200, help_text="The cause; unique: one row per cause.")
    request_fingerprint = models.CharField(
        max_length=64, blank=True, help_text="Hash of the request that claimed the key (idempotent retries)."
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "pot_transactions"
        verbose_name = "POT transaction"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["user", "-id"], name="pot_tx_user_newest"),
            models.Index(fields=["transaction_type", "created_at"], name="pot_tx_type_created"),
            models.Index(fields=["category", "created_at"], name="pot_tx_reason_created"),
            models.Index(fields=["reference_type", "reference_id"], name="pot_tx_reference"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="pot_tx_one_row_per_cause"),
            models.CheckConstraint(
                condition=~Q(amount=0) | Q(transaction_type__in=[TransactionType.DEBT, TransactionType.RELEASE]),
                name="pot_tx_amount_not_0",
            ),
            models.CheckConstraint(
                condition=~Q(transaction_type=TransactionType.RELEASE)
                | (Q(amount=0) & Q(promotional_amount__lt=0) & Q(debt_change=0)),
                name="pot_tx_release_row_releases_promotional",
            ),
            models.CheckConstraint(
                condition=~Q(transaction_type=TransactionType.DEBT) | (Q(amount=0) & Q(debt_change__gt=0)),
                name="pot_tx_debt_row_records_debt",
            ),
            models.CheckConstraint(
                condition=(Q(promotional_amount__gte=0) & Q(promotional_amount__lte=F("amount")))
                | (Q(promotional_amount__lte=0) & Q(promotional_amount__gte=F("amount")))
                | Q(transaction_type=TransactionType.RELEASE),
                name="pot_tx_promotional_within_amount",
            ),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="pot_tx_balance_after_gte_0"),
            models.CheckConstraint(condition=Q(transaction_type__in=TransactionType.values), name="pot_tx_type_valid"),
            models.CheckConstraint(
                condition=~Q(transaction_type__in=POSITIVE_TYPES) | Q(amount__gt=0), name="pot_tx_credit_positive"
            ),
            models.CheckConstraint(
                condition=~Q(transaction_type__in=NEGATIVE_TYPES) | Q(amount__lt=0), name="pot_tx_debit_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.transaction_type} {self.amount:+d} POT ({self.category})"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise RuntimeError("POT transactions are immutable: post a compensating row instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("POT transactions are immutable: post a compensating row instead.")

    @property
    def reason_text(self) -> str:
        """The reason in plain words, as the wallet history shows it."""
        return reason_text(self.transaction_type, self.category, self.note)


def reason_text(transaction_type: str, reason: str, note: str) -> str:
    """A ledger row's reason in plain words (`PotTransaction.reason_text`, from its columns)."""
    label = reason_label(reason)
    if transaction_type == TransactionType.ADJUST:
        return f"{label}: {note}" if note else label
    return note or label


class Purchase(models.Model):
    """What a spend bought, with its effect: a boost's window, extra matches, a commission credit.

    A Pro period (`pro_tier`) has a window and, in `credit_usd` / `credit_used_usd`, the most
    commission its lower rate may save (its cost at the redemption rate) and what it saved.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pot_purchases")
    option = models.ForeignKey(SpendOption, on_delete=models.PROTECT, related_name="purchases")
    transaction = models.OneToOneField(PotTransaction, on_delete=models.PROTECT, related_name="purchase")
    effect = models.CharField(max_length=32, choices=SpendEffect.choices)
    cost = models.BigIntegerField()
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    matches_granted = models.PositiveIntegerField(default=0)
    matches_taken_at = models.DateTimeField(null=True, blank=True, help_text="When a match run used them.")
    credit_usd = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    credit_used_usd = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    expiry_notified_at = models.DateTimeField(
        null=True, blank=True, help_text="Pro: when the person was told this period ends soon (once per period)."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "pot_purchases"
        verbose_name = "POT purchase"
        ordering = ["-id"]
        indexes = [models.Index(fields=["effect", "user", "ends_at"], name="pot_purchase_effect_user")]
        constraints = [
            models.CheckConstraint(condition=Q(cost__gt=0), name="purchase_cost_gt_0"),
            models.CheckConstraint(
                condition=Q(credit_used_usd__gte=0) & Q(credit_used_usd__lte=F("credit_usd")),
                name="purchase_credit_used_within_credit",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True) | Q(ends_at__gt=F("starts_at")), name="purchase_window_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_effect_display()} for user {self.user_id}"

    @property
    def credit_remaining_usd(self) -> Decimal:
        return self.credit_usd - self.credit_used_usd

    def describe(self, at=None) -> str:
        """The effect in plain words, as the wallet shows it."""
        return purchase_description(
            effect=self.effect,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            matches_granted=self.matches_granted,
            matches_taken_at=self.matches_taken_at,
            credit_usd=self.credit_usd,
            credit_used_usd=self.credit_used_usd,
            at=at or timezone.now(),
        )


def purchase_description(
    *, effect, starts_at, ends_at, matches_granted, matches_taken_at, credit_usd, credit_used_usd, at
) -> str:
    """What a purchase does, in plain words at `at` (`Purchase.describe`, from its columns)."""
    if effect == SpendEffect.PROFILE_BOOST:
        state = "active" if starts_at <= at < ends_at else ("ended" if at >= ends_at else "starts")
        return f"Featured in matching {starts_at:%b %-d} to {ends_at:%b %-d, %Y} ({state})"
    if effect == SpendEffect.PRO_TIER:
        state = "active" if starts_at <= at < ends_at else ("ended" if at >= ends_at else "starts")
        return (
            f"Pro {starts_at:%b %-d} to {ends_at:%b %-d, %Y} ({state}; "
            f"${credit_used_usd} of ${credit_usd} commission saving used)"
        )
    if effect == SpendEffect.EXTRA_MATCHES:
        used = "used" if matches_taken_at else "for your next match run"
        return f"{matches_granted} extra matches ({used})"
    if effect == SpendEffect.CONTENT_UNLOCK:
        return "A premium article of the library, unlocked for you"
    return f"${credit_usd} commission credit (${credit_usd - credit_used_usd} left)"


class ProPeriodManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(effect=SpendEffect.PRO_TIER)


class ProPeriod(Purchase):
    """A Pro period: the `pro_tier` purchases, as operators list Pro subscribers in the admin."""

    objects = ProPeriodManager()

    class Meta:
        proxy = True
        verbose_name = "Pro period"
        ordering = ["-ends_at", "-id"]


class CommissionCreditUse(models.Model):
    """A commission credit applied to what a provider owes (e.g. one engagement's commission)."""

    purchase = models.ForeignKey(Purchase, on_delete=models.PROTECT, related_name="credit_uses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    amount_usd = models.DecimalField(max_digits=12, decimal_places=2)
    reference_type = models.CharField(max_length=32)
    reference_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "pot_commission_credit_uses"
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(amount_usd__gt=0), name="credit_use_amount_gt_0")]

    def __str__(self) -> str:
        return f"${self.amount_usd} credit on {self.reference_type} #{self.reference_id}"


class Redemption(models.Model):
    """A request to turn POT into USD; the POT is held (a redeem row) until an operator decides."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pot_redemptions")
    pot_amount = models.BigIntegerField()
    usd_rate = models.DecimalField(max_digits=8, decimal_places=4, help_text="USD per POT when asked.")
    usd_amount = models.DecimalField(max_digits=12, decimal_places=2)
    payment_method = models.CharField(max_length=200, help_text="Where to pay, e.g. 'PayPal: me@example.com'.")
    status = models.CharField(max_length=16, choices=RedemptionStatus.choices, default=RedemptionStatus.PENDING)
    payout_reference = models.CharField(max_length=200, blank=True)
    rejection_reason = models.CharField(max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True, help_text="When the operator confirmed the payout.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "pot_redemptions"
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "id"], name="pot_redemption_status")]
        constraints = [
            models.CheckConstraint(condition=Q(pot_amount__gt=0), name="redemption_pot_amount_gt_0"),
            models.CheckConstraint(condition=Q(usd_amount__gte=0), name="redemption_usd_amount_gte_0"),
            models.CheckConstraint(
                condition=(Q(status=RedemptionStatus.PENDING) & Q(decided_at__isnull=True))
                | (~Q(status=RedemptionStatus.PENDING) & Q(decided_at__isnull=False)),
                name="redemption_decided_when_not_pending",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=(RedemptionStatus.APPROVED, RedemptionStatus.PAID)) | ~Q(payout_reference=""),
                name="redemption_approved_has_payout_reference",
            ),
            models.CheckConstraint(
                condition=Q(status=RedemptionStatus.PAID, paid_at__isnull=False)
                | (~Q(status=RedemptionStatus.PAID) & Q(paid_at__isnull=True)),
                name="redemption_paid_has_paid_at",
            ),
        ]

    def __str__(self) -> str:
        return f"Redemption #{self.pk}: {self.pot_amount} POT → ${self.usd_amount} ({self.status})"


# --- Earning-rate experiments (A/B tests) -----------------------------------------------


class Experiment(models.Model):
    """An A/B test of earning rates: people who sign up while it runs are split between arms.

    Each arm pays a percentage of the varied rules' normal amounts (the control arm 100%).
    Ending it (or its stop date) returns everyone to the normal amounts; its assignments and
    the awards it changed stay, for the results.
    """

    name = models.CharField(max_length=120, unique=True)
    hypothesis = models.TextField(blank=True, help_text="What the operators expect, in plain words.")
    rules = models.ManyToManyField(
        EarningRule,
        related_name="experiments",
        db_table="pot_experiment_rules",
        help_text="The earning rules whose amounts the arms change.",
    )
    starts_at = models.DateTimeField(help_text="From when new sign-ups are assigned to an arm.")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Stop date (empty: until an operator ends it).")
    ended_at = models.DateTimeField(null=True, blank=True, help_text="When an operator ended it.")
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "pot_experiments"
        verbose_name = "earning-rate experiment"
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")), name="experiment_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def running_at(self, at) -> bool:
        return self.ended_at is None and self.starts_at <= at and (self.ends_at is None or at < self.ends_at)

    @classmethod
    def running_q(cls, at, prefix: str = "") -> Q:
        """Experiments running at `at` (`prefix` is the path to the experiment, e.g. "experiment__")."""
        return Q(**{f"{prefix}ended_at__isnull": True, f"{prefix}starts_at__lte": at}) & (
            Q(**{f"{prefix}ends_at__isnull": True}) | Q(**{f"{prefix}ends_at__gt": at})
        )


class ExperimentArm(models.Model):
    """One arm of an experiment: the share of new users it gets and what it pays."""

    # No index of its own: `experiment_arm_name_unique` begins with it.
    experiment = models.ForeignKey(Experiment, on_delete=models.PROTECT, related_name="arms", db_index=False)
    name = models.CharField(max_length=60, help_text='e.g. "control", "double".')
    control = models.BooleanField(default=False, help_text="The arm that pays today's amounts (100%).")
    share_percent = models.PositiveSmallIntegerField(help_text="Percent of new users assigned to this arm.")
    pot_percent = models.PositiveIntegerField(
        default=100, help_text="What the arm pays, in percent of each varied rule's normal amount (control: 100)."
    )

    class Meta:
        db_table = "pot_experiment_arms"
        ordering = ["experiment", "id"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "name"], name="experiment_arm_name_unique"),
            models.CheckConstraint(
                condition=Q(share_percent__gte=1) & Q(share_percent__lte=100), name="experiment_arm_share_1_100"
            ),
            models.CheckConstraint(condition=Q(pot_percent__lte=1000), name="experiment_arm_pot_percent_le_1000"),
            models.CheckConstraint(
                condition=Q(control=False) | Q(pot_percent=100), name="experiment_control_pays_normal"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.pot_percent}%)"

    def pays(self, normal: int) -> int:
        """What this arm pays for an award whose normal amount is `normal` (whole POT, rounded down)."""
        return normal * self.pot_percent // 100


class ExperimentAssignment(models.Model):
    """A person's arm in an experiment, recorded once when they signed up."""

    # No index of their own on the experiment and the person: `experiment_assignment_once` and
    # `experiment_assignment_user` begin with them (every sign-up writes a row per running experiment).
    experiment = models.ForeignKey(Experiment, on_delete=models.PROTECT, related_name="assignments", db_index=False)
    arm = models.ForeignKey(ExperimentArm, on_delete=models.PROTECT, related_name="assignments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="experiment_assignments", db_index=False
    )
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "pot_experiment_assignments"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "user"], name="experiment_assignment_once"),
        ]
        indexes = [models.Index(fields=["user", "experiment"], name="experiment_assignment_user")]

    def __str__(self) -> str:
        return f"User {self.user_id} in {self.arm}"


class ExperimentAward(models.Model):
    """An award an experiment changed: the ledger row, the arm that set its amount, the normal amount."""

    transaction = models.OneToOneField(
        PotTransaction, on_delete=models.PROTECT, primary_key=True, related_name="experiment_award"
    )
    arm = models.ForeignKey(ExperimentArm, on_delete=models.PROTECT, related_name="awards")
    normal_amount = models.BigIntegerField(help_text="What the rule would have paid outside the experiment.")

    class Meta:
        db_table = "pot_experiment_awards"
        ordering = ["transaction"]

    def __str__(self) -> str:
        return f"Award #{self.transaction_id} in {self.arm}"
