"""``python -m repro.book``: the runner's command line (:mod:`repro.book.cli`)."""

import sys

from repro.book.cli import main

sys.exit(main())
