"""Wiring of the skeleton, manifest, import, doctor, migrate-storage and release-rbac-guard subcommands.

cli.py calls `register` with its subparsers and hands any of NAMES to
`dispatch`; each command is a few lines calling the module that does the
work. Refused input prints `personalize-operator <command>: <field>: <constraint>`
lines on stderr and exits 1; usage errors exit 2 (argparse's code).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

from personalize_operator.api import model, names
from personalize_operator.tools import exits
from personalize_operator.tools.output import Document, Format, render

NAMES = ("skeleton", "manifest", "import", "doctor", "migrate-storage", "release-rbac-guard")
_FORMATS = [f.value for f in Format]
_EPILOG = "exit codes: 0 ok, 1 refused input, 2 usage"


def _output_option(parser: argparse.ArgumentParser, extra: tuple[str, ...] = ()) -> None:
    parser.add_argument(
        "-o",
        "--output",
        "--output-format",
        dest="output",
        choices=[*_FORMATS, *extra],
        default=Format.YAML.value,
        help="output format (default: yaml)",
    )


def register(commands: Any) -> None:
    """Add the subcommands to `personalize-operator`'s subparsers."""
    skeleton = commands.add_parser(
        "skeleton",
        help="print an EventTracker manifest with every field, placeholders and comments",
        description="An EventTracker with every field, a placeholder each and one comment line per field "
        "(like --generate-cli-skeleton). --output-format cli-input-json prints the AWS CLI's own "
        "create-event-tracker skeleton instead, for `manifest --cli-input-json`.",
        epilog=_EPILOG,
    )
    _output_option(skeleton, ("cli-input-json",))

    manifest = commands.add_parser(
        "manifest",
        help="turn `aws personalize create-event-tracker` input JSON into an EventTracker manifest",
        description="Reads the AWS CLI's create-event-tracker input (name, datasetGroupArn, tags) and prints "
        "the EventTracker manifest, validated by the model the CRD is generated from.",
        epilog=_EPILOG,
    )
    manifest.add_argument(
        "--cli-input-json", required=True, metavar="file://PATH|-", help="the input JSON (as the AWS CLI reads it)"
    )
    manifest.add_argument("--name", help="metadata.name (default: the AWS name made DNS-safe)")
    manifest.add_argument("-n", "--namespace", help="metadata.namespace (default: none, kubectl's current one)")
    manifest.add_argument("--secret-name", help="spec.secretName (default: <metadata.name>-tracking)")
    manifest.add_argument("--deletion-policy", choices=[p.value for p in model.DeletionPolicy])
    _output_option(manifest, ("cli-input-json",))

    importer = commands.add_parser(
        "import",
        help="print manifests that adopt the event trackers already in an AWS region",
        description="Lists the region's event trackers (ListEventTrackers, DescribeEventTracker, "
        "ListTagsForResource) and prints one manifest per tracker with the adopt annotation and its user tags. "
        "Applying them adopts the trackers: same ARN, same trackingId, no create. Trackers owned by an existing "
        "EventTracker, or not ACTIVE, are skipped with a comment saying why.",
        epilog=_EPILOG,
    )
    importer.add_argument("--region", required=True, help="AWS region to read")
    importer.add_argument(
        "--dataset-group-arn", action="append", default=[], metavar="ARN", help="only this dataset group (repeatable)"
    )
    importer.add_argument("-n", "--namespace", help="metadata.namespace of the manifests")
    importer.add_argument(
        "--deletion-policy",
        choices=[p.value for p in model.DeletionPolicy],
        default=model.DeletionPolicy.RETAIN.value,
        help="spec.deletionPolicy (default: Retain, so deleting a manifest never deletes a tracker producers use)",
    )
    importer.add_argument("--kubeconfig", help="cluster to check ownership in (default: KUBECONFIG, ~/.kube/config)")
    _output_option(importer)

    doctor = commands.add_parser(
        "doctor",
        help="check the cluster, the CRD, AWS credentials and permissions, and the operator's RBAC",
        description="One OK/FAIL line per check, with a hint; exit 1 when any fails.",
        epilog="exit codes: 0 every check passed, 1 a check failed, 2 usage",
    )
    doctor.add_argument("--kubeconfig", help="default: KUBECONFIG, ~/.kube/config, or the pod's ServiceAccount")
    doctor.add_argument("--context", help="kubeconfig context")
    doctor.add_argument("--region", help="AWS region for STS and ListEventTrackers (default: AWS_REGION)")
    doctor.add_argument(
        "-n",
        "--namespace",
        action="append",
        default=[],
        dest="namespaces",
        metavar="NS",
        help="check RBAC in this namespace (repeatable; default: all namespaces)",
    )
    doctor.add_argument(
        "--service-account", metavar="NS/NAME", help="check RBAC for this ServiceAccount instead of yourself"
    )
    doctor.add_argument(
        "--secret-watch",
        action="store_true",
        help="also check list and watch on Secrets (the chart's secretWatch.enabled)",
    )
    doctor.add_argument(
        "--aws-principal",
        metavar="ARN",
        help="the user or role whose AWS permissions to simulate (default: from STS GetCallerIdentity; a role"
        " with a path must be given here). The check needs iam:SimulatePrincipalPolicy",
    )
    doctor.add_argument(
        "--tenancy-file",
        default=os.environ.get("PERSONALIZE_OPERATOR_TENANCY_FILE"),
        help="also simulate each role of this tenancy map (default: PERSONALIZE_OPERATOR_TENANCY_FILE)",
    )
    doctor.add_argument("-o", "--output", choices=["text", "json"], default="text", help="report format")

    migrate = commands.add_parser(
        "migrate-storage",
        help=f"after upgrading: rewrite every EventTracker in {names.VERSION}, then drop older storedVersions",
        description="Reads and writes back every EventTracker unchanged (stored in the storage version), then sets "
        "the CRD's status.storedVersions to it alone (docs/install.md#upgrade). Needs cluster-admin once.",
        epilog="exit codes: 0 done, 1 the API server refused",
    )
    migrate.add_argument("--kubeconfig", help="default: KUBECONFIG or ~/.kube/config")
    migrate.add_argument("--context", help="kubeconfig context")

    guard = commands.add_parser(
        "release-rbac-guard",
        help="remove the RBAC guard's finalizer from the operator's RoleBindings (the chart's pre-delete hook)",
        description="Before `helm uninstall` deletes the operator's identity: let go of its guarded RoleBindings.",
        epilog="exit codes: 0 done, 1 the API server refused",
    )
    guard.add_argument("--role-binding", required=True, help="the RoleBinding's name (the chart's full name)")
    guard.add_argument("namespaces", nargs="+", metavar="NS", help="the watched namespaces")
    guard.add_argument("--kubeconfig", help="default: KUBECONFIG, ~/.kube/config, or the pod's ServiceAccount")


