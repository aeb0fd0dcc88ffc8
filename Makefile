# The two commands a newcomer runs: `make demo` and `make test`. Both create .venv when missing.
VENV    := .venv
PYTHON  ?= python3
STAMP   := $(VENV)/.installed
# pyCANON, the reference the privacy measurements are tested against, pins a numpy this project cannot
# use: its own venv, for the tests only
PYCANON := .venv-pycanon
PYCANON_STAMP := $(PYCANON)/.installed
HURRICANE_HOME ?= $(CURDIR)/.hurricane
export HURRICANE_HOME

.PHONY: install demo demo-services test ui bench clean

$(STAMP): pyproject.toml setup.py hurricane_assets/masking/operators/_keyed_many.c
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e '.[dev,deploy]'
	@touch $(STAMP)

install: $(STAMP)

$(PYCANON_STAMP): tests/reference/pycanon.txt
	@test -x $(PYCANON)/bin/python || $(PYTHON) -m venv $(PYCANON)
	$(PYCANON)/bin/python -m pip install -q -r tests/reference/pycanon.txt
	@touch $(PYCANON_STAMP)

demo: install
	$(VENV)/bin/hurricane demo

# The same loop on a throwaway PostgreSQL, a moto S3 server and one code server per location.
demo-services: install
	$(VENV)/bin/hurricane demo --stack services --rows 5000

test: install $(PYCANON_STAMP)
	$(VENV)/bin/python -m pytest -n 2 --timeout 900 -q

ui: install
	@mkdir -p $(HURRICANE_HOME)/dagster
	@test -f $(HURRICANE_HOME)/dagster/dagster.yaml || cp dagster.yaml $(HURRICANE_HOME)/dagster/dagster.yaml
	$(VENV)/bin/hurricane keys init
	DAGSTER_HOME=$(HURRICANE_HOME)/dagster $(VENV)/bin/dagster dev -w workspace.yaml

bench: install
	@for b in bench/*.py; do echo "== $$b"; $(VENV)/bin/python $$b || exit 1; done

clean:
	rm -rf $(HURRICANE_HOME)
