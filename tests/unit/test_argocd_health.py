"""The Argo CD health check (docs/argocd/health.lua), run in a real Lua with lupa.

Argo CD runs gopher-lua (Lua 5.1) and hands the script the live object as the global
`obj`, decoded from JSON: objects become tables, arrays 1-based tables, numbers floats.
The tests do the same under Lua 5.1 and 5.4 (so the script holds whatever the number
type), and check that the argocd-cm snippet embeds exactly this Lua.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from personalize_operator import conditions
from personalize_operator.aws import (
    AccessDenied,
    AlreadyExists,
    InUse,
    InvalidInput,
    NotFound,
    RemoteTracker,
    Retryable,
    Throttled,
)
from personalize_operator.decide import (
    UID_TAG,
    Decision,
    Desired,
    Observation,
    Phase,
    Recorded,
    decide,
    decide_deletion,
    decide_error,
)
from personalize_operator.model import READY, SYNCED

ROOT = Path(__file__).resolve().parents[2]
ARGOCD = ROOT / "docs" / "argocd"
HEALTH_LUA = ARGOCD / "health.lua"
CONFIGMAP = ARGOCD / "argocd-cm.yaml"
RENDERER = ARGOCD / "render_argocd_cm.py"
APPLICATION = ARGOCD / "application.yaml"
CRD = ROOT / "crds" / "eventtrackers.personalize.operators.dev.yaml"
HEALTH_KEY = "resource.customizations.health.personalize.operators.dev_EventTracker"

# Argo CD's Lua VM opens base, package, table, string and math only.
ARGOCD_SANDBOX = "io, os, debug, coroutine = nil, nil, nil, nil"

DG = "arn:aws:personalize:eu-west-1:111122223333:dataset-group/shop"
ARN = "arn:aws:personalize:eu-west-1:111122223333:event-tracker/0f3c5e7a"
SINCE = "2025-01-01T10:00:00Z"


# --- running the Lua -------------------------------------------------------------------


@pytest.fixture(scope="module", params=["lua51", "lua54"])
def lua_module(request: pytest.FixtureRequest) -> ModuleType:
    """One lupa runtime module per Lua version: 5.1 like Argo CD's gopher-lua, 5.4 for portability."""
    return importlib.import_module(f"lupa.{request.param}")


def to_lua(runtime: Any, value: Any) -> Any:
    """JSON data as Argo CD hands it to Lua: tables for objects, 1-based arrays for lists, float numbers."""
    if isinstance(value, dict):
        table = runtime.table()
        for key, item in value.items():
            if item is not None:
                table[key] = to_lua(runtime, item)
        return table
    if isinstance(value, list):
        return runtime.table(*(to_lua(runtime, item) for item in value))
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def health(lua_module: ModuleType, obj: dict[str, Any]) -> tuple[str, str]:
    """(hs.status, hs.message) the health check returns for `obj`, in a fresh runtime."""
    runtime = lua_module.LuaRuntime()
    runtime.execute(ARGOCD_SANDBOX)
    runtime.globals().obj = to_lua(runtime, obj)
    result = runtime.execute(HEALTH_LUA.read_text(encoding="utf-8"))
    return result["status"], result["message"]


# --- sample EventTrackers --------------------------------------------------------------


def event_tracker(
    status: dict[str, Any] | None = None, *, generation: int = 1, deleting: bool = False
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "storefront", "namespace": "shop", "uid": "uid-1", "generation": generation}
    if deleting:
        metadata["deletionTimestamp"] = "2025-01-01T12:00:00Z"
        metadata["finalizers"] = ["personalize.operators.dev/finalizer"]
    obj: dict[str, Any] = {
        "apiVersion": "personalize.operators.dev/v1alpha1",
        "kind": "EventTracker",
        "metadata": metadata,
        "spec": {"name": "storefront-clicks", "datasetGroupArn": DG},
    }
    if status is not None:
        obj["status"] = status
    return obj


