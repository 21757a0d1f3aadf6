"""The EventTracker models: parsing, defaults, and every constraint, accepted and refused."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import botocore.session
import pydantic
import pytest
import regex
import yaml

from personalize_operator.api import constraints, model, names
from personalize_operator.api.model import DeletionPolicy, EventTracker, EventTrackerSpec, EventTrackerStatus, Tag
from personalize_operator.api.names import Phase
from support.builders import numbered_tags, spec_tags

DG = "arn:aws:personalize:us-east-1:123456789012:dataset-group/demo"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "eventtracker.yaml"


def spec(**fields: Any) -> dict[str, Any]:
    return {"datasetGroupArn": DG, **fields}


def resource(metadata_name: str = "storefront", **fields: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{names.GROUP}/{names.VERSION}",
        "kind": names.KIND,
        "metadata": {"name": metadata_name, "namespace": "default", "uid": "u-1", "generation": 1},
        "spec": spec(**fields),
    }


def botocore_input() -> Any:
    service = botocore.session.get_session().get_service_model("personalize")
    return service.operation_model("CreateEventTracker").input_shape


class TestParsing:
    """The operator parses the Kubernetes object's camelCase spec into snake_case attributes."""

    def test_a_minimal_spec_gets_the_documented_defaults(self) -> None:
        parsed = EventTrackerSpec.model_validate(spec())
        assert parsed.dataset_group_arn == DG
        assert parsed.name is None
        assert parsed.tags == []
        assert parsed.secret_name is None
        assert parsed.deletion_policy is DeletionPolicy.DELETE

    def test_every_field_parses_from_camel_case(self) -> None:
        body = spec(
            name="storefront-clicks",
            tags=spec_tags(("team", "growth")),
            secretName="clicks",
            deletionPolicy="Retain",
        )
        parsed = EventTrackerSpec.model_validate(body)
        assert parsed.name == "storefront-clicks"
        assert parsed.tags == [Tag(tag_key="team", tag_value="growth")]
        assert parsed.secret_name == "clicks"
        assert parsed.deletion_policy is DeletionPolicy.RETAIN
        assert str(parsed.deletion_policy) == "Retain"

    def test_snake_case_construction_works_for_tests_and_callers(self) -> None:
        parsed = EventTrackerSpec(dataset_group_arn=DG, secret_name="s", deletion_policy=DeletionPolicy.RETAIN)
        assert parsed.model_dump(by_alias=True, exclude_none=True) == {
            "datasetGroupArn": DG,
            "tags": [],
            "secretName": "s",
            "secretLabels": {},
            "secretAnnotations": {},
            "rolloutRestartTargets": [],
            "deletionPolicy": "Retain",
        }

    def test_unknown_spec_fields_are_ignored_like_the_api_server_prunes_them(self) -> None:
        assert EventTrackerSpec.model_validate(spec(bogus=1)).dataset_group_arn == DG

    def test_the_spec_is_immutable_once_parsed(self) -> None:
        parsed = EventTrackerSpec.model_validate(spec())
        with pytest.raises(pydantic.ValidationError):
            parsed.name = "other"  # type: ignore[misc]

    def test_the_example_manifest_is_a_valid_event_tracker(self) -> None:
        tracker = EventTracker.model_validate(yaml.safe_load(EXAMPLE.read_text()))
        assert tracker.metadata.name == "storefront"
        assert tracker.metadata.namespace == "default"
        assert tracker.spec.dataset_group_arn == DG
        assert len(tracker.spec.tags) >= 2


