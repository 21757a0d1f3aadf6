"""What an AWS (or emulator) call answered, as data: tests compare codes and messages, not exception plumbing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

OK = "ok"
STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"


def answer(call: Callable[[], Any]) -> tuple[str, str]:
    """(OK, "") when `call` succeeds, else AWS's (error code, message)."""
    try:
        call()
    except ClientError as error:
        return str(error.response["Error"]["Code"]), str(error.response["Error"].get("Message", ""))
    return OK, ""


def refusal(call: Callable[[], Any]) -> tuple[str, str]:
    """AWS's (error code, message) for a `call` that must fail."""
    code, message = answer(call)
    assert code != OK, "the call succeeded"
    return code, message


def assert_sts_xml(answer_xml: bytes, root: str, *elements: str) -> None:
    """An STS query-protocol answer: the `root` element in STS's namespace, holding each of `elements`."""
    text = answer_xml.decode()
    assert text.startswith(f'<{root} xmlns="{STS_XMLNS}">'), text[:200]
    for element in elements:
        assert element in text
