"""``python -m repro.runner``: the runner's command line (:mod:`repro.runner.cli`)."""

import sys

from repro.runner.cli import main

sys.exit(main())
