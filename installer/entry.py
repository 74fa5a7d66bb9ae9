"""Bundle entry point (PyInstaller runs this as __main__) for both executables of the bundle:
`picsafe-desktop` (console: CLI, and the GUI when run without a command) and, on Windows,
`picsafe-desktop-gui.exe` (no console window; start-up errors shown in a dialog)."""

import os
import sys

if "-gui" in os.path.basename(sys.executable).lower():
    from picsafe_desktop.gui import main
else:
    from picsafe_desktop.cli import main

sys.exit(main())
