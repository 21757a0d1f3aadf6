"""From the AWS CLI to manifests: skeleton, manifest and import as users run them, against the real API server.

Protects the migration promise: the CLI's own input becomes a manifest the
API server accepts, bad input is refused before apply with the API server's
words, and importing existing trackers adopts them (same ARN, same trackingId)
without a single CreateEventTracker.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from personalize_emulator.testing import Emulator, running_emulator
from personalize_operator.api import model, names
from personalize_operator.tools import exits
from support.builders import numbered_tags
from support.cli import SKELETON_VALUES, fill, leaves, personalize_operator
from support.solo import Solo, new_dataset_group
from support.trackers import kubectl, manifest
from support.wait import wait_for

SEED_REGION = "us-west-2"
# AWS allows 50 tags per resource; the CRD's limit (model.MAX_USER_TAGS) is lowered to 50 minus the
# ownership tags by the tenancy work (issue 9); until then one over the CRD's limit is what is refused.
TOO_MANY_TAGS = max(51, model.MAX_USER_TAGS + 1)
SEED_INPUT = {
    "name": "MyEventTracker",
    "datasetGroupArn": f"arn:aws:personalize:{SEED_REGION}:123456789012:dataset-group/MyDatasetGroup",
}


def aws_env(emulator: Emulator, kubeconfig: Path | None = None) -> dict[str, str]:
    """The emulator's endpoints and dummy credentials, no profile or config file of the machine."""
    env = {**emulator.env(), "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    if kubeconfig is not None:
        env["KUBECONFIG"] = str(kubeconfig)
    return env


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TestSkeleton:
    """Acceptance 1: the skeletons are usable as they are printed."""

    def test_skeleton_with_placeholders_filled_passes_a_server_side_dry_run(
        self, kubeconfig: Path, crd: str, namespace: str
    ) -> None:
        printed = personalize_operator("skeleton")
        assert printed.returncode == exits.OK, printed.stderr
        filled = fill(printed.stdout, {**SKELETON_VALUES, "<namespace>": namespace})
        assert not [leaf for leaf in leaves(yaml.safe_load(filled)) if "<" in str(leaf)]
        applied = kubectl(kubeconfig, "apply", "--dry-run=server", "-f", "-", stdin=filled, check=False)
        assert applied.returncode == 0, applied.stderr
        assert "created (server dry run)" in applied.stdout

    def test_cli_input_json_skeleton_round_trips_through_manifest_unchanged(self, tmp_path: Path) -> None:
        printed = personalize_operator("skeleton", "--output-format", "cli-input-json")
        skeleton = json.loads(printed.stdout)
        assert skeleton == {"name": "", "datasetGroupArn": "", "tags": [{"tagKey": "", "tagValue": ""}]}
        filled = printed.stdout.replace('"name": ""', '"name": "storefront-clicks"')
        filled = filled.replace('"datasetGroupArn": ""', f'"datasetGroupArn": "{SEED_INPUT["datasetGroupArn"]}"')
        filled = filled.replace('"tagKey": ""', '"tagKey": "team"').replace('"tagValue": ""', '"tagValue": "growth"')
        (tmp_path / "input.json").write_text(filled)

        back = personalize_operator(
            "manifest", "--cli-input-json", f"file://{tmp_path}/input.json", "-o", "cli-input-json"
        )

        assert back.returncode == exits.OK, back.stderr
        assert back.stdout == filled


class TestManifest:
    """Acceptance 2: the seed command's input applies and becomes Active; malformed input exits 1 naming the field."""

    def test_the_seed_example_becomes_a_manifest_that_applies_and_becomes_active(
        self, kubeconfig: Path, solo: Solo
    ) -> None:
        group = solo.emulator.client(region=SEED_REGION).create_dataset_group(name="MyDatasetGroup")
        assert group["datasetGroupArn"] == SEED_INPUT["datasetGroupArn"]
        wait_for(
            lambda: solo.emulator.admin.dataset_groups()[0]["status"] == "ACTIVE", timeout=30, what="dataset group"
        )

        printed = personalize_operator(
            "manifest", "--cli-input-json", "-", "--namespace", solo.namespace, stdin=json.dumps(SEED_INPUT)
        )
        assert printed.returncode == exits.OK, printed.stderr
        applied = kubectl(kubeconfig, "apply", "-f", "-", stdin=printed.stdout)

        assert "eventtracker.personalize.operators.dev/my-event-tracker created" in applied.stdout
        status = solo.trackers.wait_phase("my-event-tracker", "Active", timeout=90)
        assert status["trackerName"] == "MyEventTracker"
        assert status["region"] == SEED_REGION

    MALFORMED: list[Any] = [
        pytest.param("{'name': 'x'}", "cli-input-json: invalid JSON", id="bad-json"),
        pytest.param({**SEED_INPUT, "eventTrackerName": "x"}, "eventTrackerName: unknown parameter", id="unknown-key"),
        pytest.param({"name": "x"}, "datasetGroupArn: missing required parameter", id="missing-arn"),
        pytest.param(
            {**SEED_INPUT, "name": "my.tracker"},
            'spec.name: Invalid value: "my.tracker": spec.name in body should match',
            id="bad-name",
        ),
        pytest.param(
            {**SEED_INPUT, "name": "n" * 64}, "spec.name: Too long: may not be more than 63 bytes", id="long-name"
        ),
        pytest.param({**SEED_INPUT, "datasetGroupArn": "not-an-arn"}, "spec.datasetGroupArn:", id="bad-arn"),
        pytest.param(
            {**SEED_INPUT, "tags": numbered_tags(TOO_MANY_TAGS)},
            f"spec.tags: Too many: {TOO_MANY_TAGS}: must have at most {model.MAX_USER_TAGS} items",
            id="51-tags-or-one-over-the-crd-limit",
        ),
        pytest.param(
            {**SEED_INPUT, "tags": [{"tagKey": f"{names.GROUP}/uid", "tagValue": "x"}]},
            f"spec.tags[0].tagKey: {model.RESERVED_TAG_KEY}",
            id="reserved-tag-prefix",
        ),
        pytest.param(
            {**SEED_INPUT, "tags": [{"tagKey": "team", "tagValue": "a"}, {"tagKey": "team", "tagValue": "b"}]},
            "spec: duplicate tag keys: team",
            id="duplicate-tag-keys",
        ),
        pytest.param({**SEED_INPUT, "tags": [{"tagKey": "team"}]}, "tags[0].tagValue: missing required", id="no-value"),
        pytest.param({**SEED_INPUT, "tags": {"team": "a"}}, "tags: must be a JSON list", id="tags-as-a-map"),
    ]

    @pytest.mark.parametrize(("given", "named"), MALFORMED)
    def test_malformed_input_exits_1_naming_the_field(self, given: Any, named: str) -> None:
        text = given if isinstance(given, str) else json.dumps(given)
        refused = personalize_operator("manifest", "--cli-input-json", "-", stdin=text)
        assert (refused.returncode, refused.stdout) == (exits.REFUSED, "")
        assert f"personalize-operator manifest: {named}" in refused.stderr

    SAME_WORDS: list[Any] = [
        pytest.param({"name": "my.tracker"}, id="name-pattern"),
        pytest.param({"name": "n" * 64}, id="name-too-long"),
        pytest.param({"name": ""}, id="name-empty"),
        pytest.param({"datasetGroupArn": "arn:aws:s3:::bucket"}, id="arn-pattern"),
        pytest.param(
            {"datasetGroupArn": "arn:aws:personalize:us-west-2:123456789012:solution/x"}, id="not-a-dataset-group"
        ),
        pytest.param({"tags": numbered_tags(TOO_MANY_TAGS)}, id="too-many-tags"),
        pytest.param({"tags": [{"tagKey": f"{names.GROUP}/uid", "tagValue": "x"}]}, id="reserved-tag-prefix"),
        pytest.param({"tags": [{"tagKey": "aws:stack", "tagValue": "x"}]}, id="aws-tag-prefix"),
        pytest.param({"tags": [{"tagKey": "bad*key", "tagValue": "x"}]}, id="tag-key-pattern"),
    ]

    @pytest.mark.parametrize("change", SAME_WORDS)
    def test_what_manifest_refuses_the_api_server_refuses_in_the_same_words(
        self, kubeconfig: Path, crd: str, namespace: str, change: dict[str, Any]
    ) -> None:
        given = {**SEED_INPUT, **change}
        refused = personalize_operator("manifest", "--cli-input-json", "-", stdin=json.dumps(given))
        lines = [line.removeprefix("personalize-operator manifest: ") for line in refused.stderr.splitlines()]

        body = manifest(
            "words",
            given["datasetGroupArn"],
            name=given["name"],
            **({"tags": given["tags"]} if "tags" in given else {}),
        )
        body["metadata"]["namespace"] = namespace
        server = kubectl(kubeconfig, "apply", "--dry-run=server", "-f", "-", stdin=yaml.safe_dump(body), check=False)

        assert refused.returncode == exits.REFUSED
        assert server.returncode != 0
        assert lines
        for line in lines:
            path, _, words = line.partition(": ")
            assert path in server.stderr, server.stderr
            assert words in server.stderr, server.stderr

    def test_an_invalid_resource_name_gets_the_api_servers_own_words(
        self, kubeconfig: Path, crd: str, namespace: str
    ) -> None:
        refused = personalize_operator(
            "manifest", "--cli-input-json", "-", "--name", "Bad_Name", stdin=json.dumps(SEED_INPUT)
        )
        words = refused.stderr.strip().removeprefix("personalize-operator manifest: ")

        body = manifest("Bad_Name", SEED_INPUT["datasetGroupArn"], name="x")
        body["metadata"]["namespace"] = namespace
        server = kubectl(kubeconfig, "apply", "--dry-run=server", "-f", "-", stdin=yaml.safe_dump(body), check=False)

        assert refused.returncode == exits.REFUSED
        assert words.startswith('metadata.name: Invalid value: "Bad_Name"')
        assert words in server.stderr


class TestImport:
    """Acceptance 3: five trackers in AWS, three adoptable; applying the output adopts them without a create."""

    def test_import_prints_three_manifests_and_two_skips_and_applying_them_adopts_without_creating(
        self, kubeconfig: Path, solo: Solo
    ) -> None:
        emulator, personalize = solo.emulator, solo.emulator.client()
        owned_group = new_dataset_group(emulator, "owned")
        solo.trackers.create(manifest("owned", owned_group))
        solo.trackers.wait_phase("owned", "Active", timeout=90)
        emulator.admin.fail_creation(reason="dataset group broken", name_pattern="broken-.*", kind="event-tracker")
        personalize.create_event_tracker(name="broken-one", datasetGroupArn=new_dataset_group(emulator, "broken"))
        existing = {}
        for index, name in enumerate(["Storefront_Clicks", "checkout", "searchEvents"]):
            group = new_dataset_group(emulator, f"existing{index}")
            arn = personalize.create_event_tracker(
                name=name, datasetGroupArn=group, tags=[{"tagKey": "team", "tagValue": f"team-{index}"}]
            )["eventTrackerArn"]
            existing[name] = arn
        wait_for(
            lambda: (
                {t["name"]: t["status"] for t in emulator.admin.trackers()}
                == {"owned": "ACTIVE", "broken-one": "CREATE FAILED", **dict.fromkeys(existing, "ACTIVE")}
            ),
            timeout=30,
            what="five trackers settled",
        )
        hashes = {t["arn"]: digest(t["trackingId"]) for t in emulator.admin.trackers()}
        emulator.admin.reset_calls()

        printed = personalize_operator(
            "import", "--region", "us-east-1", "--namespace", solo.namespace, env=aws_env(emulator, kubeconfig)
        )

        assert printed.returncode == exits.OK, printed.stderr
        documents = [doc for doc in yaml.safe_load_all(printed.stdout) if doc]
        assert sorted(doc["spec"]["name"] for doc in documents) == sorted(existing)
        for doc in documents:
            assert doc["metadata"]["annotations"] == {"personalize.operators.dev/adopt": "true"}
            assert [tag["tagKey"] for tag in doc["spec"]["tags"]] == ["team"]
        skipped = [line for line in printed.stdout.splitlines() if line.startswith("# skipped ")]
        assert len(skipped) == 2
        assert any(f"owned by EventTracker {solo.namespace}/owned" in line for line in skipped)
        assert any("broken-one" in line and "status is CREATE FAILED, not ACTIVE" in line for line in skipped)
        assert not [h for h in hashes.values() if h in printed.stdout]

        kubectl(kubeconfig, "apply", "-f", "-", stdin=printed.stdout)
        for doc in documents:
            status = solo.trackers.wait_phase(doc["metadata"]["name"], "Active", timeout=90)
            assert status["eventTrackerArn"] == existing[doc["spec"]["name"]]
            secret = solo.trackers.secret(status["secretName"])
            assert secret is not None
            tracking_id = base64.b64decode(secret.data["trackingId"]).decode()
            assert digest(tracking_id) == hashes[status["eventTrackerArn"]]
        assert emulator.admin.calls().get("CreateEventTracker", 0) == 0
        assert len(emulator.admin.trackers()) == 5

    def test_import_as_json_is_a_list_with_the_skips_on_stderr(self, solo: Solo, kubeconfig: Path) -> None:
        emulator = solo.emulator
        emulator.client().create_event_tracker(name="only", datasetGroupArn=new_dataset_group(emulator))
        wait_for(lambda: emulator.admin.tracker(name="only")["status"] == "ACTIVE", timeout=30, what="ACTIVE")

        printed = personalize_operator(
            "import", "--region", "us-east-1", "-o", "json", env=aws_env(emulator, kubeconfig)
        )

        assert printed.returncode == exits.OK, printed.stderr
        assert json.loads(printed.stdout)["spec"]["name"] == "only"
        assert "1 to adopt, 0 skipped" in printed.stderr

    def test_import_shows_a_progress_bar_on_stderr_past_five_trackers_and_filters_by_dataset_group(self) -> None:
        with running_emulator(transition_delay=0) as emulator:
            personalize = emulator.client()
            groups = [personalize.create_dataset_group(name=f"many{i}")["datasetGroupArn"] for i in range(6)]
            for index, group in enumerate(groups):
                personalize.create_event_tracker(name=f"many{index}", datasetGroupArn=group)

            every = personalize_operator("import", "--region", "us-east-1", "-o", "json", env=aws_env(emulator))
            one = personalize_operator(
                "import", "--region", "us-east-1", "--dataset-group-arn", groups[2], env=aws_env(emulator)
            )

        assert every.returncode == exits.OK, every.stderr
        assert len(json.loads(every.stdout)["items"]) == 6
        assert "describing event trackers" in every.stderr
        assert "6/6" in every.stderr
        assert [doc["spec"]["name"] for doc in yaml.safe_load_all(one.stdout) if doc] == ["many2"]
        assert "describing event trackers" not in one.stderr

    def test_import_with_refused_credentials_exits_1_naming_the_refusal(self) -> None:
        with running_emulator(transition_delay=0) as emulator:
            emulator.admin.refuse_credentials(["test"])
            refused = personalize_operator("import", "--region", "us-east-1", env=aws_env(emulator))

        assert (refused.returncode, refused.stdout) == (exits.REFUSED, "")
        assert "ListEventTrackers: UnrecognizedClientException" in refused.stderr