def ready(ok: bool | None, reason: str, message: str, *, generation: int | None = 1) -> dict[str, Any]:
    """A Ready condition; generation None leaves out observedGeneration."""
    condition: dict[str, Any] = {
        "type": "Ready",
        "status": {True: "True", False: "False", None: "Unknown"}[ok],
        "reason": reason,
        "message": message,
        "lastTransitionTime": SINCE,
    }
    if generation is not None:
        condition["observedGeneration"] = generation
    return condition


def synced(*, generation: int = 1, error: str = "") -> dict[str, Any]:
    return {
        "type": "Synced",
        "status": "False" if error else "True",
        "reason": "ReconcileError" if error else "ReconcileSuccess",
        "message": error,
        "lastTransitionTime": SINCE,
        "observedGeneration": generation,
    }


def status(phase: str, *conds: dict[str, Any], observed: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "phase": phase,
        "trackerName": "storefront-clicks",
        "observedGeneration": observed,
        "conditions": list(conds),
        **extra,
    }


ACTIVE = "event tracker storefront-clicks is ACTIVE"
ACTIVE_STATUS = status(
    "Active",
    ready(True, "Active", ACTIVE),
    synced(),
    awsStatus="ACTIVE",
    eventTrackerArn=ARN,
    secretName="storefront-tracking",
)
NOT_FOUND = f"dataset group {DG} was not found (Could not find resource); retrying in 40s"
ACCESS_DENIED = "CreateEventTracker failed with AccessDeniedException: not authorized; retrying in 20s"
IN_PROGRESS = "event tracker storefront-clicks is CREATE IN_PROGRESS; checking again in 4s"
CONFLICT = (
    f"dataset group {DG} already has event tracker legacy ({ARN}) that this resource did not create; "
    'delete it, or set the annotation personalize.operators.dev/adopt: "true" to adopt it. Looking again every 180s'
)
CREATE_FAILED = (
    "event tracker storefront-clicks is CREATE FAILED: internal error. It still holds the dataset group; change "
    "the spec or set the annotation personalize.operators.dev/retry to a new value to delete it and try again"
)
DELETING = "event tracker storefront-clicks is DELETE IN_PROGRESS; checking again in 2s"
WAITING_FOR_GENERATION_1 = "waiting for the operator to observe generation 1"


# --- the health rules ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("obj", "expected_message"),
    [
        pytest.param(event_tracker(), WAITING_FOR_GENERATION_1, id="no-status-yet"),
        pytest.param(
            event_tracker({"kopf": {"progress": {}}}), WAITING_FOR_GENERATION_1, id="only-kopf-progress-in-status"
        ),
        pytest.param(
            event_tracker(status("Pending", ready(False, "DatasetGroupNotFound", NOT_FOUND), synced(error="x"))),
            f"DatasetGroupNotFound: {NOT_FOUND}",
            id="pending-dataset-group-not-found",
        ),
        pytest.param(
            event_tracker(status("Pending", ready(False, "AccessDenied", ACCESS_DENIED), synced(error="x"))),
            f"AccessDenied: {ACCESS_DENIED}",
            id="pending-access-denied",
        ),
        pytest.param(
            event_tracker(status("Creating", ready(False, "Creating", IN_PROGRESS), synced(), eventTrackerArn=ARN)),
            f"Creating: {IN_PROGRESS}",
            id="creating",
        ),
        pytest.param(
            event_tracker(
                status("Creating", ready(False, "RemoteMissing", f"event tracker {ARN} no longer exists"), synced())
            ),
            f"RemoteMissing: event tracker {ARN} no longer exists",
            id="creating-again-after-remote-deletion",
        ),
    ],
)
def test_a_tracker_being_set_up_is_progressing_and_says_why(
    lua_module: ModuleType, obj: dict[str, Any], expected_message: str
) -> None:
    assert health(lua_module, obj) == ("Progressing", expected_message)


