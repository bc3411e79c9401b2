"""POT test helpers: fund a wallet through the real service, read the ledger back."""

from currency.ledger import ledger_atomic, ledger_post
from currency.models import PotTransaction, TransactionType, Wallet
from tests.marketplace.factories import UserFactory


@ledger_atomic
def pot_fund(user, amount: int, *, category: str = "adjustment") -> PotTransaction:
    """Give a user POT with an `adjust` row, as an operator's correction would."""
    return ledger_post(
        user_id=user.pk, amount=amount, transaction_type=TransactionType.ADJUST, category=category, note="Test funding"
    )


def balance_of(user) -> int:
    wallet = Wallet.objects.filter(user=user).first()
    return wallet.balance if wallet else 0


def rows_of(user) -> list[PotTransaction]:
    return list(PotTransaction.objects.filter(user=user).order_by("id"))


def funded_user(amount: int, **fields):
    user = UserFactory(**fields)
    pot_fund(user, amount)
    return user
