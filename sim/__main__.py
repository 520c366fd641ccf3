"""``python -m sim`` is the ``opvang`` command."""

import sys

from sim.cli import main

sys.exit(main())
