# The two commands of the README: `make demo` and `make test`. Each installs what it needs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app app:create_app
DEMO_ENV := CUSTODIAN_ENV=demo PORT=$(PORT)

.PHONY: demo test bench lint typecheck system-packages clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the project's dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(DEMO_ENV) $(FLASK) db upgrade
	$(DEMO_ENV) $(FLASK) demo setup
	@echo "Serving on http://127.0.0.1:$(PORT)/ (Ctrl-C stops)"
	$(DEMO_ENV) $(BIN)/gunicorn --bind 127.0.0.1:$(PORT) --workers 2 --threads 4 \
		--access-logfile - 'app:create_app()'


# PostgreSQL's server binaries back the database tests, Debian's Chromium the browser tests,
# redis-server the rate limits shared by several instances; a fresh machine may lack any.
# One `apt-get update` at most per run.
system-packages:
	@missing=""; \
	if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then missing="$$missing postgresql"; fi; \
	if [ ! -x /usr/bin/chromium ]; then missing="$$missing chromium"; fi; \
	if ! command -v node >/dev/null 2>&1; then missing="$$missing nodejs npm"; fi; \
	if ! command -v redis-server >/dev/null 2>&1; then missing="$$missing redis-server"; fi; \
	if [ -n "$$missing" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# The npm test servers: an S3 store that checks signatures, an OpenID Certified provider.
tests/node/node_modules/.installed: tests/node/package.json | system-packages
	cd tests/node && npm install --silent
	touch $@

lint: $(VENV)/.installed
	$(BIN)/ruff check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy .

test: $(VENV)/.installed system-packages tests/node/node_modules/.installed lint typecheck
	$(BIN)/pytest

# Scale benchmarks (minutes, not part of `make test`); results go in benchmarks/README.md.
bench: $(VENV)/.installed system-packages
	$(BIN)/python -m benchmarks.eqtl_queries
	$(BIN)/python -m benchmarks.audit_append
	$(BIN)/python -m benchmarks.audit_verify

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
