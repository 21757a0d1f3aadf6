"""What the operator asks of kopf's persistence: nothing written that no handler of ours reads."""

from __future__ import annotations

import kopf

from personalize_operator.handlers import UnwrittenDiffBase


def test_the_last_handled_configuration_is_never_written() -> None:
    """kopf would write it (a status PATCH) at each creation and annotation change; we have no handler for it."""
    storage = UnwrittenDiffBase(field="status.kopf.lastHandledConfiguration")
    body = kopf.Body({"metadata": {"name": "t"}, "spec": {"name": "t"}})
    patch = kopf.Patch()
    storage.store(body=body, patch=patch, essence=storage.build(body=body))
    assert not patch