class TestDefaultNames:
    @pytest.mark.parametrize(
        ("fields", "metadata_name", "tracker_name", "secret_name"),
        [
            pytest.param({}, "storefront", "storefront", "storefront-tracking", id="both-defaulted"),
            pytest.param({"name": "clicks"}, "storefront", "clicks", "storefront-tracking", id="aws-name-set"),
            pytest.param({"secretName": "s.t"}, "storefront", "storefront", "s.t", id="secret-name-set"),
            pytest.param(
                {"name": "clicks", "secretName": "x"}, "store.front", "clicks", "x", id="both-set-dotted-metadata"
            ),
        ],
    )
    def test_names_default_from_metadata_name(
        self, fields: dict[str, Any], metadata_name: str, tracker_name: str, secret_name: str
    ) -> None:
        parsed = EventTrackerSpec.model_validate(spec(**fields))
        assert parsed.effective_name(metadata_name) == tracker_name
        assert parsed.effective_secret_name(metadata_name) == secret_name
        tracker = EventTracker.model_validate(resource(metadata_name, **fields))
        assert (tracker.tracker_name, tracker.secret_name) == (tracker_name, secret_name)


class TestArnParts:
    @pytest.mark.parametrize(
        ("arn", "partition", "region", "account"),
        [
            pytest.param(DG, "aws", "us-east-1", "123456789012", id="commercial"),
            pytest.param(
                "arn:aws-cn:personalize:cn-north-1:111122223333:dataset-group/shop",
                "aws-cn",
                "cn-north-1",
                "111122223333",
                id="china",
            ),
            pytest.param(
                "arn:aws-us-gov:personalize:us-gov-west-1:000000000000:dataset-group/a:b/c",
                "aws-us-gov",
                "us-gov-west-1",
                "000000000000",
                id="govcloud-name-with-separators",
            ),
        ],
    )
    def test_region_and_account_come_from_the_dataset_group_arn(
        self, arn: str, partition: str, region: str, account: str
    ) -> None:
        parsed = EventTrackerSpec.model_validate(spec(datasetGroupArn=arn))
        assert (parsed.partition, parsed.region, parsed.account) == (partition, region, account)


ACCEPTED = [
    pytest.param(spec(name="a"), id="name-one-char"),
    pytest.param(spec(name="A" * 63), id="name-63-chars"),
    pytest.param(spec(name="Store_front-1"), id="name-underscore-dash-digit"),
    pytest.param(spec(name="1st"), id="name-starts-with-digit"),
    pytest.param(spec(datasetGroupArn=DG + "x" * (256 - len(DG))), id="arn-256-chars"),
    pytest.param(spec(tags=[]), id="no-tags"),
    *[
        pytest.param(
            spec(datasetGroupArn=f"arn:{partition}:personalize:{region}:123456789012:dataset-group/x"), id=region
        )
        for partition, region in [
            ("aws", "us-east-1"),
            ("aws", "ap-southeast-5"),
            ("aws", "mx-central-1"),
            ("aws-cn", "cn-northwest-1"),
            ("aws-us-gov", "us-gov-east-1"),
            ("aws-iso-b", "us-isob-east-1"),
        ]
    ],
    pytest.param(spec(tags=numbered_tags(model.MAX_USER_TAGS)), id="max-user-tags"),
    pytest.param(spec(tags=spec_tags(("k" * 128, "v" * 256))), id="tag-at-max-lengths"),
    pytest.param(spec(tags=spec_tags(("k", ""))), id="tag-value-empty"),
    pytest.param(spec(tags=spec_tags(("équipe", "ventes ٣ 中"))), id="tag-unicode-letters-numbers-spaces"),
    pytest.param(spec(tags=spec_tags(("a_b.c:d/e=f+g-h@i", "x"))), id="tag-every-allowed-symbol"),
    pytest.param(spec(tags=spec_tags(("personalize.operators.dev", "x"))), id="tag-group-without-slash"),
    pytest.param(spec(tags=spec_tags(("team/personalize.operators.dev/x", "x"))), id="tag-prefix-not-at-start"),
    pytest.param(spec(tags=spec_tags(("awsome", "x"))), id="tag-aws-without-colon"),
    pytest.param(spec(secretName="a"), id="secret-one-char"),
    pytest.param(spec(secretName="my.secret-1"), id="secret-dotted"),
    pytest.param(spec(secretName="a" * 253), id="secret-253-chars"),
    pytest.param(spec(deletionPolicy="Retain"), id="policy-retain"),
]


