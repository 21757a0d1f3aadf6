"""ARNs read by botocore's own parser: partition, region and account of a dataset group, tracker or role."""

from __future__ import annotations

from botocore.utils import ArnParser, InvalidArnException

_PARSER = ArnParser()


def parts(arn: str) -> dict[str, str]:
    """botocore's fields (partition, service, region, account, resource); {} for anything that is no ARN."""
    try:
        return dict(_PARSER.parse_arn(arn))
    except (InvalidArnException, AttributeError):
        return {}


def partition_of(arn: str) -> str:
    return parts(arn).get("partition", "")


def region_of(arn: str) -> str:
    return parts(arn).get("region", "")


def account_of(arn: str) -> str:
    """The account field ("" when the ARN has none, or is no ARN)."""
    return parts(arn).get("account", "")
