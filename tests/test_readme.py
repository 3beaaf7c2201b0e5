"""The README's Python blocks run as written, top to bottom, in one namespace."""

import re
from pathlib import Path

import matplotlib
import numpy as np

README = Path(__file__).parents[1] / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_the_readme_has_python_blocks():
    assert len(python_blocks()) >= 5


def test_every_python_block_of_the_readme_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a block saves a model file
    matplotlib.use("Agg")
    namespace = {}
    blocks = python_blocks()
    for number, block in enumerate(blocks):
        try:
            exec(compile(block, f"README.md python block {number}", "exec"), namespace)
        except Exception as exc:  # name the block that failed
            message = f"README python block {number} failed:\n{block}"
            raise AssertionError(message) from exc
        if "callbacks=[stop_at_50]" in block:
            # The callback stops the fit after stage 49, as the block says.
            assert namespace["model"].n_iter_ == 50
    # The terms block's claim: the intercept plus the terms is the prediction.
    model, X = namespace["model"], namespace["X"]
    np.testing.assert_allclose(
        model.intercept_ + model.predict_terms(X).sum(axis=1), model.predict(X),
        rtol=0, atol=1e-10,
    )
    assert namespace["gam"].term_names_
    # The model-file block's claims: the file exists and the dump has trees.
    assert (tmp_path / "house.json").exists()
    assert len(namespace["trees"]) == namespace["house"].best_iteration_


def test_the_parametric_claims_quote_the_report_exactly():
    # Every decimal number of the README's claims table is printed in the
    # benchmark's report: no number rounded, rewritten or made up.
    text = README.read_text()
    start = text.index("| experiment (seeds, wall time) | claim |")
    table = text[start:text.index("What we take from them:")]
    verdicts = "".join(line.split("|")[3] for line in table.splitlines()[2:] if line)
    report = (README.parent / "benchmarks/results/parametric/report.md").read_text()
    pattern = r"(?<![\w.^-])-?\d+\.\d+|\d+ steps \(\d/\d\)|2\^-\d+"
    numbers = re.findall(pattern, verdicts)
    assert len(numbers) > 30
    missing = [number for number in numbers if number not in report]
    assert not missing, missing
