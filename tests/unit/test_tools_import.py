"""`import`'s decisions without AWS or a cluster: which trackers become manifests, which are skipped and why."""

from __future__ import annotations

import yaml

from personalize_operator.api import names
from personalize_operator.api.names import ADOPT_ANNOTATION, UID_TAG
from personalize_operator.aws.tracker import RemoteTracker
from personalize_operator.tools.importer import Candidate, candidates, plan
from personalize_operator.tools.output import Format, render
from support.builders import TRACKING_ID, remote_tracker, tracker_arn

DG = "arn:aws:personalize:eu-west-1:111122223333:dataset-group/"
OWNED = {UID_TAG: "uid-1", f"{names.GROUP}/namespace": "shop", f"{names.GROUP}/name": "clicks"}


def tracker(name: str, status: str = "ACTIVE", tags: dict[str, str] | None = None, **extra: str) -> RemoteTracker:
    """Tracker `name`, alone in dataset group `name`, carrying only `tags`."""
    return remote_tracker(
        status, name=name, arn=tracker_arn(name), dataset_group_arn=DG + name, tags=tags or {}, **extra
    )


def test_an_active_tracker_becomes_an_adopting_manifest_with_its_user_tags_only() -> None:
    found = plan(
        [Candidate(tracker("Clicks_v2", tags={"team": "growth", "aws:cloudformation:stack-name": "s"}))],
        namespace="shop",
        deletion_policy="Retain",
    )
    (document,) = found.manifests
    assert document.body["metadata"] == {
        "name": "clicks-v2",
        "namespace": "shop",
        "annotations": {ADOPT_ANNOTATION: "true"},
    }
    assert document.body["spec"] == {
        "name": "Clicks_v2",
        "datasetGroupArn": DG + "Clicks_v2",
        "tags": [{"tagKey": "team", "tagValue": "growth"}],
        "deletionPolicy": "Retain",
    }
    assert "tags left out (reserved): aws:cloudformation:stack-name" in document.comments
    assert found.skipped == []


def test_a_tracker_owned_by_a_live_event_tracker_is_skipped_naming_it() -> None:
    found = plan([Candidate(tracker("a", tags=OWNED), owner="shop/clicks")], namespace=None, deletion_policy="Retain")
    assert found.manifests == []
    assert found.skipped[0].reason == "owned by EventTracker shop/clicks (uid uid-1)"


def test_a_tracker_whose_owner_is_gone_is_adopted_without_the_ownership_tags() -> None:
    found = plan([Candidate(tracker("a", tags={**OWNED, "team": "x"}))], namespace=None, deletion_policy="Retain")
    (document,) = found.manifests
    assert document.body["spec"]["tags"] == [{"tagKey": "team", "tagValue": "x"}]
    assert "its ownership tags name EventTracker shop/clicks, which no longer exists" in document.comments


def test_a_tracker_not_active_is_skipped_with_its_status_and_failure_reason() -> None:
    found = plan(
        [Candidate(tracker("a", status="CREATE FAILED", failure_reason="dataset group deleted"))],
        namespace=None,
        deletion_policy="Retain",
    )
    assert found.skipped[0].line() == (
        f"skipped a ({tracker('a').arn}): status is CREATE FAILED, not ACTIVE: dataset group deleted"
    )


def test_ownership_that_cannot_be_checked_skips_only_trackers_with_ownership_tags() -> None:
    found = plan(
        candidates([tracker("a", tags=OWNED), tracker("b")], owners=None, unknown="no kubeconfig"),
        namespace=None,
        deletion_policy="Retain",
    )
    assert [d.body["spec"]["name"] for d in found.manifests] == ["b"]
    assert "the cluster could not be checked: no kubeconfig" in found.skipped[0].reason


def test_two_aws_names_with_the_same_dns_name_get_distinct_resource_names() -> None:
    found = plan([Candidate(tracker("Clicks")), Candidate(tracker("clicks"))], namespace=None, deletion_policy="Delete")
    assert sorted(d.body["metadata"]["name"] for d in found.manifests) == ["clicks", "clicks-2"]


def test_the_printed_yaml_has_the_skips_as_comments_and_never_the_tracking_id() -> None:
    found = plan(
        [Candidate(tracker("a")), Candidate(tracker("b", status="CREATE FAILED"))],
        namespace="shop",
        deletion_policy="Retain",
    )
    text = render(found.manifests, Format.YAML, header=[s.line() for s in found.skipped])
    assert text.startswith("# skipped b (")
    assert TRACKING_ID not in text
    assert [doc["spec"]["name"] for doc in yaml.safe_load_all(text)] == ["a"]
