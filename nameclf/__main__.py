"""Allow `python -m nameclf`."""

import sys

from nameclf.cli import main

sys.exit(main())
