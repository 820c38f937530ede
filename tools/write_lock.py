"""Write requirements.lock from the packages installed in the running environment.

Run it (``make lock``) only after ``make test`` passed in that environment: the lock promises that
these exact versions were tested together.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEADER = """\
# Known-good versions, tested together on CPython 3.11, Linux x86_64, 2 CPU cores.
# Set-up (make setup) installs exactly these; course_lib itself is installed on top with --no-deps.
# To refresh: install a fresh .venv from pyproject.toml, run make test, then: make lock
"""


def main() -> None:
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--all", "--exclude-editable"],
        check=True, capture_output=True, text=True,
    ).stdout.splitlines()
    keep = sorted(
        (line for line in frozen if "==" in line and not line.lower().startswith(("pip==", "course-lib", "course_lib"))),
        key=str.lower,
    )
    Path("requirements.lock").write_text(HEADER + "\n".join(keep) + "\n")
    print(f"wrote requirements.lock ({len(keep)} packages)")


if __name__ == "__main__":
    main()
