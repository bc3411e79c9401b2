"""Write the local `.env` beside manage.py once: a generated secret key and debug on.

`make run` (through `make env`) calls `python -m imatch.envfile`, so that every
`.venv/bin/python manage.py ...` typed in a fresh shell gets the same settings as
`make run`. An existing `.env` is never changed. Imports nothing from Django's
settings: it runs before any setting can be read.
"""

import secrets
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

LOCAL_ENV = """\
# Local development settings, written once by `make env` (never overwritten; git-ignored).
# Production sets these in its own environment instead; see README "Deployment".
DJANGO_DEBUG=true
DJANGO_SECRET_KEY={secret_key}
"""


def env_file_write(path: Path) -> bool:
    """Create `path` with a new secret key and debug on; False (and no change) if it exists."""
    try:
        with path.open("x", encoding="utf-8") as handle:  # "x": refuses to replace an existing file
            handle.write(LOCAL_ENV.format(secret_key=secrets.token_urlsafe(50)))
    except FileExistsError:
        return False
    path.chmod(0o600)
    return True


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else PROJECT_DIR / ".env"
    if env_file_write(path):
        print(f"Wrote {path} (DJANGO_DEBUG=true and a new DJANGO_SECRET_KEY).")
    else:
        print(f"{path} exists: left unchanged.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
