"""``python -m spikebench.cli``: the same as the ``spikebench`` command."""

import sys

from . import main

sys.exit(main())
