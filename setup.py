"""Build hook: ship the Great Expectations project inside the wheel.

``expectations/`` at the top of the repository stays the one source of truth
(the layout the brief requires).  Building copies it to
``envquality/quality/gx_project/`` in the build tree, where
:func:`envquality.quality.gate.gx_root` finds it in an installed package.
Everything else is configured in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

GX_SOURCE = Path(__file__).resolve().parent / "expectations"
GX_TARGET = ("envquality", "quality", "gx_project")


class build_py_with_gx_project(build_py):
    """``build_py`` that also copies ``expectations/`` (JSON/YAML only) into the package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):  # an editable install reads expectations/ in place
            return
        if not GX_SOURCE.is_dir():  # building from an sdist made without it: nothing to ship
            raise FileNotFoundError(f"{GX_SOURCE} is missing: the wheel needs the Great Expectations project")
        target = Path(self.build_lib).joinpath(*GX_TARGET)
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(GX_SOURCE, target,
                        ignore=shutil.ignore_patterns("uncommitted", "__pycache__", "*.py", ".gitignore"))


setup(cmdclass={"build_py": build_py_with_gx_project})
