"""A build without a checkout ships the widgets' front end and the notebooks inside the package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_build_py_ships_widget_assets_and_notebooks_where_the_package_finds_them(tmp_path):
    build, meta = tmp_path / "lib", tmp_path / "meta"
    meta.mkdir()
    # egg_info's metadata goes to tmp_path too, so the checkout is left as it was
    subprocess.run([sys.executable, "setup.py", "-q", "egg_info", "--egg-base", str(meta),
                    "build_py", "--build-lib", str(build)],
                   cwd=ROOT, check=True, capture_output=True, timeout=300)
    pkg = build / "alchemist"
    for src in sorted((ROOT / "widgets").iterdir()):
        assert (pkg / "_static" / "widgets" / src.name).read_bytes() == src.read_bytes()
    shipped = sorted(p.name for p in (pkg / "notebooks").glob("*.ipynb"))
    assert shipped == sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    # the built package alone (no checkout above it) finds both through its public lookups
    probe = (
        "import json, alchemist\n"
        "from alchemist.widgets._base import asset\n"
        "from alchemist._notebooks import notebook_path\n"
        "print(json.dumps({'package': alchemist.__file__, 'esm': asset('dom.js', 'graph_view.js'),"
        " 'notebook': str(notebook_path('01-quickstart.ipynb'))}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(build)}
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, check=True,
                         capture_output=True, text=True, timeout=300)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert Path(found["package"]).is_relative_to(build)
    expected = "\n".join((ROOT / "widgets" / n).read_text(encoding="utf-8") for n in ("dom.js", "graph_view.js"))
    assert found["esm"] == expected
    assert Path(found["notebook"]) == pkg / "notebooks" / "01-quickstart.ipynb"