@pytest.mark.parametrize(
    ("obj", "expected_message"),
    [
        pytest.param(event_tracker(ACTIVE_STATUS), f"Active: {ACTIVE}", id="active"),
        pytest.param(
            event_tracker(
                status("Active", ready(True, "Active", ACTIVE, generation=4), synced(generation=4), observed=4),
                generation=4,
            ),
            f"Active: {ACTIVE}",
            id="active-after-spec-changes",
        ),
        pytest.param(
            event_tracker(status("Active", ready(True, "Active", ACTIVE, generation=None), synced())),
            f"Active: {ACTIVE}",
            id="ready-condition-without-observed-generation",
        ),
        pytest.param(
            event_tracker(
                status(
                    "Active",
                    ready(True, "AccessDenied", "TagResource failed with AccessDeniedException: denied"),
                    synced(error="TagResource: AccessDeniedException: denied"),
                )
            ),
            "AccessDenied: TagResource failed with AccessDeniedException: denied",
            id="active-with-a-failing-tag-update",
        ),
    ],
)
def test_an_active_tracker_with_a_current_status_is_healthy(
    lua_module: ModuleType, obj: dict[str, Any], expected_message: str
) -> None:
    assert health(lua_module, obj) == ("Healthy", expected_message)


@pytest.mark.parametrize(
    ("obj", "expected_message"),
    [
        pytest.param(
            event_tracker(status("Failed", ready(False, "Conflict", CONFLICT), synced())),
            f"Conflict: {CONFLICT}",
            id="conflict",
        ),
        pytest.param(
            event_tracker(status("Failed", ready(False, "CreateFailed", CREATE_FAILED), synced(), awsStatus="x")),
            f"CreateFailed: {CREATE_FAILED}",
            id="create-failed",
        ),
        pytest.param(
            event_tracker(status("Failed", ready(False, "NameConflict", "choose another spec.name"), synced())),
            "NameConflict: choose another spec.name",
            id="name-conflict",
        ),
        pytest.param(
            event_tracker(status("Failed", ready(False, "InvalidSpec", ""), synced())),
            "InvalidSpec",
            id="reason-without-message",
        ),
        pytest.param(
            event_tracker(status("Failed")),
            "the operator reports phase Failed",
            id="no-conditions",
        ),
    ],
)
def test_a_failed_tracker_is_degraded_with_the_reason_and_message(
    lua_module: ModuleType, obj: dict[str, Any], expected_message: str
) -> None:
    assert health(lua_module, obj) == ("Degraded", expected_message)


@pytest.mark.parametrize(
    ("obj", "expected_message"),
    [
        pytest.param(
            event_tracker(status("Deleting", ready(False, "Deleting", DELETING), synced()), deleting=True),
            f"Deleting: {DELETING}",
            id="deleting",
        ),
        pytest.param(
            event_tracker(
                status(
                    "Deleting",
                    ready(False, "Retained", f"deletionPolicy is Retain: event tracker {ARN} left in AWS"),
                    synced(),
                ),
                deleting=True,
            ),
            f"Retained: deletionPolicy is Retain: event tracker {ARN} left in AWS",
            id="retained",
        ),
        pytest.param(
            event_tracker(ACTIVE_STATUS, deleting=True, generation=2),
            "the EventTracker is being deleted; waiting for the operator",
            id="deletion-requested-not-yet-seen",
        ),
        pytest.param(
            event_tracker(deleting=True),
            "the EventTracker is being deleted; waiting for the operator",
            id="deleted-before-any-status",
        ),
        pytest.param(
            event_tracker(status("Deleting")),
            "the event tracker is being deleted",
            id="deleting-without-conditions",
        ),
    ],
)
def test_a_tracker_being_deleted_is_progressing(
    lua_module: ModuleType, obj: dict[str, Any], expected_message: str
) -> None:
    assert health(lua_module, obj) == ("Progressing", expected_message)


