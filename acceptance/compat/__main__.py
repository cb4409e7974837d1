"""`python -m acceptance.compat spec|catalog PREVIOUS.json CURRENT.json`: see acceptance.compat.differences."""

import sys

from acceptance.compat.differences import main

sys.exit(main())
