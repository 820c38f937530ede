"""make lab: JupyterLab in .venv opens jupytext .py chapters as notebooks, without touching user settings."""

import json

from tools import lab_settings


def test_overrides_make_python_files_open_as_notebooks(tmp_path):
    lab_settings.main(str(tmp_path))
    overrides = json.loads((tmp_path / "share/jupyter/lab/settings/overrides.json").read_text())
    viewers = overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers["python"] == "Jupytext Notebook"


def test_existing_overrides_are_kept(tmp_path):
    path = tmp_path / "share/jupyter/lab/settings/overrides.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}))
    lab_settings.main(str(tmp_path))
    overrides = json.loads(path.read_text())
    assert overrides["@jupyterlab/apputils-extension:themes"]["theme"] == "JupyterLab Dark"
    assert "@jupyterlab/docmanager-extension:plugin" in overrides


def test_no_news_pop_up_and_no_update_check(tmp_path):
    lab_settings.main(str(tmp_path))
    overrides = json.loads((tmp_path / "share/jupyter/lab/settings/overrides.json").read_text())
    notification = overrides["@jupyterlab/apputils-extension:notification"]
    assert notification == {"fetchNews": "false", "checkForUpdates": False}
