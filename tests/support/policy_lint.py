"""`python -m support.policy_lint`: parliament on every policy the project ships; exit 1 on MEDIUM or worse.

Why parliament: it checks each action against its copy of AWS's Service
Authorization Reference (an action granted only on resources it has no type
for, an unknown action or condition key), which a JSON schema cannot.
Role trust policies (the docs' IRSA, Pod Identity and team-role trust
documents) are listed but not analyzed: parliament models permission
policies, and reports any trust policy as MALFORMED (a trust statement has no
Resource by definition) and an EKS OIDC provider as an unknown federation
source (it knows only SAML providers).
"""

from __future__ import annotations

import sys

from parliament import analyze_policy_string, enhance_finding

from support.shipped_policies import shipped

MINIMUM = "MEDIUM"
SEVERITIES = ("MUTE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL")  # parliament's order (its cli.py)


def findings(text: str, where: str) -> list[str]:
    """parliament's findings at MEDIUM or above, one line each (no ignore list: every finding counts)."""
    policy = analyze_policy_string(text, filepath=where)
    lines = []
    for finding in map(enhance_finding, policy.findings):
        if SEVERITIES.index(finding.severity) >= SEVERITIES.index(MINIMUM):
            lines.append(f"{where}: {finding.severity} {finding.issue}: {finding.title} {finding.detail}")
    return lines


def main() -> int:
    policies = [policy for policy in shipped() if not policy.is_trust_policy]
    trust = [policy.where for policy in shipped() if policy.is_trust_policy]
    problems = [line for policy in policies for line in findings(policy.text, policy.where)]
    for line in problems:
        print(line)
    print(
        f"parliament: {len(policies)} shipped permission policies, {len(problems)} findings at {MINIMUM} or above"
        f" ({len(trust)} trust policies not analyzed: {', '.join(trust)})"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
