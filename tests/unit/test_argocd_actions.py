"""The Argo CD resource actions for EventTrackers (pause, resume, retry, refresh), run by Argo CD's engines.

Two engines judge docs/argocd's upstream-layout actions/ folder: the gopher-lua harness (tests/gitops,
`actions-test`: action_test.yaml read as Argo CD's TestLuaResourceActionsScript reads it, with the
libraries Argo CD's API server opens), and Argo CD's own CLI (`argocd admin settings resource-overrides
list-actions / run-action` on the rendered argocd-cm.yaml), the code that runs actions in Argo CD.
"""

from __future__ import annotations

import importlib.util
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from personalize_operator.api.names import PAUSED_ANNOTATION, REFRESH_ANNOTATION, RETRY_ANNOTATION
from support.argocd_cli import ArgoCdCli
from support.gitops import GitopsCheck

ROOT = Path(__file__).resolve().parents[2]
ARGOCD = ROOT / "docs" / "argocd"
ACTIONS = ARGOCD / "resource_customizations" / "personalize.operators.dev" / "EventTracker" / "actions"
TABLE = yaml.safe_load((ACTIONS / "action_test.yaml").read_text())
ACTION_NAMES = ("pause", "resume", "retry", "refresh")
ACTIONS_KEY = "resource.customizations.actions.personalize.operators.dev_EventTracker"
TIME_PLACEHOLDER = "0001-01-01T00:00:00Z"  # in an expected output: the time the action ran


def _read(relative: str) -> dict[str, Any]:
    return dict(yaml.safe_load((ACTIONS / relative).read_text()))


@pytest.fixture(scope="module")
def argocd() -> ArgoCdCli:
    """Argo CD's CLI (make gitops-binaries), reading the rendered argocd-cm.yaml."""
    return ArgoCdCli.built()


# --- the gopher-lua harness ---------------------------------------------------------------


@pytest.mark.parametrize("open_libs", [False, True], ids=["argocd-cm-libraries", "built-in-libraries"])
def test_every_case_of_action_test_yaml_passes_in_the_harness(gitops_check: GitopsCheck, open_libs: bool) -> None:
    cases = gitops_check.actions_test(ACTIONS, open_libs=open_libs)

    assert len(cases) == len(TABLE["discoveryTests"]) + len(TABLE["actionTests"])
    assert [case for case in cases if not case.passed] == []


def test_the_table_lists_every_action_enabled_somewhere_and_disabled_somewhere() -> None:
    seen: dict[str, set[bool]] = {name: set() for name in ACTION_NAMES}
    for test in TABLE["discoveryTests"]:
        assert sorted(action["name"] for action in test["result"]) == sorted(ACTION_NAMES), test["inputPath"]
        for action in test["result"]:
            seen[action["name"]].add(action["disabled"])

    assert seen == {name: {True, False} for name in ACTION_NAMES}


def test_every_action_has_a_folder_and_an_action_test() -> None:
    folders = {path.parent.name for path in ACTIONS.glob("*/action.lua")}
    tested = {test["action"] for test in TABLE["actionTests"]}

    assert folders == tested == set(ACTION_NAMES)


@pytest.mark.parametrize(
    ("action", "input_path", "annotation", "value"),
    [
        pytest.param("pause", "testdata/active.yaml", PAUSED_ANNOTATION, "true", id="pause"),
        pytest.param("resume", "testdata/paused.yaml", PAUSED_ANNOTATION, None, id="resume"),
        pytest.param("retry", "testdata/create-failed-retried-before.yaml", RETRY_ANNOTATION, "now", id="retry"),
        pytest.param("refresh", "testdata/active-refreshed-before.yaml", REFRESH_ANNOTATION, "now", id="refresh"),
    ],
)
def test_each_action_patches_only_its_annotation(
    gitops_check: GitopsCheck, action: str, input_path: str, annotation: str, value: str | None
) -> None:
    source = _read(input_path)
    before = datetime.now(UTC).replace(microsecond=0)

    [impacted] = gitops_check.action(ACTIONS, action, source)
    patch = gitops_check.merge_patch(source, impacted["resource"])

    assert impacted["operation"] == "patch"
    [(key, written)] = patch["metadata"]["annotations"].items()
    assert list(patch) == ["metadata"] and list(patch["metadata"]) == ["annotations"]
    assert key == annotation
    if value == "now":
        assert before <= datetime.fromisoformat(written) <= datetime.now(UTC)
    else:
        assert written == value