@pytest.mark.parametrize("body", ACCEPTED)
def test_valid_specs_are_accepted(body: dict[str, Any]) -> None:
    EventTrackerSpec.model_validate(body)


REFUSED = [
    pytest.param(spec(name=""), "at least 1 character", id="name-empty"),
    pytest.param(spec(name="a" * 64), "at most 63 characters", id="name-64-chars"),
    pytest.param(spec(name="bad.name"), "must match", id="name-dot"),
    pytest.param(spec(name="-x"), "must match", id="name-leading-dash"),
    pytest.param(spec(name="_x"), "must match", id="name-leading-underscore"),
    pytest.param(spec(name="a b"), "must match", id="name-space"),
    pytest.param(spec(name="é"), "must match", id="name-non-ascii"),
    pytest.param(spec(name="a\n"), "must match", id="name-trailing-newline"),
    pytest.param({}, "Field required", id="arn-missing"),
    pytest.param(spec(datasetGroupArn=DG + "x" * (257 - len(DG))), "at most 256 characters", id="arn-257-chars"),
    pytest.param(spec(datasetGroupArn="arn:aws:s3:::bucket"), "must match", id="arn-other-service"),
    pytest.param(spec(datasetGroupArn="arn:a٣:personalize:r:1:x"), "must match", id="arn-non-ascii-digit"),
    pytest.param(
        spec(datasetGroupArn="arn:aws:personalize::123456789012:dataset-group/x"),
        model.DATASET_GROUP_ARN_INVALID,
        id="arn-no-region",
    ),
    pytest.param(
        spec(datasetGroupArn="arn:aws:personalize:us-east-1:12345678901:dataset-group/x"),
        model.DATASET_GROUP_ARN_INVALID,
        id="arn-11-digit-account",
    ),
    pytest.param(
        spec(datasetGroupArn="arn:aws:personalize:us-east-1:123456789012:event-tracker/x"),
        model.DATASET_GROUP_ARN_INVALID,
        id="arn-not-a-dataset-group",
    ),
    *[
        pytest.param(
            spec(datasetGroupArn=f"arn:{partition}:personalize:{region}:123456789012:dataset-group/x"),
            model.DATASET_GROUP_ARN_INVALID,
            id=f"region-{partition}-{region or 'empty'}",
        )
        for partition, region in [
            ("aws", "us-east-"),
            ("aws", "-"),
            ("aws", "-us-east-1"),
            ("aws", "123"),
            ("aws", "US-EAST-1"),
            ("aws", "us_east_1"),
            ("aws", "us-gov-west-1"),
            ("aws-cn", "us-east-1"),
            ("aws-us-gov", "us-east-1"),
            ("aws-mars", "mars-north-1"),
        ]
    ],
    pytest.param(
        spec(tags=numbered_tags(model.MAX_USER_TAGS + 1)),
        f"at most {model.MAX_USER_TAGS} items",
        id="one-tag-more-than-room-beside-ownership-tags",
    ),
    pytest.param(spec(tags=spec_tags(("a", "1"), ("a", "2"))), "duplicate tag keys: a", id="tag-duplicate-key"),
    pytest.param(spec(tags=spec_tags(("", "v"))), "at least 1 character", id="tag-key-empty"),
    pytest.param(spec(tags=spec_tags(("k" * 129, "v"))), "at most 128 characters", id="tag-key-129-chars"),
    pytest.param(spec(tags=spec_tags(("k", "v" * 257))), "at most 256 characters", id="tag-value-257-chars"),
    pytest.param(spec(tags=spec_tags(("a*b", "v"))), "must match", id="tag-key-star"),
    pytest.param(spec(tags=spec_tags(("k", "v#"))), "must match", id="tag-value-hash"),
    pytest.param(spec(tags=spec_tags(("k", "v\n"))), "must match", id="tag-value-newline"),
    pytest.param(spec(tags=[{"tagKey": "k"}]), "Field required", id="tag-value-missing"),
    pytest.param(
        spec(tags=spec_tags(("personalize.operators.dev/uid", "x"))), model.RESERVED_TAG_KEY, id="tag-reserved-uid"
    ),
    pytest.param(
        spec(tags=spec_tags(("personalize.operators.dev/", "x"))), model.RESERVED_TAG_KEY, id="tag-reserved-bare"
    ),
    pytest.param(spec(tags=spec_tags(("aws:cloudformation", "x"))), model.AWS_TAG_KEY, id="tag-aws-prefix"),
    pytest.param(spec(tags=spec_tags(("AwS:x", "x"))), model.AWS_TAG_KEY, id="tag-aws-prefix-any-case"),
    pytest.param(spec(secretName=""), "at least 1 character", id="secret-empty"),
    pytest.param(spec(secretName="Bad"), "must match", id="secret-uppercase"),
    pytest.param(spec(secretName="a_b"), "must match", id="secret-underscore"),
    pytest.param(spec(secretName="a."), "must match", id="secret-trailing-dot"),
    pytest.param(spec(secretName="a" * 254), "at most 253 characters", id="secret-254-chars"),
    pytest.param(spec(deletionPolicy="Destroy"), "'Delete' or 'Retain'", id="policy-unknown"),
    pytest.param(spec(deletionPolicy="delete"), "'Delete' or 'Retain'", id="policy-lowercase"),
]


