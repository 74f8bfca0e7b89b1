# practice-es: `make demo` and `make test` work on a fresh machine (they create .venv).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench bench-quick soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[web,test]'
	touch $(STAMP)

demo: $(STAMP)
	rm -rf demo && mkdir -p demo
	$(BIN)/practice --db sqlite:///demo/practice.db demo --charts demo
	@echo
	@echo "The front desk on the demo ledger (passwords shown this once):"
	@for who in owner:owner desk:front-desk doctor:practitioner; do \
	  name=$${who%%:*}; role=$${who#*:}; \
	  pw=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(12))'); \
	  echo "$$pw" | $(BIN)/practice --db sqlite:///demo/practice.db user add $$name \
	    --role $$role --password-stdin >/dev/null 2>&1 || exit 1; \
	  echo "  sign in as $$name ($$role) with password $$pw"; \
	done
	@echo "  start it: $(BIN)/practice --db sqlite:///demo/practice.db serve"
	@echo "  then open http://127.0.0.1:8000/ (the demo's last day: http://127.0.0.1:8000/?day=2026-11-27)"

test: $(STAMP) lint typecheck
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports --no-logo

typecheck: $(STAMP)
	$(BIN)/mypy --strict src bench

bench: $(STAMP)
	$(BIN)/python -m bench.run --scale full

bench-quick: $(STAMP)
	$(BIN)/python -m bench.run --scale quick

soak: $(STAMP)
	PRACTICE_SOAK=1 $(BIN)/pytest -q -m slow

clean:
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
