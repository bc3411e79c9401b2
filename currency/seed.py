"""Insert the earning rules and spend options of the fixtures that are missing.

Used by migration 0003 (with the historical models) and by `manage.py seed_pot`. Existing
rows are never changed: operators edit amounts and costs in the admin, and a re-seed must
not undo that.
"""

import json
from pathlib import Path

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"
FIXTURES = {"currency.earningrule": "earning_rules.json", "currency.spendoption": "spend_options.json"}


def seed_missing(*, earning_rule_model, spend_option_model) -> dict[str, int]:
    """Create the fixture rows whose key is not in the database; returns how many per model."""
    models = {"currency.earningrule": earning_rule_model, "currency.spendoption": spend_option_model}
    created = dict.fromkeys(models, 0)
    for label, filename in FIXTURES.items():
        model = models[label]
        known = {field.name for field in model._meta.get_fields()}
        for entry in json.loads((FIXTURES_DIR / filename).read_text()):
            if entry["model"] != label:
                continue
            fields = {name: value for name, value in entry["fields"].items() if name in known}
            _, was_created = model.objects.get_or_create(key=fields.pop("key"), defaults=fields)
            created[label] += int(was_created)
    return created
