"""Writes with business meaning, one module per area.

- `profiles`: people (sign-up, deactivation by an operator), seekers, providers, license verification.
- `tokens`: API tokens: issuing one per device, revoking one, revoking all of a person's.
- `matches`: running the matcher for a seeker, introductions, accepting, declining, expiry.
- `engagements`: reporting, confirming, completing and cancelling engagements; invoicing.
- `ratings`: each side rates the other once after an engagement.
- `states`: the transition check the core loop's services share.

The Phase 1 import's writes live with the rest of the import in `marketplace.legacy`.
"""