@pytest.mark.parametrize(
    "obj",
    [
        pytest.param(
            event_tracker(status("Active", ready(True, "Active", ACTIVE, generation=2), observed=2), generation=3),
            id="active-but-spec-is-newer",
        ),
        pytest.param(
            event_tracker(
                status("Active", ready(True, "Active", ACTIVE, generation=2), synced(), observed=3), generation=3
            ),
            id="ready-condition-older-than-status",
        ),
        pytest.param(
            event_tracker(status("Failed", ready(False, "Conflict", CONFLICT, generation=2), observed=2), generation=3),
            id="failed-then-spec-fixed",
        ),
        pytest.param(
            event_tracker(status("Active", ready(True, "Active", ACTIVE, generation=5), observed=5), generation=3),
            id="status-newer-than-spec-after-restore",
        ),
    ],
)
def test_a_status_older_than_the_spec_is_progressing_until_the_operator_catches_up(
    lua_module: ModuleType, obj: dict[str, Any]
) -> None:
    assert health(lua_module, obj) == ("Progressing", "waiting for the operator to observe generation 3")


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param({}, ("Progressing", "waiting for the operator to reconcile the EventTracker"), id="empty-object"),
        pytest.param(
            {"metadata": {"name": "storefront"}, "status": ACTIVE_STATUS},
            ("Healthy", f"Active: {ACTIVE}"),
            id="no-generation-in-metadata",
        ),
        pytest.param(
            event_tracker(ACTIVE_STATUS | {"conditions": "not-a-list"}),
            ("Progressing", "phase Active; waiting for the Ready condition"),
            id="conditions-not-a-list",
        ),
        pytest.param(
            event_tracker(ACTIVE_STATUS | {"conditions": ["junk", {"type": "Ready", "status": "True"}]}),
            ("Healthy", "the event tracker is ACTIVE"),
            id="ready-condition-without-reason-or-message",
        ),
        pytest.param(
            event_tracker(ACTIVE_STATUS | {"conditions": [synced()]}),
            ("Progressing", "phase Active; waiting for the Ready condition"),
            id="only-synced-condition",
        ),
        pytest.param(
            event_tracker({"observedGeneration": 1, "conditions": [ready(None, "Unknown", "starting")]}),
            ("Progressing", "Unknown: starting"),
            id="no-phase-and-ready-unknown",
        ),
        pytest.param(
            event_tracker(status("Creating", ready(True, "Active", ACTIVE))),
            ("Progressing", f"Active: {ACTIVE}"),
            id="creating-wins-over-a-stray-ready-true",
        ),
    ],
)
def test_missing_or_malformed_fields_never_break_the_check(
    lua_module: ModuleType, obj: dict[str, Any], expected: tuple[str, str]
) -> None:
    assert health(lua_module, obj) == expected


# --- the operator's own decisions, rendered as reconcile.py renders status --------------


def _desired(**changes: Any) -> Desired:
    base: dict[str, Any] = {
        "uid": "uid-1",
        "namespace": "shop",
        "name": "storefront",
        "generation": 2,
        "tracker_name": "storefront-clicks",
        "dataset_group_arn": DG,
        "region": DG.split(":")[3],
        "secret_name": "storefront-tracking",
    }
    return Desired(**(base | changes))


def _remote(aws_status: str, *, uid: str = "uid-1") -> RemoteTracker:
    return RemoteTracker(
        arn=ARN, name="storefront-clicks", status=aws_status, dataset_group_arn=DG, tags={UID_TAG: uid}
    )


