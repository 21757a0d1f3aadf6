"""Property: the emulator accepts exactly the names, ARNs and tags the botocore model's constraints accept.

The oracle reads lengths from the model and checks each pattern with a
predicate written by hand for that exact pattern (Java semantics: whole-value
match, `.` excludes line terminators, `\\d` is ASCII), sharing no code with
the emulator's validator. If the model's pattern changes, the oracle has no
predicate for it and the tests fail until one is written.

Strings come from valid and near-valid alphabets (Unicode letters and digits,
line terminators, look-alike punctuation) and cluster around length limits.
The emulator's answer is reduced to "InvalidInputException or not".
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

import botocore.session
import pytest
import regex
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from personalize_emulator.testing import Emulator
from support.aws_answers import answer

MODEL = botocore.session.get_session().get_service_model("personalize")
NAME = MODEL.shape_for("Name")
ARN = MODEL.shape_for("Arn")
TAGS = MODEL.shape_for("Tags")
TAG_KEY = MODEL.shape_for("TagKey")
TAG_VALUE = MODEL.shape_for("TagValue")

UNKNOWN_GROUP = "arn:aws:personalize:us-east-1:123456789012:dataset-group/property-test"
UNKNOWN_TRACKER = "arn:aws:personalize:us-east-1:123456789012:event-tracker/property-test"
ALNUM = string.ascii_letters + string.digits
JAVA_LINE_TERMINATORS = "\n\r\u0085\u2028\u2029"
EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- the oracle: one hand-written predicate per model pattern -------------------------------


def _name_pattern(value: str) -> bool:
    return bool(value) and value[0] in ALNUM and all(c in ALNUM + "-_" for c in value[1:])


def _arn_pattern(value: str) -> bool:
    if not value.startswith("arn:"):
        return False
    partition, _, tail = value[4:].partition(":")
    if not partition or any(c not in string.ascii_lowercase + string.digits + "-" for c in partition):
        return False
    if not tail.startswith("personalize:"):
        return False
    rest = tail[len("personalize:") :]
    if any(c in JAVA_LINE_TERMINATORS for c in rest):
        return False
    colons = [i for i, c in enumerate(rest) if c == ":"]
    return len(colons) >= 2 and any(i <= len(rest) - 2 for i in colons[1:])


def _tag_pattern(value: str) -> bool:
    return all(unicodedata.category(c)[0] in "LZN" or c in "_.:/=+-@" for c in value)


PATTERN_ORACLES = {
    r"^[a-zA-Z0-9][a-zA-Z0-9\-_]*": _name_pattern,
    r"arn:([a-z\d-]+):personalize:.*:.*:.+": _arn_pattern,
    r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$": _tag_pattern,
}


def model_accepts(shape: Any, value: str) -> bool:
    low, high = shape.metadata.get("min", 0), shape.metadata.get("max")
    if len(value) < low or (high is not None and len(value) > high):
        return False
    pattern = shape.metadata.get("pattern")
    return pattern is None or PATTERN_ORACLES[pattern](value)


def test_every_pattern_under_test_has_a_hand_written_predicate() -> None:
    for shape in (NAME, ARN, TAG_KEY, TAG_VALUE):
        assert shape.metadata["pattern"] in PATTERN_ORACLES, shape.name


# -- alphabets ------------------------------------------------------------------------------


def _same_category_in_both_unicode_databases(char: str) -> bool:
    """Python's unicodedata and the regex module ship different Unicode versions; AWS runs a third.

    Characters whose letter/number/separator status differs between them (newly assigned ones) have
    no single right answer, so they are left out.
    """
    by_unicodedata = unicodedata.category(char)[0] in "LZN"
    by_regex = regex.fullmatch(r"[\p{L}\p{Z}\p{N}]", char) is not None
    return by_unicodedata == by_regex


NEAR_NAME_CHARS = ".: /@+é٣Ａß\n\t"
near_name_alphabet = st.sampled_from(ALNUM + "-_" + NEAR_NAME_CHARS)
names = st.one_of(
    st.text(st.sampled_from(ALNUM + "-_"), max_size=70),
    st.text(near_name_alphabet, max_size=70),
    st.integers(min_value=60, max_value=66).map(lambda n: "a" * n),
)

valid_arn_piece = st.text(st.sampled_from("abz09-/_."), min_size=1, max_size=12)
near_arn_piece = st.text(st.sampled_from("abz09-:/_.AZ٣é \r\n\u2028\u0085"), max_size=12)
arn_piece = st.one_of(valid_arn_piece, valid_arn_piece, near_arn_piece)
arns = st.one_of(
    st.builds(
        lambda prefix, partition, service, region, account, resource, pad: ":".join(
            [prefix, partition, service, region, account, resource + "x" * pad]
        ),
        prefix=st.sampled_from(["arn"] * 6 + ["ARN", "arn ", "", "urn"]),
        partition=st.one_of(st.sampled_from(["aws", "aws-cn", "aws-us-gov", "a-1", ""]), arn_piece),
        service=st.sampled_from(["personalize"] * 6 + ["Personalize", "s3", "", "personalize "]),
        region=arn_piece,
        account=arn_piece,
        resource=arn_piece,
        pad=st.one_of(st.just(0), st.just(0), st.integers(min_value=190, max_value=260)),
    ),
    st.text(st.sampled_from("arn:personalize-aws1/\r"), max_size=40),
)

valid_tag_chars = st.one_of(
    st.characters(categories=["L", "N", "Z"]).filter(_same_category_in_both_unicode_databases),
    st.sampled_from("_.:/=+-@"),
    st.sampled_from(ALNUM),
)
tag_chars = st.one_of(
    valid_tag_chars,
    st.characters(exclude_categories=["Cs", "Co"]).filter(_same_category_in_both_unicode_databases),
    st.sampled_from("!#$%&*,;?\\|~^'\"\t\x00\u3000\u2028"),
)
tag_texts = st.one_of(
    st.text(valid_tag_chars, max_size=12),
    st.text(tag_chars, max_size=12),
    # Around the 128 and 256 limits: a valid filler and a random tail (drawing 250 characters one by one is slow).
    st.builds(lambda n, tail: "a" * n + tail, st.sampled_from([121, 124, 248, 252]), st.text(tag_chars, max_size=8)),
)
tags = st.lists(st.tuples(tag_texts, tag_texts), max_size=3)


# -- the emulator's answer -------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(emulator_session: Emulator) -> Iterator[Any]:
    """A client that sends whatever it is given (no client-side validation, no retries)."""
    emulator_session.admin.reset()
    yield emulator_session.client(parameter_validation=False, retries={"total_max_attempts": 1})
    emulator_session.admin.reset()


def _judged_as_the_model_judges(call: Callable[[], Any], field: str, accepted: bool) -> None:
    """Accepted input reaches the (unknown) resource; refused input names `field` the way AWS does."""
    code, message = answer(call)
    event(f"model accepts: {accepted}")
    if accepted:
        assert code == "ResourceNotFoundException", message
    else:
        assert code == "InvalidInputException"
        assert f" at '{field}' failed to satisfy constraint" in message


@EXAMPLES
@given(name=names)
def test_names(client: Any, name: str) -> None:
    _judged_as_the_model_judges(
        lambda: client.create_event_tracker(name=name, datasetGroupArn=UNKNOWN_GROUP), "name", model_accepts(NAME, name)
    )


@EXAMPLES
@given(arn=arns)
def test_arns(client: Any, arn: str) -> None:
    _judged_as_the_model_judges(
        lambda: client.describe_event_tracker(eventTrackerArn=arn), "eventTrackerArn", model_accepts(ARN, arn)
    )


@EXAMPLES
@given(pairs=tags)
def test_tags(client: Any, pairs: list[tuple[str, str]]) -> None:
    body = [{"tagKey": key, "tagValue": value} for key, value in pairs]
    code, message = answer(lambda: client.tag_resource(resourceArn=UNKNOWN_TRACKER, tags=body))
    expected_paths = {
        f"tags.{i}.member.{member}"
        for i, (key, value) in enumerate(pairs, 1)
        for member, shape, text in (("tagKey", TAG_KEY, key), ("tagValue", TAG_VALUE, value))
        if not model_accepts(shape, text)
    }
    event(f"model accepts: {not expected_paths}")
    if not expected_paths:
        assert code == "ResourceNotFoundException", message
    else:
        assert code == "InvalidInputException"
        assert set(re.findall(r"Value at '([^']+)' failed", message)) == expected_paths
        assert all(text not in message for pair in pairs for text in pair if len(text) >= 100)  # sensitive: not echoed


@settings(max_examples=20, deadline=None)
@given(count=st.integers(min_value=TAGS.metadata["max"] - 3, max_value=TAGS.metadata["max"] + 3))
def test_tag_list_length(client: Any, count: int) -> None:
    body = [{"tagKey": f"k{i}", "tagValue": "v"} for i in range(count)]
    code, message = answer(lambda: client.tag_resource(resourceArn=UNKNOWN_TRACKER, tags=body))
    if count <= TAGS.metadata["max"]:
        assert code == "ResourceNotFoundException", message
    else:
        assert code == "InvalidInputException"
        assert f"Member must have length less than or equal to {TAGS.metadata['max']}" in message
