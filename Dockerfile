# syntax=docker/dockerfile:1
# personalize-operator: `docker build -t personalize-operator .` (see docs/image.md).
#
# Two stages: the builder makes a virtualenv in /opt/venv and installs the
# project into it (not editable); the final stage is the same slim Python base
# plus that virtualenv only: no compiler, no pip, no build tools, no caches.
# It runs as a numeric non-root user and needs no writable path but /tmp
# (temporary client-certificate files when a kubeconfig embeds them).

ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS builder
# Empty: dependencies come from the package index. A directory of the build
# context (e.g. build/wheels, made by `pip wheel . -w build/wheels`): install
# offline from those wheels only, the project's own wheel included.
ARG PIP_WHEELS=""
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/venv
WORKDIR /src
COPY . .
RUN set -eu; \
    if [ -n "${PIP_WHEELS}" ]; then \
        /opt/venv/bin/pip install --no-index --find-links "/src/${PIP_WHEELS}" personalize-operator; \
    else \
        /opt/venv/bin/pip install /src; \
    fi; \
    /opt/venv/bin/pip uninstall --yes --quiet pip setuptools wheel; \
    /opt/venv/bin/python -c 'import personalize_operator.handlers'; \
    /opt/venv/bin/personalize-operator --help >/dev/null

FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="personalize-operator" \
      org.opencontainers.image.description="Kubernetes operator for Amazon Personalize event trackers" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=builder /opt/venv /opt/venv
# USER: the numeric user has no passwd entry, and kopf asks getpass.getuser() for its
# identity, which reads $USER before falling back to the (failing) passwd lookup.
# podman adds a passwd entry for --user, Kubernetes runtimes do not.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    USER=personalize-operator
USER 10001:10001
EXPOSE 8080 9090
ENTRYPOINT ["personalize-operator"]
CMD ["run"]
