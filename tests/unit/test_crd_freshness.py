"""The served CRD against the operator's own: stamps parsed back, and each case judged and explained."""

from __future__ import annotations

from personalize_operator.api import crd, crd_freshness
from personalize_operator.api.crd_freshness import Freshness, Stamp, judge

NAME = crd.CRD_NAME
OWN = Stamp("0.2.0", "sha256:" + "a" * 64)


def test_a_stamp_survives_the_description_and_the_annotations() -> None:
    assert crd_freshness.from_description(f"What it is.\n\n{OWN.line()}") == OWN
    assert crd_freshness.from_description(f"What it is.\n\n{OWN.line()}\n") == OWN
    assert crd_freshness.from_annotations(OWN.annotations()) == OWN


def test_no_stamp_reads_as_none() -> None:
    assert crd_freshness.from_description("EventTracker is an Amazon Personalize event tracker.") is None
    assert crd_freshness.from_description(None) is None
    assert crd_freshness.from_description("") is None
    assert crd_freshness.from_annotations({crd_freshness.SCHEMA_HASH_ANNOTATION: OWN.schema_hash}) is None
    assert crd_freshness.from_annotations(None) is None


def test_the_same_hash_is_current() -> None:
    verdict = judge(Stamp("0.2.0", OWN.schema_hash), OWN, NAME)
    assert verdict.freshness == Freshness.CURRENT and not verdict.outdated


def test_an_unstamped_crd_predates_stamping_and_is_older() -> None:
    verdict = judge(None, OWN, NAME)
    assert verdict.freshness == Freshness.OLDER and verdict.outdated
    assert "no schema stamp" in verdict.message and "helm upgrade" in verdict.message


def test_an_older_or_newer_release_is_named_as_such() -> None:
    older = judge(Stamp("0.1.9", "sha256:" + "b" * 64), OWN, NAME)
    assert older.freshness == Freshness.OLDER and older.outdated and "0.1.9, older" in older.message
    newer = judge(Stamp("0.10.0", "sha256:" + "b" * 64), OWN, NAME)  # numeric, not text order
    assert newer.freshness == Freshness.NEWER and not newer.outdated and "after a rollback" in newer.message


def test_another_hash_under_a_version_that_does_not_order_is_different() -> None:
    for served in (Stamp("0.2.0", "sha256:" + "b" * 64), Stamp("0.3.0.dev1", "sha256:" + "b" * 64)):
        verdict = judge(served, OWN, NAME)
        assert verdict.freshness == Freshness.DIFFERENT and verdict.outdated


def test_the_operators_own_rendering_is_current_against_itself() -> None:
    rendered = crd.render_crd()
    served = crd_freshness.from_description(rendered["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["description"])
    assert judge(served, crd.stamp(), NAME).freshness == Freshness.CURRENT
