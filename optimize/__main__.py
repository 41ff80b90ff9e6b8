"""Run the command-line interface: ``python -m optimize``."""

from optimize.cli import main

raise SystemExit(main())
