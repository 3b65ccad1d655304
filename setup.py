"""Build hook: ship the front-end files and the notebooks inside the package.

The widgets' JavaScript/CSS live in the top-level ``widgets/`` folder and the notebooks in
``notebooks/`` (where a checkout and an editable install read them). A wheel or a regular
install has no checkout, so ``build_py`` copies them to ``alchemist/_static/widgets/`` and
``alchemist/notebooks/``, the second places ``alchemist.widgets._base.asset`` and
``alchemist._notebooks.notebook_path`` look. Everything else is in ``pyproject.toml``.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = (("widgets", "*", ("_static", "widgets")), ("notebooks", "*.ipynb", ("notebooks",)))


class build_py_with_assets(build_py):
    """``build_py`` that also copies ``widgets/*`` and ``notebooks/*.ipynb`` into the package."""

    def run(self):
        super().run()
        for folder, pattern, target in SHIPPED:
            dest = Path(self.build_lib, "alchemist", *target)
            dest.mkdir(parents=True, exist_ok=True)
            for path in sorted((ROOT / folder).glob(pattern)):
                if path.is_file():
                    shutil.copy2(path, dest / path.name)


setup(cmdclass={"build_py": build_py_with_assets})
