# Sila (صلة). `make run` serves the demo; `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTANCE ?= instance
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-postgres install install-test catalogs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q -e ".[test]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(INSTANCE)/config.py:
	mkdir -p $(INSTANCE)
	$(BIN)/python -c "import secrets; print('SECRET_KEY = %r' % secrets.token_hex(32))" > $@
	@echo "Wrote a new secret key to $@"

run: $(VENV)/.installed $(INSTANCE)/config.py
	$(BIN)/python tools/vendor.py
	$(BIN)/portal migrate
	$(BIN)/portal demo --if-empty
	@echo "Sila is at http://$(HOST):$(PORT)/ (Ctrl+C to stop)"
	$(BIN)/portal run --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test
	$(BIN)/python tools/vendor.py
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The whole suite again on PostgreSQL (CI runs both).
test-postgres: $(VENV)/.installed-test
	PORTAL_TEST_DATABASE_URL=$${PORTAL_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} \
		$(BIN)/python -m pytest $(PYTEST_ARGS)

catalogs: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -o portal/translations/messages.pot portal templates
	$(BIN)/pybabel update -i portal/translations/messages.pot -d portal/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache htmlcov portal/static/vendor
