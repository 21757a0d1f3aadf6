"""botocore's service models for the two APIs the emulator answers, loaded once.

Every constraint and every response shape comes from here, never from a copy.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import botocore.session
from botocore.model import OperationModel, ServiceModel

PERSONALIZE = "personalize"
PERSONALIZE_EVENTS = "personalize-events"


@dataclass(frozen=True)
class Models:
    personalize: ServiceModel
    events: ServiceModel

    @property
    def target_prefix(self) -> str:
        """`AmazonPersonalize`: the X-Amz-Target prefix of the JSON 1.1 API."""
        return str(self.personalize.metadata["targetPrefix"])

    @property
    def signing_name(self) -> str:
        """`personalize`: the SigV4 service name both APIs are signed for."""
        return str(self.personalize.signing_name)

    def operation(self, name: str) -> OperationModel:
        return self.personalize.operation_model(name)

    def events_route(self, method: str, path: str) -> OperationModel | None:
        """The personalize-events operation bound to `method path`, if any."""
        for name in self.events.operation_names:
            operation = self.events.operation_model(name)
            if operation.http.get("method") == method and operation.http.get("requestUri") == path:
                return operation
        return None


@functools.cache
def load() -> Models:
    session = botocore.session.get_session()
    return Models(
        personalize=session.get_service_model(PERSONALIZE),
        events=session.get_service_model(PERSONALIZE_EVENTS),
    )
