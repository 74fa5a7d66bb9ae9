"""`python -m picsafe_desktop` behaves exactly like the `picsafe-desktop` command."""

import sys

from picsafe_desktop.cli import main

sys.exit(main())
