"""`python -m personalize_emulator` is the console script."""

from personalize_emulator.cli import main

raise SystemExit(main())
