"""The README's Python blocks run as written, top to bottom, in one namespace."""

import re
from pathlib import Path

import matplotlib

README = Path(__file__).parents[1] / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_the_readme_has_python_blocks():
    assert len(python_blocks()) >= 5


def test_every_python_block_of_the_readme_runs():
    matplotlib.use("Agg")
    namespace = {}
    for number, block in enumerate(python_blocks()):
        try:
            exec(compile(block, f"README.md python block {number}", "exec"), namespace)
        except Exception as exc:  # name the block that failed
            message = f"README python block {number} failed:\n{block}"
            raise AssertionError(message) from exc
