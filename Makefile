# I MATCH — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8401
WORKERS ?= 3
# Local runs are debug runs: `make env` writes .env (DJANGO_DEBUG=true, a generated
# DJANGO_SECRET_KEY) once, and settings read it, so manage.py typed in any shell agrees
# with `make run`. Production sets its variables in its own environment instead.
DEMO_ARGS ?=
BACKUP_DIR ?= backups

.PHONY: run demo worker test install env migrate seed serve backup restore lint format clean screenshots api-schema api-check

$(BIN)/activate: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(BIN)/activate

install: $(BIN)/activate

env: .env

.env:
	$(PYTHON) imatch/envfile.py  # a plain script: runs before anything is installed

# The database cache holds throttles and lockouts when REDIS_URL is not set (a no-op otherwise).
migrate: install .env
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable

seed: migrate
	$(BIN)/python manage.py seed_categories categories

run: seed serve

# The same setup as `make run`, plus a living marketplace (seed_demo; refuses a second run).
demo: seed
	$(BIN)/python manage.py seed_demo $(DEMO_ARGS)
	$(MAKE) serve

serve: seed
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo "I MATCH is serving on http://127.0.0.1:$(PORT)/ (admin: /admin/, API: /api/v1/docs/)"
	PORT=$(PORT) $(BIN)/gunicorn imatch.wsgi --config gunicorn.conf.py --bind 0.0.0.0:$(PORT) --workers $(WORKERS)

# SQLite only (PostgreSQL: pg_dump / pg_restore, see README "Backups").
backup: migrate
	$(BIN)/python manage.py db_backup --dir $(BACKUP_DIR)

restore: install .env
	@test -n "$(FILE)" || { echo "usage: make restore FILE=backups/db-....sqlite3"; exit 2; }
	$(BIN)/python manage.py db_restore "$(FILE)" --dir $(BACKUP_DIR)

# Background work: a Celery worker with the beat scheduler embedded (-B: run exactly one of
# these per deployment, or one `celery beat` beside plain workers). Needs CELERY_BROKER_URL.
# Beat flushes the outbox every 2 s: without it, introductions' emails are never sent.
worker: migrate
	@test -n "$$CELERY_BROKER_URL" || { echo "Set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0); without it tasks run inline in the web process."; exit 2; }
	$(BIN)/celery -A imatch worker -B --loglevel=INFO --schedule=$(CURDIR)/celerybeat-schedule

# Every main page at 390×844 and 1280×800 into screenshots/ (git-ignored), from a throw-away demo database.
screenshots: install
	$(BIN)/python -m tests.e2e.screenshots --out screenshots

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

# The API schema as integrators get it from /api/v1/schema/ (drf-spectacular's validation, no warning).
api-schema: install
	DJANGO_DEBUG=true DJANGO_SECRET_KEY=schema-only $(BIN)/python manage.py spectacular \
		--file tests/api/contract/schema.yaml --validate --fail-on-warn

# The API contract beside the Python one (tests/api/test_generated_client.py): TypeScript types
# from the schema compiled against tests/api/contract/usage.ts, and Redocly's recommended rules.
# The Node tools are pinned in tests/api/contract/package-lock.json (`npm ci`).
api-check: api-schema
	cd tests/api/contract && npm ci --no-audit --no-fund && npm run api:check

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache  # keeps .env, db.sqlite3 and backups/
