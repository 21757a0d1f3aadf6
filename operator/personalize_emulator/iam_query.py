"""AWS IAM over the Query protocol: SimulatePrincipalPolicy, answered by the emulator's own evaluator.

Why: `personalize-operator doctor` asks IAM whether the operator's identity
(and each tenancy role) may make each of its calls, the same request it makes
against real AWS. The answer comes from the policies attached in the
emulator, through the evaluator that authorizes Personalize calls, so what
doctor reports and what the emulator enforces cannot differ. A user
(user/<access key id>) or role without policies is allowed everything, as the
emulator's calls are. Answers and errors are XML in IAM's shape.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from xml.sax.saxutils import escape

from personalize_emulator import errors, protocol, sts
from personalize_emulator.iam_authorization import Question
from personalize_emulator.iam_evaluation import Decision, EvalDecision, Policy, evaluate
from personalize_emulator.protocol import Response

SERVICE = "iam"
API_VERSION = "2010-05-08"
XML_NAMESPACE = f"https://iam.amazonaws.com/doc/{API_VERSION}/"
OPERATIONS = ("SimulatePrincipalPolicy",)
_SOURCE = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):(user|role)/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)")

Lookup = Callable[[str], tuple[Policy, ...] | None]  # access key id or role ARN -> its policies


def _members(form: Mapping[str, str], name: str) -> list[str]:
    """`ActionNames.member.1=...&ActionNames.member.2=...` -> the values in order."""
    found = {
        int(key.rsplit(".", 1)[1]): value for key, value in form.items() if re.fullmatch(rf"{name}\.member\.\d+", key)
    }
    return [found[index] for index in sorted(found)]


def context_entries(form: Mapping[str, str]) -> dict[str, list[str]]:
    """ContextEntries.member.N.ContextKeyName / .ContextKeyValues.member.M -> a request context."""
    context: dict[str, list[str]] = {}
    indexes = sorted({int(m.group(1)) for key in form if (m := re.match(r"ContextEntries\.member\.(\d+)\.", key))})
    for index in indexes:
        stem = f"ContextEntries.member.{index}"
        name = form.get(f"{stem}.ContextKeyName")
        if name:
            context[name] = _members(form, f"{stem}.ContextKeyValues")
    return context


def source_policies(source_arn: str, lookup: Lookup) -> tuple[Policy, ...] | None:
    """The policies of the user or role `source_arn` names; NoSuchEntity for anything else."""
    match = _SOURCE.fullmatch(source_arn)
    if match is None:
        raise errors.ApiError("NoSuchEntity", f"The user or role with ARN {source_arn} cannot be found.", status=404)
    kind, name = match.group(2), match.group(3)
    return lookup(source_arn if kind == "role" else name)


def simulate(
    policies: Sequence[Policy] | None, actions: Sequence[str], resources: Sequence[str], context: dict[str, list[str]]
) -> list[tuple[Question, Decision]]:
    """One decision per action and resource; no policies attached means allowed (the emulator's default)."""
    results = []
    for action in actions:
        for resource in resources:
            question = Question(action, resource, context)
            decision = (
                Decision(EvalDecision.ALLOWED) if policies is None else evaluate(policies, action, resource, context)
            )
            results.append((question, decision))
    return results


def _result_xml(question: Question, decision: Decision, policy_type: str) -> str:
    matched = "".join(
        "            <member>\n"
        f"              <SourcePolicyId>{escape(found.policy)}</SourcePolicyId>\n"
        f"              <SourcePolicyType>{policy_type}</SourcePolicyType>\n"
        "            </member>\n"
        for found in decision.matched
    )
    return (
        "      <member>\n"
        f"        <EvalActionName>{escape(question.action)}</EvalActionName>\n"
        f"        <EvalResourceName>{escape(question.resource)}</EvalResourceName>\n"
        f"        <EvalDecision>{decision.decision}</EvalDecision>\n"
        f"        <MatchedStatements>\n{matched}        </MatchedStatements>\n"
        "        <MissingContextValues/>\n"
        "      </member>\n"
    )


def simulate_xml(results: Sequence[tuple[Question, Decision]], policy_type: str, request_id: str) -> bytes:
    members = "".join(_result_xml(question, decision, policy_type) for question, decision in results)
    return (
        f'<SimulatePrincipalPolicyResponse xmlns="{XML_NAMESPACE}">\n'
        "  <SimulatePrincipalPolicyResult>\n"
        "    <IsTruncated>false</IsTruncated>\n"
        f"    <EvaluationResults>\n{members}    </EvaluationResults>\n"
        "  </SimulatePrincipalPolicyResult>\n"
        "  <ResponseMetadata>\n"
        f"    <RequestId>{request_id}</RequestId>\n"
        "  </ResponseMetadata>\n"
        "</SimulatePrincipalPolicyResponse>\n"
    ).encode()


def handle(
    *,
    headers: dict[str, str],
    body: bytes,
    lookup: Lookup,
    authenticate: Callable[[str, str | None], None],
    base_context: Callable[[str], dict[str, list[str]]],
    count: Callable[[str], None],
) -> Response:
    """Answer one IAM Query request; `authenticate(access key, token)` raises for refused credentials."""
    request_id = str(uuid.uuid4())
    try:
        form, action = sts.counted_form(body, count)
        scope = protocol.parse_scope(headers, service=SERVICE)
        authenticate(scope.access_key, headers.get("x-amz-security-token"))
        if action not in OPERATIONS:
            raise errors.ApiError("InvalidAction", f"Could not find operation {action} for version {API_VERSION}")
        source = form.get("PolicySourceArn", "")
        actions = _members(form, "ActionNames")
        if not actions:
            raise errors.ApiError("ValidationError", "1 validation error detected: ActionNames must not be empty")
        policies = source_policies(source, lookup)
        resources = _members(form, "ResourceArns") or ["*"]
        context = {**base_context(source), **context_entries(form)}
        results = simulate(policies, actions, resources, context)
        policy_type = "role" if ":role/" in source else "user"
        return sts.xml_response(200, simulate_xml(results, policy_type, request_id), request_id)
    except errors.ApiError as error:
        return sts.xml_response(error.status, sts.error_xml(error, request_id, XML_NAMESPACE), request_id)
