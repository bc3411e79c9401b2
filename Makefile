# I MATCH — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8401
WORKERS ?= 3
# Local runs are debug runs; production sets DJANGO_DEBUG=false and a DJANGO_SECRET_KEY.
export DJANGO_DEBUG ?= true

.PHONY: run worker test install install-dev migrate seed lint format clean

$(BIN)/activate: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(BIN)/activate

install: $(BIN)/activate

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_categories categories

run: seed
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo "I MATCH is serving on http://127.0.0.1:$(PORT)/ (admin: /admin/, API: /api/v1/docs/)"
	$(BIN)/gunicorn imatch.wsgi --bind 0.0.0.0:$(PORT) --workers $(WORKERS)

# Background work: a Celery worker with the beat scheduler embedded (-B: run exactly one of
# these per deployment, or one `celery beat` beside plain workers). Needs CELERY_BROKER_URL.
worker: migrate
	@test -n "$$CELERY_BROKER_URL" || { echo "Set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0); without it tasks run inline in the web process."; exit 2; }
	$(BIN)/celery -A imatch worker -B --loglevel=INFO --schedule=$(CURDIR)/celerybeat-schedule

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
