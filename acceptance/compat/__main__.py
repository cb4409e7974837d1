"""`python -m acceptance.compat spec|catalog PREVIOUS.json CURRENT.json`: see acceptance.compat.cli."""

import sys

from acceptance.compat.cli import main

sys.exit(main())