@pytest.mark.parametrize(("body", "message"), REFUSED)
def test_invalid_specs_are_refused_with_a_clear_message(body: dict[str, Any], message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=regex.escape(message)):
        EventTrackerSpec.model_validate(body)


@pytest.mark.parametrize(
    ("metadata_name", "fields", "message"),
    [
        pytest.param("storefront", {}, None, id="plain-name"),
        pytest.param("a" * 63, {}, None, id="name-63-chars"),
        pytest.param("store.front", {}, model.METADATA_NAME_INVALID, id="dotted-name-without-spec-name"),
        pytest.param("store.front", {"name": "storefront"}, None, id="dotted-name-with-spec-name"),
        pytest.param("a" * 64, {}, model.METADATA_NAME_INVALID, id="name-64-chars-without-spec-name"),
        pytest.param("a" * 64, {"name": "x"}, None, id="name-64-chars-with-spec-name"),
        pytest.param("a" * 244, {"name": "x"}, None, id="name-244-default-secret-fits"),
        pytest.param(
            "a" * 245, {"name": "x"}, model.METADATA_NAME_TOO_LONG_FOR_SECRET, id="name-245-default-secret-too-long"
        ),
        pytest.param("a" * 245, {"name": "x", "secretName": "s"}, None, id="name-245-secret-set"),
    ],
)
def test_defaults_from_metadata_name_must_be_valid(
    metadata_name: str, fields: dict[str, Any], message: str | None
) -> None:
    """Mirrors the CRD's root CEL rules (ROOT_VALIDATIONS)."""
    if message is None:
        EventTracker.model_validate(resource(metadata_name, **fields))
        return
    with pytest.raises(pydantic.ValidationError, match=regex.escape(message)):
        EventTracker.model_validate(resource(metadata_name, **fields))


@pytest.mark.parametrize(
    ("old", "new", "problems"),
    [
        pytest.param(spec(), spec(tags=spec_tags(("a", "b"))), [], id="tags-change-in-place"),
        pytest.param(spec(), spec(secretName="s", deletionPolicy="Retain"), [], id="secret-and-policy-change"),
        pytest.param(spec(name="a"), spec(name="b"), [model.NAME_IMMUTABLE], id="name-changed"),
        pytest.param(spec(), spec(name="storefront"), [], id="name-added-equal-to-metadata-name"),
        pytest.param(spec(), spec(name="other"), [model.NAME_PRESENCE_IMMUTABLE], id="name-added-different"),
        pytest.param(spec(name="storefront"), spec(), [], id="name-removed-equal-to-metadata-name"),
        pytest.param(spec(name="other"), spec(), [model.NAME_PRESENCE_IMMUTABLE], id="name-removed-different"),
        pytest.param(
            spec(), spec(datasetGroupArn=DG + "2"), [model.DATASET_GROUP_ARN_IMMUTABLE], id="dataset-group-changed"
        ),
    ],
)
def test_immutable_fields_mirror_the_crd_transition_rules(
    old: dict[str, Any], new: dict[str, Any], problems: list[str]
) -> None:
    before, after = EventTrackerSpec.model_validate(old), EventTrackerSpec.model_validate(new)
    assert model.immutability_violations(before, after, "storefront") == problems


