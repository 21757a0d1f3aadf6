"""The RBAC guard's rules: the finalizer is there exactly while EventTrackers need the operator's permissions."""

from __future__ import annotations

import kopf
import pytest

from personalize_operator.kube.rbac_guard import (
    FINALIZER,
    MEMO_KEY,
    Change,
    Trackers,
    decide,
    finalizer_patch,
    guard_on,
    guarded_namespaces,
    should_sync,
)

NONE = Trackers(total=0, live=0)
LIVE = Trackers(total=3, live=3)
ALL_DELETING = Trackers(total=3, live=0)  # what a namespace deletion looks like


@pytest.mark.parametrize(
    ("has_finalizer", "deleting", "trackers", "expected"),
    [
        pytest.param(False, False, LIVE, Change.ADD, id="trackers-appear-protect"),
        pytest.param(True, False, LIVE, Change.KEEP, id="already-protected"),
        pytest.param(True, True, ALL_DELETING, Change.KEEP, id="namespace-deleting-keep-until-trackers-gone"),
        pytest.param(True, True, NONE, Change.REMOVE, id="last-tracker-gone-let-the-namespace-go"),
        pytest.param(True, False, NONE, Change.REMOVE, id="no-trackers-no-finalizer"),
        pytest.param(False, True, LIVE, Change.KEEP, id="no-finalizer-can-be-added-while-deleting"),
        pytest.param(False, False, NONE, Change.KEEP, id="nothing-to-guard"),
        pytest.param(True, True, LIVE, Change.KEEP, id="binding-deleted-first-while-running-keep"),
    ],
)
def test_while_running_the_finalizer_follows_the_trackers(
    has_finalizer: bool, deleting: bool, trackers: Trackers, expected: Change
) -> None:
    assert decide(has_finalizer=has_finalizer, deleting=deleting, trackers=trackers) == expected


@pytest.mark.parametrize(
    ("deleting", "trackers", "expected"),
    [
        pytest.param(False, LIVE, Change.KEEP, id="restart-stays-protected"),
        pytest.param(True, ALL_DELETING, Change.KEEP, id="namespace-deletion-the-next-operator-finishes"),
        pytest.param(True, LIVE, Change.REMOVE, id="namespace-unwatched-with-live-trackers-lets-go"),
        pytest.param(False, NONE, Change.REMOVE, id="nothing-left-to-guard"),
    ],
)
def test_stopping_lets_go_only_where_nobody_else_would(deleting: bool, trackers: Trackers, expected: Change) -> None:
    assert decide(has_finalizer=True, deleting=deleting, trackers=trackers, stopping=True) == expected


def test_stopping_never_adds_a_finalizer() -> None:
    assert decide(has_finalizer=False, deleting=False, trackers=LIVE, stopping=True) == Change.KEEP


class TestPatch:
    """The patch keeps other controllers' finalizers and applies only to the version read."""

    def test_adding_keeps_other_finalizers(self) -> None:
        patch = finalizer_patch(["example.com/keep"], "41", Change.ADD)
        assert patch == [
            {"op": "test", "path": "/metadata/resourceVersion", "value": "41"},
            {"op": "add", "path": "/metadata/finalizers", "value": ["example.com/keep", FINALIZER]},
        ]

    def test_removing_keeps_other_finalizers(self) -> None:
        patch = finalizer_patch(["example.com/keep", FINALIZER], "41", Change.REMOVE)
        assert patch[1]["value"] == ["example.com/keep"]

    def test_adding_twice_is_still_one_finalizer(self) -> None:
        assert finalizer_patch([FINALIZER], "1", Change.ADD)[1]["value"] == [FINALIZER]


@pytest.mark.parametrize(
    ("setting", "namespaces", "expected"),
    [
        pytest.param("po", ["shop", "search"], ("shop", "search"), id="namespaced-install"),
        pytest.param("", ["shop"], (), id="not-set-by-the-chart"),
        pytest.param("po", [], (), id="cluster-wide-nothing-to-guard"),
        pytest.param("po", ["!solo-*"], (), id="patterns-are-not-an-install-of-ours"),
    ],
)
def test_the_guard_runs_only_for_a_namespaced_install(
    setting: str, namespaces: list[str], expected: tuple[str, ...]
) -> None:
    assert guarded_namespaces(setting, namespaces) == expected


@pytest.mark.parametrize(
    ("had_any", "has_any", "dirty", "expected"),
    [
        (False, True, False, True),  # the namespace's first EventTracker: add the finalizer
        (True, False, False, True),  # its last one is gone: remove it
        (True, True, False, False),  # the 2nd ... 1,000th: nothing can change, no list
        (False, False, False, False),
        (True, True, True, True),  # the last sync failed: try again on any event
    ],
)
def test_a_sync_only_when_any_can_change(had_any: bool, has_any: bool, dirty: bool, expected: bool) -> None:
    assert should_sync(had_any=had_any, has_any=has_any, dirty=dirty) is expected


def test_kopf_runs_the_guards_event_handler_only_where_the_guard_is_on() -> None:
    on = kopf.Memo()
    on[MEMO_KEY] = object()
    assert guard_on(kopf.Memo()) is False and guard_on(on) is True
