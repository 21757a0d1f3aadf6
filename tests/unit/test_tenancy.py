"""The tenancy map: parsing with line numbers, globs, resolve, the deletion identity, reloading."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from personalize_operator.aws.client import ROLE_SESSION_NAME_LIMIT, session_name
from personalize_operator.aws.tenancy import (
    Refusal,
    TenancyError,
    TenancyMap,
    TenancySource,
    Tenant,
    arn_matches,
    for_deletion,
    parse,
    resolve,
)
from personalize_operator.runtime import metrics

ROLE_A = "arn:aws:iam::111111111111:role/personalize-team-a"
ROLE_B = "arn:aws:iam::222222222222:role/personalize-team-b"
GOOD = f"""\
tenants:
  - namespaces: ["team-a", "team-a-*"]
    roleArn: {ROLE_A}
    externalId: "a-secret-handshake"
    datasetGroups: ["arn:aws:personalize:*:111111111111:dataset-group/a-*"]
  - namespaces: ["team-b"]
    roleArn: {ROLE_B}
    datasetGroups: ["arn:aws:personalize:eu-west-1:222222222222:dataset-group/*"]
  - namespaces: ["platform"]
    datasetGroups: ["arn:aws:personalize:*:*:dataset-group/*"]
"""
A1 = "arn:aws:personalize:us-east-1:111111111111:dataset-group/a-1"


@pytest.fixture
def tenancy() -> TenancyMap:
    return parse(GOOD)


def test_a_good_file_parses_with_its_aliases(tenancy: TenancyMap) -> None:
    first = tenancy.tenants[0]
    assert (first.role_arn, first.external_id, first.account) == (ROLE_A, "a-secret-handshake", "111111111111")
    assert tenancy.tenants[2].role_arn is None and tenancy.tenants[2].account == ""


def test_an_empty_file_is_an_empty_map_that_refuses_everyone() -> None:
    assert resolve(parse(""), "team-a", A1) == Refusal("namespace team-a has no entry in the operator's tenancy map")


ONE_TENANT = "tenants:\n  - namespaces: [a]\n"
ANY_GROUP = "    datasetGroups: ['arn:a:b:c:d:e']\n"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        pytest.param("tenants:\n  - namespaces: [a\n", 3, "not valid YAML", id="yaml-syntax"),
        pytest.param(ONE_TENANT + "    roleArn: not-a-role\n" + ANY_GROUP, 3, "roleArn", id="bad-role"),
        pytest.param(ONE_TENANT, 2, "datasetGroups", id="missing-dataset-groups"),
        pytest.param(ONE_TENANT + "    datasetGroups: ['dataset-group/a-*']\n", 3, "no dataset group ARN", id="arn"),
        pytest.param(ONE_TENANT + ANY_GROUP + "    role: x\n", 4, "role", id="unknown"),
        pytest.param("- a\n- b\n", 1, "mapping", id="not-a-mapping"),
        pytest.param("tenants:\n  - namespaces: []\n" + ANY_GROUP, 2, "namespaces", id="no-namespace"),
    ],
)
def test_a_malformed_file_is_refused_naming_the_line_and_the_reason(text: str, line: int, words: str) -> None:
    with pytest.raises(TenancyError) as refused:
        parse(text, "tenancy.yaml")
    assert f"tenancy.yaml: line {line}" in str(refused.value)
    assert words in str(refused.value)


@pytest.mark.parametrize(
    ("pattern", "arn", "matches"),
    [
        ("arn:aws:personalize:*:111111111111:dataset-group/a-*", A1, True),
        ("arn:aws:personalize:*:111111111111:dataset-group/a-*", A1.replace("a-1", "b-1"), False),
        ("arn:aws:personalize:*:111111111111:dataset-group/a-*", A1.replace("111111111111", "222222222222"), False),
        ("arn:aws:personalize:eu-*:111111111111:dataset-group/*", A1, False),
        ("arn:aws:personalize:*:*:dataset-group/*", A1, True),
        ("arn:aws:personalize:*:dataset-group/*", A1, False),  # five parts: never matches
        ("arn:aws:personalize:*", A1, False),  # a `*` never crosses a `:`
    ],
)
def test_dataset_group_globs_match_part_by_part(pattern: str, arn: str, matches: bool) -> None:
    assert arn_matches(pattern, arn) is matches


RESOLVE_ROWS = [
    pytest.param("team-a", A1, ROLE_A, id="exact-namespace"),
    pytest.param("team-a-staging", A1, ROLE_A, id="namespace-glob"),
    pytest.param("team-b", "arn:aws:personalize:eu-west-1:222222222222:dataset-group/x", ROLE_B, id="team-b"),
    pytest.param("platform", A1, None, id="own-identity-entry"),
    pytest.param("team-ab", A1, "has no entry", id="glob-is-not-a-prefix"),
    pytest.param("shop", A1, "has no entry", id="no-entry"),
    pytest.param("team-a", A1.replace("a-1", "b-1"), "a-*", id="outside-its-patterns"),
    pytest.param("team-b", "arn:aws:personalize:us-east-1:222222222222:dataset-group/x", "eu-west-1", id="region"),
]


@pytest.mark.parametrize(("namespace", "arn", "expected"), RESOLVE_ROWS)
def test_resolve_finds_the_entry_or_names_the_rule(
    tenancy: TenancyMap, namespace: str, arn: str, expected: str | None
) -> None:
    found = resolve(tenancy, namespace, arn)
    if expected is None or expected.startswith("arn:"):
        assert isinstance(found, Tenant) and found.role_arn == expected
    else:
        assert isinstance(found, Refusal) and expected in found.rule and namespace in found.rule


def test_the_first_entry_allowing_the_dataset_group_wins() -> None:
    tenancy = TenancyMap.model_validate(
        {
            "tenants": [
                {"namespaces": ["t"], "roleArn": ROLE_A, "datasetGroups": ["arn:aws:personalize:*:111111111111:*"]},
                {"namespaces": ["t"], "roleArn": ROLE_B, "datasetGroups": ["arn:aws:personalize:*:222222222222:*"]},
            ]
        }
    )
    found = resolve(tenancy, "t", "arn:aws:personalize:us-east-1:222222222222:dataset-group/x")
    assert isinstance(found, Tenant) and found.role_arn == ROLE_B


@pytest.mark.parametrize(
    ("namespace", "account", "role"),
    [
        pytest.param("team-a", "111111111111", ROLE_A, id="own-entry"),
        pytest.param("gone", "222222222222", ROLE_B, id="lost-its-entry-another-entry-of-the-account"),
        pytest.param("team-a", "222222222222", ROLE_B, id="entry-moved-to-another-account"),
        pytest.param("gone", "333333333333", None, id="no-role-in-that-account"),
    ],
)
def test_deletion_takes_a_role_of_the_trackers_account_and_is_never_refused(
    tenancy: TenancyMap, namespace: str, account: str, role: str | None
) -> None:
    found = for_deletion(tenancy, namespace, account)
    assert (found.role_arn if found else None) == role


def _swap(mount: Path, text: str, version: str) -> None:
    """Write the file as a ConfigMap mount does: a new file, then an atomic symlink swap."""
    (mount / version).write_text(text)
    (mount / "..new").symlink_to(version)
    os.replace(mount / "..new", mount / "tenancy.yaml")


def _refusals() -> float:
    return metrics.TENANCY_RELOADS.labels(outcome="refused")._value.get()


def test_the_reloader_sees_a_symlink_swap_and_keeps_the_last_good_map_on_a_bad_file(tmp_path: Path) -> None:
    _swap(tmp_path, GOOD, "v1")
    seen: list[TenancyMap] = []
    source = TenancySource(tmp_path / "tenancy.yaml", seen.append)
    assert source.poll() and not seen  # the first load is no change
    assert source.poll() is False  # same bytes: nothing to do

    refused = _refusals()
    _swap(tmp_path, "tenants: [", "v2")
    assert source.poll() is False
    assert source.current.tenants[0].role_arn == ROLE_A
    assert _refusals() == refused + 1
    assert source.poll() is False and _refusals() == refused + 1  # one refusal per bad version, not per poll

    _swap(tmp_path, GOOD.replace("team-b", "team-c"), "v3")
    assert source.poll() is True
    assert len(seen) == 1 and seen[0].tenants[1].namespaces == ["team-c"]
    assert source.external_id(ROLE_A) == "a-secret-handshake"


def test_a_missing_file_keeps_the_map_but_a_bad_file_at_start_up_stops_the_operator(tmp_path: Path) -> None:
    (tmp_path / "tenancy.yaml").write_text(GOOD)
    source = TenancySource(tmp_path / "tenancy.yaml")
    source.poll()
    (tmp_path / "tenancy.yaml").unlink()
    assert source.poll() is False and len(source.current.tenants) == 3

    (tmp_path / "bad.yaml").write_text("tenants: 3\n")
    with pytest.raises(TenancyError, match="line 1"):
        TenancySource(tmp_path / "bad.yaml").start(interval=60)
    with pytest.raises(TenancyError, match="cannot read"):
        TenancySource(tmp_path / "absent.yaml").start(interval=60)


@pytest.mark.parametrize("namespace", ["team-a", "x" * 63, "a.b_c"])
def test_the_role_session_name_names_the_namespace_within_stss_limits(namespace: str) -> None:
    import re

    name = session_name(namespace)
    assert 2 <= len(name) <= ROLE_SESSION_NAME_LIMIT
    assert re.fullmatch(r"[\w+=,.@-]+", name)
    assert name.startswith("personalize-operator@")
    assert session_name(namespace) == name
