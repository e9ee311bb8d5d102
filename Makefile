# Sila (صلة). `make run` serves the demo; `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTANCE ?= instance
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-postgres test-plugins bandit bench bench-quick install install-test install-bench catalogs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q -e ".[test]"
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed-test
	$(BIN)/pip install -q -e ".[test,server]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
install-bench: $(VENV)/.installed-bench

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

# Static security check of the code (CI runs it before the tests): any medium or high finding fails. A finding
# that is accepted carries `# nosec BXXX # why` on its line; the settings are under [tool.bandit] in pyproject.toml.
bandit: $(VENV)/.installed-test
	$(BIN)/bandit -q -r portal plugins -ll -c pyproject.toml

# Each plugin's tests (tests/plugins/<name>/) with only that plugin enabled (PORTAL_PLUGINS=<name>), on SQLite:
# a plugin must work alone. A test that needs another plugin is marked `@pytest.mark.needs_plugins("other")`
# and skipped in its folder's run, with the reason (e.g. the website's acknowledgement as a PDF letter needs
# letters; alone, the website offers its printable page instead). Every folder of tests/plugins is in the list.
PLUGINS_ALONE ?= letters phone social sms website interview help_requests delegates volunteering
test-plugins: $(VENV)/.installed-test
	$(BIN)/python tools/vendor.py
	@set -e; for name in $(PLUGINS_ALONE); do \
		echo "== $$name alone (PORTAL_PLUGINS=$$name)"; \
		env -u PORTAL_TEST_DATABASE_URL PORTAL_PLUGINS=$$name $(BIN)/python -m pytest $(PYTEST_ARGS) tests/plugins/$$name; \
	done

# The benchmark suite (docs/performance.md): `make bench` builds the 50,000-beneficiary / 1,000,000-entry demo
# database once under bench/.data (kept while the migrations are unchanged) and measures every page against the
# floors; `make bench-quick` does the same at 1,000 / 10,000 in a few minutes (CI runs it so the suite cannot
# rot; it times nothing). BENCH_ARGS passes options, e.g. BENCH_ARGS="--database-url postgresql://... --workers 4".
bench: $(VENV)/.installed-bench
	$(BIN)/python tools/vendor.py
	$(BIN)/python -m bench.run --size full $(BENCH_ARGS)

bench-quick: $(VENV)/.installed-bench
	$(BIN)/python tools/vendor.py
	$(BIN)/python -m bench.run --size quick $(BENCH_ARGS)

# The whole suite again on PostgreSQL (CI runs both).
test-postgres: $(VENV)/.installed-test
	PORTAL_TEST_DATABASE_URL=$${PORTAL_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} \
		$(BIN)/python -m pytest $(PYTEST_ARGS)

# Message catalogs. Code and templates use English msgids (`_()`, `_l()`, `ngettext()`); Arabic is the default
# display language and its catalog must be complete (tests/test_i18n.py lists what is missing).
# `make catalogs` extracts the msgids of the core (portal/ + templates/) and of every plugin that has a
# `translations/` folder, merges them into each Arabic messages.po (new entries get an empty msgstr) and compiles
# the .mo files. Then translate the empty entries, run `make catalogs` again and `pytest tests/test_i18n.py`.
# The .pot templates and the compiled .mo files are build products: neither is committed.
BABEL_KEYWORDS := -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2
BABEL_EXTRACT := $(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) -c Translators: --add-location=file \
	--sort-by-file -w 120 --project=Sila --version=1 --copyright-holder="Sila contributors"
BABEL_UPDATE := $(BIN)/pybabel update -l ar --init-missing --no-fuzzy-matching --ignore-obsolete -w 120
# The extraction time would change the header of every .po on every run and make branches conflict.
STRIP_POT_DATE := sed -i '/^"POT-Creation-Date: /d'

catalogs: $(VENV)/.installed
	$(BABEL_EXTRACT) -o portal/translations/messages.pot portal templates
	$(BABEL_UPDATE) -i portal/translations/messages.pot -d portal/translations
	$(STRIP_POT_DATE) portal/translations/*/LC_MESSAGES/messages.po
	@for dir in plugins/*/translations; do \
		[ -d "$$dir" ] || continue; \
		plugin=$${dir%/translations}; \
		echo "$(BABEL_EXTRACT) -o $$dir/messages.pot $$plugin"; \
		$(BABEL_EXTRACT) -o "$$dir/messages.pot" "$$plugin" || exit 1; \
		$(BABEL_UPDATE) -i "$$dir/messages.pot" -d "$$dir" || exit 1; \
		$(STRIP_POT_DATE) "$$dir"/*/LC_MESSAGES/messages.po; \
	done
	$(BIN)/python tools/vendor.py --catalogs-only

clean:
	rm -rf $(VENV) .pytest_cache htmlcov portal/static/vendor