def _decisions() -> list[Any]:
    desired = _desired()
    fresh, active = Recorded(), Recorded(arn=ARN, phase="Active", observed_generation=2)
    denied = AccessDenied("AccessDeniedException", "not authorized", "CreateEventTracker")
    quota = Throttled("LimitExceededException", "too many trackers", "CreateEventTracker")
    throttled = Retryable("ThrottlingException", "slow down", "DescribeEventTracker")
    busy = InUse("ResourceInUseException", "busy", "DeleteEventTracker")
    cases = [
        ("create", decide(desired, fresh, Observation()), False),
        ("remote-missing", decide(desired, active, Observation(lost=True)), False),
        ("adopting", decide(_desired(adopt=True), fresh, Observation(foreign=_remote("ACTIVE", uid="x"))), False),
        ("conflict", decide(desired, fresh, Observation(foreign=_remote("ACTIVE", uid="x"))), False),
        ("creating", decide(desired, fresh, Observation(tracker=_remote("CREATE IN_PROGRESS"))), False),
        ("active", decide(desired, active, Observation(tracker=_remote("ACTIVE"))), False),
        ("create-failed", decide(desired, active, Observation(tracker=_remote("CREATE FAILED"))), False),
        (
            "retrying",
            decide(_desired(retry_token="1"), active, Observation(tracker=_remote("CREATE FAILED"))),
            False,
        ),
        ("remote-deleting", decide(desired, active, Observation(tracker=_remote("DELETE PENDING"))), False),
        (
            "dataset-group-not-found",
            decide_error(NotFound("ResourceNotFoundException", "gone", "x"), desired, fresh),
            False,
        ),
        ("access-denied-before-create", decide_error(denied, desired, fresh), False),
        ("access-denied-while-active", decide_error(denied, desired, active), False),
        ("limit-exceeded", decide_error(quota, desired, fresh), False),
        ("aws-unavailable", decide_error(throttled, desired, active), False),
        (
            "name-conflict",
            decide_error(AlreadyExists("ResourceAlreadyExistsException", "x", "y"), desired, fresh),
            False,
        ),
        ("invalid-spec", decide_error(InvalidInput("InvalidInputException", "bad", "y"), desired, fresh), False),
        ("delete", decide_deletion(desired, Observation(tracker=_remote("ACTIVE"))), True),
        ("deleting", decide_deletion(desired, Observation(tracker=_remote("DELETE IN_PROGRESS"))), True),
        ("waiting-for-creation", decide_deletion(desired, Observation(tracker=_remote("CREATE PENDING"))), True),
        ("retained", decide_deletion(_desired(retain=True), Observation(tracker=_remote("ACTIVE"))), True),
        ("deleted", decide_deletion(desired, Observation()), True),
        ("delete-in-use", decide_error(busy, desired, active, deleting=True), True),
    ]
    return [pytest.param(decision, deleting, id=name) for name, decision, deleting in cases]


EXPECTED_HEALTH = {Phase.ACTIVE: "Healthy", Phase.FAILED: "Degraded"}


@pytest.mark.parametrize(("decision", "deleting"), _decisions())
def test_every_operator_decision_gets_the_health_its_phase_implies_and_its_reason(
    lua_module: ModuleType, decision: Decision, deleting: bool
) -> None:
    generation = 2
    ready_condition = conditions.condition(
        READY, decision.phase == Phase.ACTIVE, decision.reason, decision.message, generation
    )
    synced_condition = conditions.condition(SYNCED, True, conditions.SYNC_OK, "", generation)
    obj = event_tracker(
        {
            "phase": str(decision.phase),
            "observedGeneration": generation,
            "conditions": conditions.merge([], [ready_condition, synced_condition], SINCE),
        },
        generation=generation,
        deleting=deleting,
    )

    assert health(lua_module, obj) == (
        EXPECTED_HEALTH.get(decision.phase, "Progressing"),
        f"{decision.reason}: {decision.message}",
    )


# --- the argocd-cm snippet and the example Application --------------------------------


def _renderer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("render_argocd_cm", RENDERER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_configmap_snippet_embeds_exactly_health_lua() -> None:
    configmap = yaml.safe_load(CONFIGMAP.read_text(encoding="utf-8"))

    assert configmap["kind"] == "ConfigMap"
    assert configmap["metadata"]["name"] == "argocd-cm"
    assert configmap["data"][HEALTH_KEY] == HEALTH_LUA.read_text(encoding="utf-8")


def test_the_configmap_file_is_what_the_renderer_writes() -> None:
    rendered = _renderer().render(HEALTH_LUA.read_text(encoding="utf-8"))

    assert CONFIGMAP.read_text(encoding="utf-8") == rendered, "run: python docs/argocd/render_argocd_cm.py"


def test_the_health_key_names_the_group_and_kind_of_the_crd() -> None:
    crd = yaml.safe_load(CRD.read_text(encoding="utf-8"))

    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
    assert f"resource.customizations.health.{group}_{kind}" == HEALTH_KEY


def test_the_example_application_syncs_automatically_with_prune_and_self_heal() -> None:
    application = yaml.safe_load(APPLICATION.read_text(encoding="utf-8"))

    assert application["apiVersion"] == "argoproj.io/v1alpha1"
    assert application["kind"] == "Application"
    assert application["spec"]["source"]["path"]
    assert application["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
