"""Exit codes and the one error every subcommand raises for input it refuses.

0 ok, 1 refused input (or a failed doctor check), 2 usage (argparse's own code).
"""

from __future__ import annotations

from collections.abc import Sequence

OK = 0
REFUSED = 1
USAGE = 2


class RefusedInput(Exception):
    """Input the API server (or AWS) would refuse; each problem names the field and the constraint."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


class UsageError(Exception):
    """A command line that cannot be carried out as written (exit 2, like argparse)."""
