"""The POT ledger (wallets, transactions, earning rules, spend options, redemptions)."""
