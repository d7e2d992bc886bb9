"""``python -m lrkit``: the same command line as ``lrkit``."""

import sys

from .cli import main

sys.exit(main())