class TestConstraintsComeFromBotocore:
    """Limits are read from botocore, never copied; these compare with botocore directly."""

    @pytest.mark.parametrize(
        ("constraint", "path"),
        [
            pytest.param(constraints.NAME, ("name",), id="name"),
            pytest.param(constraints.DATASET_GROUP_ARN, ("datasetGroupArn",), id="datasetGroupArn"),
            pytest.param(constraints.TAG_KEY, ("tags", "tagKey"), id="tagKey"),
            pytest.param(constraints.TAG_VALUE, ("tags", "tagValue"), id="tagValue"),
        ],
    )
    def test_string_limits_match_the_service_model(
        self, constraint: constraints.StringConstraint, path: tuple[str, ...]
    ) -> None:
        shape = botocore_input().members[path[0]]
        if len(path) > 1:
            shape = shape.member.members[path[1]]
        assert constraint.min_length == shape.metadata.get("min")
        assert constraint.max_length == shape.metadata.get("max")
        assert constraint.java_pattern == shape.metadata.get("pattern")

    def test_tag_list_limit_matches_the_service_model(self) -> None:
        assert constraints.TAGS.max_items == botocore_input().members["tags"].metadata["max"]

    def test_model_requires_what_aws_requires(self) -> None:
        spec_required = {f.alias or n for n, f in EventTrackerSpec.model_fields.items() if f.is_required()}
        tag_required = {f.alias or n for n, f in Tag.model_fields.items() if f.is_required()}
        # name is required by AWS but defaulted from metadata.name by us.
        assert spec_required == constraints.create_input_required() - {"name"}
        assert tag_required == constraints.tag_required()


@pytest.mark.parametrize(
    ("java", "re2"),
    [
        pytest.param(r"^[a-zA-Z0-9][a-zA-Z0-9\-_]*", r"^[a-zA-Z0-9][a-zA-Z0-9\-_]*$", id="anchored-start-only"),
        pytest.param(r"arn:([a-z\d-]+):personalize:.*:.*:.+", r"^arn:([a-z0-9-]+):personalize:.*:.*:.+$", id="arn"),
        pytest.param(r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$", r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$", id="tag-unchanged"),
        pytest.param(r"a|b", r"^(?:a|b)$", id="top-level-alternation-grouped"),
        pytest.param(r"(a|b)c", r"^(a|b)c$", id="nested-alternation-left-alone"),
        pytest.param(r"\d+x\$", r"^[0-9]+x\$$", id="ascii-digit-and-escaped-dollar"),
        pytest.param(r"[*+]+\pL", r"^[*+]+\pL$", id="class-quantifier-not-possessive"),
    ],
)
def test_aws_patterns_translate_to_anchored_re2(java: str, re2: str) -> None:
    assert constraints.to_re2(java) == re2


@pytest.mark.parametrize(
    "java",
    [
        pytest.param(r"a(?=b)", id="lookahead"),
        pytest.param(r"(?<!a)b", id="lookbehind"),
        pytest.param(r"(?>a)", id="atomic-group"),
        pytest.param(r"(a)\1", id="backreference"),
        pytest.param(r"a*+", id="possessive"),
        pytest.param(r"a{2}+", id="possessive-counted"),
        pytest.param(r"\Qa.b\E", id="quoting"),
        pytest.param(r"\p{Alpha}", id="posix-property"),
        pytest.param(r"\p{IsLatin}", id="java-script-property"),
        pytest.param(r"[a-z&&[^b]]", id="class-intersection"),
        pytest.param(r"\u00e9", id="unicode-escape"),
    ],
)
def test_java_syntax_re2_lacks_is_refused_loudly(java: str) -> None:
    with pytest.raises(ValueError, match="RE2"):
        constraints.to_re2(java)


