"""Make JupyterLab in the course's environment open jupytext .py files as notebooks by default.

Writes ``share/jupyter/lab/settings/overrides.json`` inside the given environment (never the user's
own JupyterLab settings).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OVERRIDES = {
    "@jupyterlab/docmanager-extension:plugin": {
        "defaultViewers": {"python": "Jupytext Notebook", "markdown": "Jupytext Notebook"}
    },
    # No "get notified about Jupyter news?" pop-up on a learner's first start, and no calls out to
    # the news feed or for updates: the course's JupyterLab is pinned by the lock.
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def main(prefix: str) -> None:
    path = Path(prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    settings = json.loads(path.read_text()) if path.exists() else {}
    settings.update(OVERRIDES)
    path.write_text(json.dumps(settings, indent=2) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else sys.prefix)
