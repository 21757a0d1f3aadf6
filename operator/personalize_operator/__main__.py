"""`python -m personalize_operator` is `personalize-operator`."""

import sys

from personalize_operator.cli import main

sys.exit(main())
