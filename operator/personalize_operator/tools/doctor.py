"""`personalize-operator doctor`: is everything the operator needs in place? One OK/FAIL line per check.

Checks, in order (later ones are skipped when the cluster cannot be reached):
the kubeconfig reaches an API server; the EventTracker CRD is installed and
identical to what this version renders (drift named by path); AWS accepts
the credentials (STS GetCallerIdentity); ListEventTrackers is permitted in
the region; IAM's simulator allows each AWS action the operator needs, for
its identity and each tenancy role (`aws_permissions`); and the operator's RBAC, one access review per rule of the Helm
chart (as the current identity, or as a ServiceAccount with
--service-account). Exit 1 when any check fails.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from personalize_operator.api import crd, crd_freshness
from personalize_operator.tools import aws_permissions, crd_drift, permissions
from personalize_operator.tools.permissions import Permission, needed

NOT_CHECKED = "not checked: the cluster is not reachable"
KUBE_TIMEOUT = 10  # seconds per API server request
REFUSED_CREDENTIAL_CODES = frozenset(
    {
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
        "ExpiredToken",
        "ExpiredTokenException",
        "AuthFailure",
    }
)


@dataclass(frozen=True)
class Check:
    """One line of the report: which check, whether it passed, what was seen, what to do."""

    name: str
    ok: bool
    detail: str
    hint: str = ""

    def lines(self) -> list[str]:
        lines = [f"{'OK  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"]
        if self.hint and not self.ok:
            lines.append(f"     hint: {self.hint}")
        return lines


def render_text(checks: Sequence[Check]) -> str:
    failed = [check.name for check in checks if not check.ok]
    summary = f"{len(checks) - len(failed)} of {len(checks)} checks passed" + (
        f"; failed: {', '.join(failed)}" if failed else ""
    )
    return "\n".join([line for check in checks for line in check.lines()] + [summary]) + "\n"


def render_json(checks: Sequence[Check]) -> str:
    return json.dumps({"ok": all(c.ok for c in checks), "checks": [asdict(c) for c in checks]}, indent=2) + "\n"


# -- Kubernetes -----------------------------------------------------------------------------------


def kube_client(kubeconfig: str | None, context: str | None) -> Any:
    """An ApiClient from the kubeconfig (or the pod's ServiceAccount when there is none)."""
    from kubernetes import config

    try:
        return config.new_client_from_config(config_file=kubeconfig, context=context)
    except config.ConfigException as error:
        if kubeconfig:
            raise
        try:
            config.load_incluster_config()
        except config.ConfigException:
            raise config.ConfigException(f"{error}; and not running in a pod (no in-cluster config)") from None
        from kubernetes import client

        return client.ApiClient()


def check_cluster(api: Any) -> Check:
    from kubernetes import client

    version = client.VersionApi(api).get_code(_request_timeout=KUBE_TIMEOUT)
    return Check("kubeconfig", True, f"API server {api.configuration.host} answers, Kubernetes {version.git_version}")


def check_crd(api: Any) -> Check:
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    name = crd.CRD_NAME
    try:
        raw = client.ApiextensionsV1Api(api).read_custom_resource_definition(
            name, _preload_content=False, _request_timeout=KUBE_TIMEOUT
        )
    except ApiException as error:
        if error.status == 404:
            return Check(
                "CRD",
                False,
                f"CustomResourceDefinition {name} is not installed",
                "kubectl apply --server-side -f crds/ (or install the Helm chart, which carries it)",
            )
        raise
    installed = json.loads(raw.data)
    conditions = {c.get("type"): c for c in installed.get("status", {}).get("conditions", [])}
    established = conditions.get("Established", {})
    if established.get("status") != "True":
        return Check(
            "CRD",
            False,
            f"{name} is not Established: {established.get('message') or 'no condition yet'}",
            f"kubectl describe crd {name}",
        )
    served = crd_freshness.from_annotations((installed.get("metadata") or {}).get("annotations"))
    verdict = crd_freshness.judge(served, crd.stamp(), name)
    drift = crd_drift.drift(installed, crd.render_crd())
    if drift or verdict.outdated:
        more = len(drift) - crd_drift.MAX_LINES
        shown = drift[: crd_drift.MAX_LINES] + ([f"... {more} more"] if more > 0 else [])
        return Check(
            "CRD",
            False,
            f"{verdict.message}; it differs from the one this operator renders: " + "; ".join(shown or ["stamp only"]),
            "helm upgrade with the chart of this version (crds.install=true), or kubectl apply --server-side -f crds/",
        )
    return Check("CRD", True, f"{name} installed, identical to what this operator renders ({verdict.freshness})")


def _review(api: Any, permission: Permission, verb: str, namespace: str, service_account: str | None) -> bool:
    from kubernetes import client

    attributes = client.V1ResourceAttributes(
        group=permission.group,
        resource=permission.resource.split("/")[0],
        subresource=permission.resource.partition("/")[2] or None,
        verb=verb,
        namespace=namespace or None,
    )
    authorization = client.AuthorizationV1Api(api)
    if service_account is None:
        spec = client.V1SelfSubjectAccessReviewSpec(resource_attributes=attributes)
        review = client.V1SelfSubjectAccessReview(spec=spec)
        answer = authorization.create_self_subject_access_review(review, _request_timeout=KUBE_TIMEOUT)
    else:
        sa_namespace, _, sa_name = service_account.partition("/")
        review = client.V1SubjectAccessReview(
            spec=client.V1SubjectAccessReviewSpec(
                resource_attributes=attributes,
                user=f"system:serviceaccount:{sa_namespace}:{sa_name}",
                groups=["system:serviceaccounts", f"system:serviceaccounts:{sa_namespace}", "system:authenticated"],
            )
        )
        answer = authorization.create_subject_access_review(review, _request_timeout=KUBE_TIMEOUT)
    return bool(answer.status.allowed)


def check_rbac(
    api: Any, namespaces: Sequence[str], service_account: str | None, *, secret_watch: bool = False
) -> list[Check]:
    """One check per rule of the chart: every verb, in every namespace (or cluster-wide)."""
    who = f"ServiceAccount {service_account}" if service_account else "the current identity"
    scopes = list(namespaces) or [""]
    checks = []
    for permission in needed(secret_watch=secret_watch):
        denied = []
        for namespace in scopes:
            verbs = [v for v in permission.verbs if not _review(api, permission, v, namespace, service_account)]
            if verbs:
                denied.append(f"{', '.join(verbs)} " + (f"in {namespace}" if namespace else "in all namespaces"))
        name = f"RBAC {permission.kind}" + (" (secret watch)" if permission.verbs == ("list", "watch") else "")
        if denied:
            checks.append(
                Check(
                    name,
                    False,
                    f"{who} may not {'; '.join(denied)} ({permission.why})",
                    "install with the Helm chart, or bind a Role with the chart's rules (docs/install.md)",
                )
            )
        else:
            checks.append(Check(name, True, f"{who} may {', '.join(permission.verbs)} ({permission.why})"))
    return checks


# -- AWS ------------------------------------------------------------------------------------------


def _client_error(error: Exception) -> tuple[str, str]:
    import botocore.exceptions

    if isinstance(error, botocore.exceptions.ClientError):
        details = error.response.get("Error", {})
        return str(details.get("Code", "Unknown")), str(details.get("Message", ""))
    return type(error).__name__, str(error)


def check_identity(session: Any, region: str) -> Check:
    import botocore.exceptions

    try:
        identity = session.client("sts", region_name=region).get_caller_identity()
    except botocore.exceptions.NoCredentialsError:
        return Check("AWS identity", False, "no AWS credentials found", "set AWS_PROFILE, or use IRSA / Pod Identity")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        code, message = _client_error(error)
        if code in REFUSED_CREDENTIAL_CODES:
            return Check(
                "AWS identity",
                False,
                f"AWS credentials refused by STS GetCallerIdentity ({code}: {message})",
                "the access key is unknown, expired or mistyped; renew the credentials",
            )
        return Check("AWS identity", False, f"STS GetCallerIdentity failed ({code}: {message})", "check network/proxy")
    return Check("AWS identity", True, f"account {identity['Account']}, {identity['Arn']}")


def check_list_permitted(session: Any, region: str) -> Check:
    import botocore.exceptions

    try:
        session.client("personalize", region_name=region).list_event_trackers(maxResults=1)
    except botocore.exceptions.NoCredentialsError:
        return Check(f"ListEventTrackers in {region}", False, "no AWS credentials found")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        code, message = _client_error(error)
        hint = "grant personalize:ListEventTrackers (docs/iam-policy.json)"
        if code in REFUSED_CREDENTIAL_CODES:
            hint = "the credentials themselves are refused (see AWS identity)"
        return Check(f"ListEventTrackers in {region}", False, f"refused ({code}: {message})", hint)
    return Check(f"ListEventTrackers in {region}", True, "permitted")


def check_aws_permissions(session: Any, region: str, source_arn: str | None, label: str) -> Check:
    """IAM's simulator for each operator action on a sample ARN of its type; names what is denied and the fix."""
    import botocore.exceptions

    name = f"AWS permissions{label}"
    try:
        if source_arn is None:
            caller = session.client("sts", region_name=region).get_caller_identity()["Arn"]
            source_arn = aws_permissions.principal_arn(caller)
        denied = aws_permissions.simulate(session.client("iam", region_name=region), source_arn, region)
    except botocore.exceptions.NoCredentialsError:
        return Check(name, False, "no AWS credentials found", "set AWS_PROFILE, or use IRSA / Pod Identity")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        code, message = _client_error(error)
        return Check(
            name,
            False,
            f"IAM SimulatePrincipalPolicy for {source_arn} failed ({code}: {message})",
            f"this check needs {aws_permissions.NEEDS} on {source_arn} for the identity running doctor"
            " (a role with a path: pass --aws-principal)",
        )
    count = len(permissions.OPERATOR_ACTIONS)
    if denied:
        named = ", ".join(f"{action} on {resource} ({decision})" for action, resource, decision in denied)
        return Check(
            name,
            False,
            f"{source_arn} is denied {named}",
            f"add to its policy (docs/iam-policy.json): {aws_permissions.statements_to_add(denied)}",
        )
    return Check(name, True, f"{source_arn} is allowed all {count} actions the operator needs (IAM policy simulator)")


def tenancy_roles(path: str | None) -> list[str]:
    """The role ARNs of a tenancy file, in order, once each."""
    if not path:
        return []
    from pathlib import Path

    from personalize_operator.aws import tenancy

    roles = [tenant.role_arn for tenant in tenancy.load(Path(path)).tenants if tenant.role_arn]
    return list(dict.fromkeys(roles))


# -- all together ---------------------------------------------------------------------------------


def _guarded(name: str, run: Callable[[], Check | list[Check]], hint: str) -> list[Check]:
    """A check whose unexpected failure (network, TLS, 5xx) is a FAIL line, not a traceback."""
    try:
        result = run()
    except Exception as error:
        return [Check(name, False, f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}", hint)]
    return result if isinstance(result, list) else [result]


def run_checks(
    *,
    kubeconfig: str | None,
    context: str | None,
    region: str | None,
    namespaces: Sequence[str],
    service_account: str | None,
    secret_watch: bool = False,
    aws_principal: str | None = None,
    tenancy_file: str | None = None,
) -> list[Check]:
    import boto3

    checks: list[Check] = []
    api: Any = None

    def connect() -> Check:
        nonlocal api
        api = kube_client(kubeconfig, context)
        return check_cluster(api)

    checks += _guarded("kubeconfig", connect, "check KUBECONFIG / --kubeconfig and that the API server is up")
    cluster_ok = checks[-1].ok
    if cluster_ok:
        checks += _guarded("CRD", lambda: check_crd(api), "check the API server")
    else:
        checks.append(Check("CRD", False, NOT_CHECKED, "fix the kubeconfig check first"))
    session = boto3.session.Session()
    region = region or session.region_name
    if not region:
        checks.append(Check("AWS region", False, "no region", "pass --region or set AWS_REGION"))
    else:
        checks += _guarded("AWS identity", lambda: check_identity(session, region), "check network access to STS")
        checks += _guarded(
            f"ListEventTrackers in {region}", lambda: check_list_permitted(session, region), "check network access"
        )
        checks += _guarded(
            "AWS permissions",
            lambda: check_aws_permissions(session, region, aws_principal, ""),
            "check network access to IAM",
        )
        try:
            roles = tenancy_roles(tenancy_file)
        except (OSError, ValueError) as error:
            checks.append(Check("AWS permissions (tenancy roles)", False, str(error).splitlines()[0], "fix the file"))
            roles = []
        for role in roles:
            checks += _guarded(
                f"AWS permissions {role}",
                lambda role=role: check_aws_permissions(session, region, role, f" {role}"),  # type: ignore[misc]
                "check network access to IAM",
            )
    if cluster_ok:
        checks += _guarded(
            "RBAC",
            lambda: check_rbac(api, namespaces, service_account, secret_watch=secret_watch),
            "check the API server",
        )
    else:
        checks.append(Check("RBAC", False, NOT_CHECKED, "fix the kubeconfig check first"))
    return checks
