"""Writes with business meaning, one module per area: `profiles` (people, seekers, providers)."""
