# Everything a fresh machine needs starts here: the Makefile creates its own
# virtualenv, builds (or reuses) the control plane, and runs things.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
LOCAL ?= .local

.PHONY: help venv binaries test unit cluster demo crds lint format clean bench

help:
	@echo "make demo     local control plane + emulator + operator + a sample tracker reaching Active"
	@echo "make test     the whole test suite (builds what it needs)"
	@echo "make cluster  the local control plane in the foreground (kubeconfig in .local/kubeconfig)"
	@echo "              NODE=1: with a real node running pods (needs root and make image; docs/node.md)"
	@echo "make crds     regenerate crds/ from the pydantic model"
	@echo "make image    the container image with podman (docs/image.md)"
	@echo "make bench    benchmarks (~35 min): idle cost of the resync, then the operator benchmark: table, JSON,"
	@echo "              docs/performance.md with plots (BENCH_ARGS=--quick: a few minutes)"
	@echo "make release  REGISTRY=host:port: image tagged with the version + packaged chart, pushed there (docs/install.md)"
	@echo "make lint     ruff, the layering contracts (import-linter, pyproject.toml), parliament on the shipped IAM policies"
	@echo "make gitops-binaries  Argo CD and Flux's controllers from their Go modules (cold: ~25 min on 2 cores)"
	@echo "make prometheus-tools Prometheus and promtool from the Prometheus Go module (alert and /metrics tests)"

# Two distributions: the operator (pyproject.toml, all the image carries) and the dev tools
# (operator/pyproject.toml: emulator, local control plane, demo).
$(STAMP): pyproject.toml operator/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]' -e ./operator
	touch $(STAMP)

venv: $(STAMP)

binaries: venv
	$(PY) -m local_cluster --build-only

test: binaries
	$(PY) -m pytest $(PYTEST_ARGS)

unit: venv
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

# NODE=1 adds a real node (docs/node.md: root, containerd, runc) running the image $(IMAGE) from `make image`.
NODE ?=
cluster: binaries $(if $(NODE),node-binaries node-tools image)
	$(PY) -m local_cluster --workdir $(LOCAL)/cluster --kubeconfig $(LOCAL)/kubeconfig \
	  $(if $(NODE),--node --node-image $(IMAGE))

demo: binaries
	$(PY) -m personalize_demo

# Figures from the Kubernetes watch and the emulator's counters, never from the operator's logs (docs/performance.md).
BENCH_ARGS ?=
bench: binaries
	$(PY) bench/idle_cost.py
	PYTHONPATH=tests $(PY) bench/operator.py $(BENCH_ARGS)

crds: venv
	$(PY) -m personalize_operator.api.crd

# parliament (test extra) on every shipped IAM policy: docs/iam-policy*.json and the policy blocks of docs/iam.md.
lint: venv
	$(VENV)/bin/ruff check operator tests bench
	$(VENV)/bin/ruff format --check operator tests bench
	$(VENV)/bin/lint-imports
	PYTHONPATH=tests $(PY) -m support.policy_lint

format: venv
	$(VENV)/bin/ruff format operator tests bench
	$(VENV)/bin/ruff check --fix operator tests bench

clean:
	rm -rf $(VENV) .local .pytest_cache

# Container image (docs/image.md): podman builds the Dockerfile on a Debian
# base made with debootstrap and cached in ~/.cache/personalize-operator/image/.
IMAGE ?= localhost/personalize-operator:dev
IMAGE_TOOLS := podman runc debootstrap

.PHONY: image image-tools

image-tools:
	@missing=""; for pkg in $(IMAGE_TOOLS); do \
	  dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing with apt-get"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(IMAGE_TOOLS); \
	fi

image: venv image-tools
	PYTHONPATH=tests $(PY) -m support.image --tag $(IMAGE)

# tests/e2e/test_argocd_sync.py and test_flux_sync.py run Argo CD and Flux themselves (docs/argocd.md,
# docs/flux.md): built from their Go modules into ~/.cache/personalize-operator/gitops/ before pytest
# starts (a cold build outlasts the per-test timeout), with Debian's redis-server (Argo CD's cache)
# and git (the repository they sync from, served by git http-backend).
GITOPS_TOOLS := redis-server git

.PHONY: gitops-tools gitops-binaries

gitops-tools:
	@missing=""; for pkg in $(GITOPS_TOOLS); do \
	  dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing with apt-get"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(GITOPS_TOOLS); \
	fi

gitops-binaries: venv
	PYTHONPATH=tests $(PY) -m support.gitops_build

test: gitops-tools gitops-binaries

# Prometheus and promtool (issue 25: rules, alerts, /metrics judged by Prometheus's own engine), built from
# the Prometheus Go module into ~/.cache/personalize-operator/prometheus/ before pytest starts.
.PHONY: prometheus-tools
prometheus-tools: venv
	PYTHONPATH=tests $(PY) -m support.prometheus_tools

test: prometheus-tools

# tests/image/ builds and runs the image: the suite needs the same tools.
test: image-tools

# A release (CHANGELOG.md): the image REGISTRY/personalize-operator:VERSION and the chart
# oci://REGISTRY/charts/personalize-operator VERSION, VERSION being personalize_operator.__version__.
# A loopback REGISTRY is spoken to in plain HTTP; others with podman's and helm's own logins.
REGISTRY ?=
REGISTRY_TOOLS := docker-registry

.PHONY: release registry-tools

release: venv image-tools
	@test -n "$(REGISTRY)" || { echo "make release needs REGISTRY=host:port"; exit 2; }
	PYTHONPATH=tests $(PY) -m support.release --registry $(REGISTRY)

# tests/node/ publishes releases to a real registry on loopback: Debian's docker-registry (CNCF distribution).
registry-tools:
	@dpkg-query -W -f='$${Status}' $(REGISTRY_TOOLS) 2>/dev/null | grep -q 'install ok installed' || { \
	  echo "installing $(REGISTRY_TOOLS) with apt-get"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(REGISTRY_TOOLS); }

test: registry-tools

# The local node (docs/node.md): Debian's containerd, runc and CNI plugins; kube-proxy needs iptables.
NODE_TOOLS := containerd runc containernetworking-plugins iptables

.PHONY: node-tools node-binaries

# kubelet, kube-proxy, kube-scheduler (same module and cache as the control plane) and the pause binary.
node-binaries: binaries
	$(PY) -m local_cluster --build-only --node

node-tools:
	@missing=""; for pkg in $(NODE_TOOLS); do \
	  dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing with apt-get"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(NODE_TOOLS); \
	fi

# tests/node/ runs pods on the node (built before pytest starts: its per-test timeout is 10 min).
test: node-tools node-binaries
