"""Package list for setuptools: every folder with an __init__.py under the four code folders.

The folders install into the one namespace `exactprune` (pyproject.toml's package-dir), and
setuptools' automatic discovery does not follow such a mapping; listing the subpackages here
means a new problem kind's folders (instances/<kind>/, solvers/<kind>/, ...) need no edit of
the packaging.
"""

from pathlib import Path

from setuptools import setup

ROOTS = {"exactprune": "exactprune", "exactprune.instances": "instances",
         "exactprune.formulations": "formulations", "exactprune.solvers": "solvers",
         "exactprune.benchmarks": "benchmarks"}


def packages() -> list[str]:
    here = Path(__file__).parent
    out = []
    for name, folder in ROOTS.items():
        for init in sorted((here / folder).rglob("__init__.py")):
            rel = init.parent.relative_to(here / folder)
            out.append(".".join([name, *rel.parts]))
    return out


setup(packages=packages())