def _skeleton(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from personalize_operator.tools import skeleton

    out.write(skeleton.render(args.output))
    return exits.OK


def _manifest(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from personalize_operator.tools import cli_shape, manifest

    options = manifest.Options(
        name=args.name, namespace=args.namespace, secret_name=args.secret_name, deletion_policy=args.deletion_policy
    )
    body = manifest.from_source(args.cli_input_json, options)
    if args.output == manifest.CLI_INPUT_JSON:
        out.write(cli_shape.dumps(manifest.to_cli_input(body)))
    else:
        out.write(render([Document(body=body)], Format(args.output)))
    return exits.OK


def _import(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from personalize_operator.aws.client import ClientPool
    from personalize_operator.aws.errors import AwsError
    from personalize_operator.tools import importer

    client = ClientPool(max_attempts=5).for_region(args.region)
    try:
        arns = importer.list_arns(client, args.dataset_group_arn)
        trackers = importer.describe_all(client, arns, err)
    except AwsError as error:  # credentials refused, access denied, unreachable after retries
        err.write(f"personalize-operator import: {error}\n")
        return exits.REFUSED
    needs_owners = any(names.UID_TAG in tracker.tags for tracker in trackers)
    owners, unknown = _owners(args.kubeconfig) if needs_owners else (lambda tracker: None, None)
    found = importer.plan(
        importer.candidates(trackers, owners, unknown), namespace=args.namespace, deletion_policy=args.deletion_policy
    )
    header = [
        f"personalize-operator import --region {args.region}: {len(found.manifests)} to adopt, "
        f"{len(found.skipped)} skipped",
        *(skip.line() for skip in found.skipped),
    ]
    fmt = Format(args.output)
    if fmt is Format.JSON:  # JSON has no comments: the summary goes to stderr
        err.write("".join(f"{line}\n" for line in header))
        out.write(render(found.manifests, fmt))
    else:
        out.write(render(found.manifests, fmt, header=header))
    return exits.OK


def _owners(kubeconfig: str | None) -> tuple[Callable[..., Any] | None, str | None]:
    """The ownership lookup, or why the cluster could not be asked."""
    import urllib3
    from kubernetes import client, config
    from kubernetes.client.rest import ApiException

    from personalize_operator.tools import doctor, importer

    try:
        api = doctor.kube_client(kubeconfig, None)
        return importer.cluster_owners(client.CustomObjectsApi(api)), None
    except (config.ConfigException, ApiException, OSError, urllib3.exceptions.HTTPError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return None, f"{type(error).__name__}: {first_line}"


def _doctor(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from personalize_operator.tools import doctor

    if args.service_account and "/" not in args.service_account:
        raise exits.UsageError(f"--service-account takes NS/NAME, not {args.service_account!r}")
    checks = doctor.run_checks(
        kubeconfig=args.kubeconfig,
        context=args.context,
        region=args.region,
        namespaces=args.namespaces,
        service_account=args.service_account,
        secret_watch=args.secret_watch,
        aws_principal=args.aws_principal,
        tenancy_file=args.tenancy_file,
    )
    out.write(doctor.render_json(checks) if args.output == "json" else doctor.render_text(checks))
    return exits.OK if all(check.ok for check in checks) else exits.REFUSED


def _migrate_storage(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from kubernetes.client.rest import ApiException

    from personalize_operator.tools import doctor, storage

    try:
        done = storage.migrate(doctor.kube_client(args.kubeconfig, args.context))
    except ApiException as error:
        raise exits.RefusedInput([f"the API server answered {error.status} {error.reason}"]) from error
    out.write(
        f"rewrote {done.rewritten} EventTracker(s) in {names.VERSION} ({done.gone} gone meanwhile); "
        f"storedVersions {done.stored_versions_before} -> {done.stored_versions_after}\n"
    )
    return exits.OK


def _release_rbac_guard(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from kubernetes.client.rest import ApiException

    from personalize_operator.tools import doctor, guard_release

    try:
        lines = guard_release.release(doctor.kube_client(args.kubeconfig, None), args.role_binding, args.namespaces)
    except ApiException as error:
        raise exits.RefusedInput([f"the API server answered {error.status} {error.reason}"]) from error
    out.write("".join(f"{line}\n" for line in lines))
    return exits.OK


_HANDLERS = {
    "skeleton": _skeleton,
    "manifest": _manifest,
    "import": _import,
    "doctor": _doctor,
    "migrate-storage": _migrate_storage,
    "release-rbac-guard": _release_rbac_guard,
}


def dispatch(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run one subcommand; refused input is exit 1 with one stderr line per problem, usage is exit 2."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        return _HANDLERS[args.command](args, out, err)
    except exits.RefusedInput as refused:
        for problem in refused.problems:
            err.write(f"personalize-operator {args.command}: {problem}\n")
        return exits.REFUSED
    except exits.UsageError as error:
        err.write(f"personalize-operator {args.command}: {error}\n")
        return exits.USAGE
