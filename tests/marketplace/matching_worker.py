"""A separate process that keeps a warm matching pool, as a gunicorn worker does, and obeys commands.

    DATABASE_URL=... python -m tests.marketplace.matching_worker

Each line read from stdin is a JSON command; each answer is one JSON line on stdout:
`{"do": "setup"}` (a category with two providers, two seekers and an operator),
`{"do": "seeker", "category": id}`, `{"do": "match", "seeker": id}` (the new matches'
provider ids, sorted), `{"do": "deactivate" | "reactivate", "user": id, "operator": id}`.
Used by tests/marketplace/test_user_deactivation_workers.py.
"""

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imatch.test_settings")

import django

django.setup()

from categories.models import Category  # noqa: E402
from marketplace.models import Seeker, User  # noqa: E402
from marketplace.services import matches, profiles  # noqa: E402
from tests.marketplace import loop  # noqa: E402
from tests.marketplace.factories import UserFactory  # noqa: E402


def setup() -> dict:
    category = loop.make_category(matches_per_request=2)
    providers = [loop.make_provider(category) for _ in range(2)]
    seekers = [loop.make_seeker(category) for _ in range(2)]
    operator = UserFactory(is_staff=True, is_superuser=True)
    return {
        "category": category.pk,
        "providers": [p.pk for p in providers],
        "provider_users": [p.user_id for p in providers],
        "seekers": [s.pk for s in seekers],
        "operator": operator.pk,
    }


def obey(command: dict) -> object:
    match command["do"]:
        case "setup":
            return setup()
        case "seeker":
            return loop.make_seeker(Category.objects.get(pk=command["category"])).pk
        case "match":
            made = matches.match_run_for_seeker(seeker=Seeker.objects.get(pk=command["seeker"]))
            return sorted(m.provider_id for m in made)
        case "deactivate" | "reactivate":
            service = profiles.user_deactivate if command["do"] == "deactivate" else profiles.user_reactivate
            service(
                user=User.objects.get(pk=command["user"]),
                operator=User.objects.get(pk=command["operator"]),
                reason="Two-process test",
            )
            return "ok"
    raise ValueError(f"Unknown command: {command}")


def main() -> None:
    for line in sys.stdin:
        print(json.dumps(obey(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
