"""A namespace with its own emulator and operator, for tests that kill or count."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from personalize_emulator.testing import Emulator
from support.operator_process import OperatorProcess
from support.trackers import Trackers
from support.wait import wait_for


def new_dataset_group(emulator: Emulator, stem: str = "dg") -> str:
    """A dataset group that is ACTIVE (AWS refuses trackers in one still being created)."""
    personalize = emulator.client()
    arn = str(personalize.create_dataset_group(name=f"{stem}-{uuid.uuid4().hex[:8]}")["datasetGroupArn"])
    wait_for(
        lambda: personalize.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]["status"] == "ACTIVE",
        timeout=30,
        what=f"dataset group {arn} ACTIVE",
    )
    return arn


@dataclass
class Solo:
    """A namespace with its own emulator and operator."""

    namespace: str
    emulator: Emulator
    operator: OperatorProcess
    trackers: Trackers

    def restart_operator(self) -> OperatorProcess:
        self.operator = OperatorProcess(
            kubeconfig=self.operator.kubeconfig,
            endpoint=self.emulator.endpoint,
            log=self.operator.log,
            namespaces=[self.namespace],
            extra_env=self.operator.extra_env,
            metrics=self.operator.metrics,
        ).start()
        return self.operator
