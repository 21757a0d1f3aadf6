"""Our AWS metrics' edge cases that no emulator run reaches cheaply: a refused AssumeRole, counted per role and code."""

from __future__ import annotations

import botocore.exceptions
import pytest
from prometheus_client import REGISTRY

from personalize_operator.aws.client import _counting_failures

ROLE = "arn:aws:iam::111122223333:role/team-a"


def _refused() -> dict[str, str]:
    raise botocore.exceptions.ClientError(
        {"Error": {"Code": "AccessDenied", "Message": "not allowed"}, "ResponseMetadata": {"HTTPStatusCode": 403}},
        "AssumeRole",
    )


def test_a_refused_assume_role_is_counted_by_role_and_code_and_still_raised() -> None:
    labels = {"role_arn": ROLE, "code": "AccessDenied"}
    before = REGISTRY.get_sample_value("personalize_operator_assume_role_failures_total", labels) or 0.0

    with pytest.raises(botocore.exceptions.ClientError):
        _counting_failures(ROLE, _refused)()
    assert _counting_failures(ROLE, lambda: {"AccessKeyId": "x"})() == {"AccessKeyId": "x"}  # success: not counted

    assert REGISTRY.get_sample_value("personalize_operator_assume_role_failures_total", labels) == before + 1
