"""The app's code lives in ../functions (the codebase firebase deploys): import it from there."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "functions"))