def test_a_wrong_expectation_fails_the_harness(gitops_check: GitopsCheck, tmp_path: Path) -> None:
    copy = tmp_path / "actions"
    shutil.copytree(ACTIONS, copy)
    table = yaml.safe_load((copy / "action_test.yaml").read_text())
    table["discoveryTests"][0]["result"][0]["disabled"] = not table["discoveryTests"][0]["result"][0]["disabled"]
    table["actionTests"][0]["expectedOutputPath"] = table["actionTests"][2]["expectedOutputPath"]
    (copy / "action_test.yaml").write_text(yaml.safe_dump(table))

    failed = [(case.kind, case.input_path) for case in gitops_check.actions_test(copy) if not case.passed]

    assert failed == [("discovery", table["discoveryTests"][0]["inputPath"]), ("action", "testdata/active.yaml")]


def test_a_stale_time_in_an_action_output_fails_the_harness(gitops_check: GitopsCheck, tmp_path: Path) -> None:
    copy = tmp_path / "actions"
    shutil.copytree(ACTIONS, copy)
    (copy / "refresh" / "action.lua").write_text(
        f'obj.metadata.annotations = {{}}\nobj.metadata.annotations["{REFRESH_ANNOTATION}"] = "2025-01-01T10:00:00Z"\n'
        "return obj\n"
    )

    refresh = [case for case in gitops_check.actions_test(copy) if case.action == "refresh"]

    assert refresh and all("is not the time the action ran" in case.error for case in refresh)


def test_an_action_using_a_library_argo_cd_does_not_open_fails_in_the_harness(
    gitops_check: GitopsCheck, tmp_path: Path
) -> None:
    copy = tmp_path / "actions"
    shutil.copytree(ACTIONS, copy)
    (copy / "pause" / "action.lua").write_text(
        f'obj.metadata.annotations["{PAUSED_ANNOTATION}"] = string.lower("TRUE")\nreturn obj\n'
    )

    pause = [case for case in gitops_check.actions_test(copy) if case.action == "pause"]

    assert pause and all("with key 'lower'" in case.error for case in pause)


# --- Argo CD's own CLI on the rendered argocd-cm ---------------------------------------------


def _settle_times(expected: dict[str, Any], got: dict[str, Any], since: datetime) -> dict[str, Any]:
    """`got` with each annotation the expected object gives as the placeholder set to it, if it is a fresh time."""
    want = (expected.get("metadata") or {}).get("annotations") or {}
    have = (got.get("metadata") or {}).get("annotations") or {}
    for key, value in want.items():
        if value == TIME_PLACEHOLDER:
            assert since <= datetime.fromisoformat(have[key].replace("Z", "+00:00")) <= datetime.now(UTC), have[key]
            have[key] = TIME_PLACEHOLDER
    return got


@pytest.mark.parametrize("test", TABLE["discoveryTests"], ids=[t["inputPath"] for t in TABLE["discoveryTests"]])
def test_argocd_lists_the_actions_the_table_expects(argocd: ArgoCdCli, test: dict[str, Any]) -> None:
    expected = {action["name"]: action["disabled"] for action in test["result"]}

    assert argocd.list_actions(_read(test["inputPath"])) == expected


@pytest.mark.parametrize(
    "test", TABLE["actionTests"], ids=[f"{t['action']}-{t['inputPath']}" for t in TABLE["actionTests"]]
)
def test_argocd_runs_each_action_to_the_expected_output(argocd: ArgoCdCli, test: dict[str, Any]) -> None:
    expected = _read(test["expectedOutputPath"])
    since = datetime.now(UTC).replace(microsecond=0)

    got = argocd.run_action(_read(test["inputPath"]), test["action"])

    assert _settle_times(expected, got, since) == expected


def _renderer() -> Any:
    spec = importlib.util.spec_from_file_location("render_argocd_cm", ARGOCD / "render_argocd_cm.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_argocd_cm_carries_exactly_the_upstream_actions() -> None:
    configmap = yaml.safe_load((ARGOCD / "argocd-cm.yaml").read_text())
    actions = yaml.safe_load(configmap["data"][ACTIONS_KEY])

    assert actions["discovery.lua"] == (ACTIONS / "discovery.lua").read_text()
    assert {d["name"]: d["action.lua"] for d in actions["definitions"]} == {
        name: (ACTIONS / name / "action.lua").read_text() for name in ACTION_NAMES
    }
    assert tuple(_renderer().ACTION_NAMES) == ACTION_NAMES
