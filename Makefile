# Everything a fresh machine needs starts here: the Makefile creates its own
# virtualenv, builds (or reuses) the control plane, and runs things.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
LOCAL ?= .local

.PHONY: help venv binaries test unit cluster demo crds lint format clean

help:
	@echo "make demo     local control plane + emulator + operator + a sample tracker reaching Active"
	@echo "make test     the whole test suite (builds what it needs)"
	@echo "make cluster  the local control plane in the foreground (kubeconfig in .local/kubeconfig)"
	@echo "make crds     regenerate crds/ from the pydantic model"
	@echo "make lint     ruff"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

binaries: venv
	$(PY) -m local_cluster --build-only

test: binaries
	$(PY) -m pytest $(PYTEST_ARGS)

unit: venv
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

cluster: binaries
	$(PY) -m local_cluster --workdir $(LOCAL)/cluster --kubeconfig $(LOCAL)/kubeconfig

demo: binaries
	$(PY) -m personalize_demo

crds: venv
	$(PY) -m personalize_operator.crd

lint: venv
	$(VENV)/bin/ruff check operator tests bench
	$(VENV)/bin/ruff format --check operator tests bench

format: venv
	$(VENV)/bin/ruff format operator tests bench
	$(VENV)/bin/ruff check --fix operator tests bench

clean:
	rm -rf $(VENV) .local .pytest_cache