@pytest.mark.parametrize(
    "value",
    [
        "storefront",
        "Store_front-1",
        "a.b",
        "-x",
        "",
        "a b",
        "team",
        "équipe",
        "a*b",
        "x\n",
        "arn:aws:personalize:r:a:x",
    ],
)
def test_translated_patterns_agree_with_aws_whole_string_matching(value: str) -> None:
    """Java's matches() is a whole-string match; the translated pattern must accept exactly the same."""
    for constraint in (constraints.NAME, constraints.DATASET_GROUP_ARN, constraints.TAG_KEY):
        assert constraint.java_pattern is not None
        java_says = regex.fullmatch(constraint.java_pattern, value) is not None
        assert constraint.matches_pattern(value) == java_says, (constraint.shape, value)


class TestStatus:
    def full_status(self) -> dict[str, Any]:
        condition = {
            "type": names.READY,
            "status": "True",
            "reason": "Active",
            "message": "",
            "observedGeneration": 2,
            "lastTransitionTime": "2024-05-01T10:00:00Z",
        }
        return {
            "phase": "Active",
            "trackerName": "storefront",
            "awsStatus": "ACTIVE",
            "eventTrackerArn": "arn:aws:personalize:us-east-1:123456789012:event-tracker/abc",
            "accountId": "123456789012",
            "region": "us-east-1",
            "secretName": "storefront-tracking",
            "observedGeneration": 2,
            "retryHandled": "1",
            "conditions": [condition, {**condition, "type": names.SYNCED, "reason": "ReconcileSuccess"}],
            "kopf": {"progress": {}},
        }

    def test_a_status_the_operator_writes_parses(self) -> None:
        status = EventTrackerStatus.model_validate(self.full_status())
        assert status.phase is Phase.ACTIVE
        assert status.event_tracker_arn is not None and status.event_tracker_arn.endswith("/abc")
        assert [c.type for c in status.conditions] == [names.READY, names.SYNCED]
        assert status.conditions[0].status == "True"

    def test_an_empty_status_parses(self) -> None:
        assert EventTrackerStatus.model_validate({}).phase is None

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            pytest.param({"phase": "Weird"}, "Input should be", id="unknown-phase"),
            pytest.param({"observedGeneration": -1}, "greater than or equal to 0", id="negative-generation"),
        ],
    )
    def test_invalid_status_is_refused(self, change: dict[str, Any], message: str) -> None:
        with pytest.raises(pydantic.ValidationError, match=message):
            EventTrackerStatus.model_validate({**self.full_status(), **change})

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            pytest.param({"status": "Yes"}, "Input should be", id="status-not-true-false-unknown"),
            pytest.param({"reason": "bad reason"}, "must match", id="reason-with-space"),
            pytest.param({"reason": ""}, "at least 1 character", id="reason-empty"),
            pytest.param({"type": "Not a type"}, "must match", id="type-with-spaces"),
            pytest.param({"lastTransitionTime": "yesterday"}, "datetime", id="time-not-rfc3339"),
        ],
    )
    def test_conditions_follow_metav1_condition(self, change: dict[str, Any], message: str) -> None:
        body = copy.deepcopy(self.full_status())
        body["conditions"][0].update(change)
        with pytest.raises(pydantic.ValidationError, match=message):
            EventTrackerStatus.model_validate(body)


def _all_models() -> list[type[pydantic.BaseModel]]:
    return [EventTrackerSpec, Tag, EventTrackerStatus, model.Condition, EventTracker, model.ObjectMeta]


@pytest.mark.parametrize("model_class", [pytest.param(m, id=m.__name__) for m in _all_models()])
def test_every_field_is_documented_for_kubectl_explain(model_class: type[pydantic.BaseModel]) -> None:
    undocumented = [name for name, f in model_class.model_fields.items() if not (f.description or "").strip()]
    assert undocumented == []
