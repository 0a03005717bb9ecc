# The two commands of the README: `make demo` and `make test`. Each installs what it needs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app app:create_app
DEMO_ENV := CUSTODIAN_ENV=demo PORT=$(PORT)

.PHONY: demo test bench mutate lint typecheck system-packages screenshots clean

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
	$(DEMO_ENV) $(BIN)/gunicorn --config deploy/gunicorn.conf.py --bind 127.0.0.1:$(PORT) \
		--workers 2 --threads 4 'app:create_app()'


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

# docs/screenshots/: each role's main page at desktop width and at 390 px, from a throwaway
# SQLite demo (the README shows them).
screenshots: $(VENV)/.installed system-packages
	$(BIN)/python -m tests.e2e.screenshots

# Scale benchmarks (minutes, not part of `make test`); results go in benchmarks/README.md.
# wrk (Debian) drives benchmarks/signed_urls.py; s3rver comes with the npm test servers.
bench: $(VENV)/.installed system-packages tests/node/node_modules/.installed
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	$(BIN)/python -m benchmarks.signed_urls
	$(BIN)/python -m benchmarks.eqtl_queries
	$(BIN)/python -m benchmarks.audit_append
	$(BIN)/python -m benchmarks.audit_verify
	$(BIN)/python -m benchmarks.htsget_tickets
	$(BIN)/python -m benchmarks.soak
	$(BIN)/python -m benchmarks.scale

# Mutation testing of the security core (pyproject's [tool.mutmut]; README, "Mutation
# testing"): not part of `make test`. By default the decisions themselves, as globs of
# mutmut's mutant names; `make mutate MUTANTS='*'` runs every mutant of the core's files.
MUTANTS ?= 'access.grants.x_has_live_grant*' 'access.grants.x_lapse_reason*' \
	'access.passports.passport_grants.x_has_live_passport_grant*' \
	'access.tokens.x_find_live_token*' 'access.tokens.x_refused_token*' 'access.tokens.x_hash_token*' \
	'access.identity.oidc.x_check_audience*' 'access.identity.oidc.x__check_response_issuer*' \
	'datasets.storage.local.*verify*' 'datasets.storage.local.*_sign*' \
	'datasets.storage.local.*signed_url*' 'datasets.downloads.signed_urls.x__require_grant*' \
	'core.web.csrf.x__check_csrf*' 'core.web.csrf.x_require_csrf_token*' \
	'audit.log.chain.x_canonical_bytes*' 'audit.log.chain.x_encoding_hashes*' \
	'audit.log.chain.x_event_hashes*' 'audit.log.chain.x_chain_format*' \
	'audit.log.chain.x_contradicted_hash*' 'audit.log.chain.x_format_timestamp*' \
	'audit.integrity.chain_check.x_verify_chain*' \
	'audit.integrity.offline_verifier.*broken_link*' 'audit.integrity.offline_verifier.*out_of_order*'
mutate: $(VENV)/.installed
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2 $(MUTANTS)
	$(BIN)/mutmut results

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache mutants
