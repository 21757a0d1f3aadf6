"""The IAM policies the project ships: docs/iam-policy.json and every JSON policy block in docs/iam.md.

Why one place: `make lint` runs parliament on each of them, the e2e tests
attach them in the emulator, and a block is found by the `Sid`s it holds,
so a test attaches exactly what a reader copies.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OPERATOR_ACCESS_KEY = "personalize-operator"  # the operator process's key in tests (support.operator_process)
REPO = Path(__file__).resolve().parents[2]
POLICY_FILE = REPO / "docs" / "iam-policy.json"
HARDENING_FILE = REPO / "docs" / "iam-policy-hardening.json"
IAM_DOC = REPO / "docs" / "iam.md"
_JSON_BLOCK = re.compile(r"^```json\n(.*?)^```", re.DOTALL | re.MULTILINE)


@dataclass(frozen=True)
class ShippedPolicy:
    where: str  # file, or file:line of the block
    text: str

    @property
    def document(self) -> dict[str, Any]:
        return dict(json.loads(self.text))

    @property
    def sids(self) -> set[str]:
        statements = self.document["Statement"]
        return {s.get("Sid", "") for s in (statements if isinstance(statements, list) else [statements])}

    @property
    def is_trust_policy(self) -> bool:
        """A role's trust policy (statements with a Principal), not a permissions policy."""
        statements = self.document["Statement"]
        return any("Principal" in s for s in (statements if isinstance(statements, list) else [statements]))


def doc_blocks(path: Path = IAM_DOC) -> list[ShippedPolicy]:
    """Every ```json block of a Markdown file that is an IAM policy (has a Statement)."""
    text = path.read_text(encoding="utf-8")
    found = []
    for match in _JSON_BLOCK.finditer(text):
        body = match.group(1)
        if '"Statement"' in body:
            line = text.count("\n", 0, match.start(1)) + 1
            found.append(ShippedPolicy(f"{path.relative_to(REPO)}:{line}", body))
    return found


def shipped() -> list[ShippedPolicy]:
    files = [POLICY_FILE, HARDENING_FILE]
    return [ShippedPolicy(str(f.relative_to(REPO)), f.read_text(encoding="utf-8")) for f in files] + doc_blocks()


def operator_policy() -> dict[str, Any]:
    """docs/iam-policy.json: what the operator's identity gets."""
    return dict(json.loads(POLICY_FILE.read_text(encoding="utf-8")))


def doc_policy(sid: str) -> dict[str, Any]:
    """The JSON block of docs/iam.md holding a statement with this Sid."""
    matching = [block for block in doc_blocks() if sid in block.sids]
    assert len(matching) == 1, f"docs/iam.md has {len(matching)} policy blocks with Sid {sid}"
    return matching[0].document


def policy_without(policy: dict[str, Any], action: str) -> dict[str, Any]:
    """The policy less one action (statements left with none are dropped)."""
    statements = []
    for statement in policy["Statement"]:
        actions = [a for a in statement["Action"] if a != action]
        if actions:
            statements.append({**statement, "Action": actions})
    return {**policy, "Statement": statements}


def team_role_policy(account: str) -> dict[str, Any]:
    """docs/iam.md's team role permission policy, for a team whose account is `account` (the doc's is 111111111111)."""
    return dict(json.loads(json.dumps(doc_policy("TeamCreateEventTrackers")).replace("111111111111", account)))


# running_emulator(iam_policy_files=OPERATOR_POLICY_AT_START): docs/iam-policy.json on the operator's key,
# from the emulator's start and after every reset.
OPERATOR_POLICY_AT_START = (f"{OPERATOR_ACCESS_KEY}={POLICY_FILE}",)
