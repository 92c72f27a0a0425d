"""Jupyter notebooks through the real CLI: cells linted as one module, located by cell, suppressed, fixed."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from initlint.cli import main

IMPORTS = "import torch.nn as nn\nimport torch.nn.functional as F\n"
MODEL = '''class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 512)
        self.fc2 = nn.Linear(512, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))
'''
INIT = "model = MLP()\nnn.init.xavier_uniform_(model.fc1.weight)\n"


def notebook(*cells: tuple[str, str], outputs: bool = True) -> dict:
    out = []
    for kind, source in cells:
        cell = {"cell_type": kind, "metadata": {"tags": ["keep"]}, "source": source.splitlines(keepends=True)}
        if kind == "code":
            cell.update(execution_count=1, outputs=[{"output_type": "stream", "name": "stdout", "text": ["hi\n"]}]
                        if outputs else [])
        out.append(cell)
    return {"cells": out, "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}


def write(path: Path, doc: dict) -> Path:
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    return path


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [*args, "--no-cache"])
    return result.exit_code, result.stdout, result.stderr


def test_cells_are_one_module_and_findings_name_the_cell(tmp_path: Path) -> None:
    nb = write(tmp_path / "explore.ipynb", notebook(
        ("markdown", "# Title\n"), ("code", "%matplotlib inline\n!pip list\n" + IMPORTS), ("code", MODEL),
        ("code", "%%bash\necho not python (\n"), ("markdown", "text"), ("code", INIT)))
    code, out, err = cli(str(nb), "--fail-on", "advice")
    assert code == 1 and err == "", err
    lines = out.splitlines()
    # fc1: built in cell 3 (line 4), initialized in cell 6: one module, so the init in another cell counts
    assert lines[0].startswith(f"{nb}:cell 3:4:20: INIT001 [warning] MLP.fc1: nn.init.xavier_uniform_ before ReLU")
    assert "cell 6, line 2" in lines[1]  # the hint names the init call's cell and line
    assert out.rstrip().endswith("1 file, 2 layers (2 resolved, 0 unresolved): 0 errors, 1 warning, 0 advice")
    _, js, _ = cli(str(nb), "--format", "json")
    (finding,) = json.loads(js)["findings"]
    assert (finding["cell"], finding["line"], finding["column"]) == (3, 4, 20)
    assert "cell 6, line 2" in finding["message"]
    _, sarif, _ = cli(str(nb), "--format", "sarif")
    (result,) = json.loads(sarif)["runs"][0]["results"]
    location = result["locations"][0]
    assert "region" not in location["physicalLocation"]  # a cell's line is not a line of the .ipynb file
    assert location["logicalLocations"] == [{"name": "cell 3, line 4", "kind": "object"}]
    _, gh, _ = cli(str(nb), "--format", "github")
    assert "title=INIT001 init-activation-mismatch (cell 3%2C line 4)" in gh


def test_suppressions_in_cells_and_unused_ones(tmp_path: Path) -> None:
    suppressed = MODEL.replace("nn.Linear(784, 512)", "nn.Linear(784, 512)  # initlint: ignore[INIT001]")
    nb = write(tmp_path / "n.ipynb", notebook(("code", IMPORTS), ("code", suppressed), ("code", INIT + "x = 1  # noqa: INIT005\n")))
    code, out, _ = cli(str(nb))
    assert code == 0, out
    assert f"{nb}:cell 3:3: unused suppression: INIT005 (no INIT005 finding here)" in out
    assert "INIT001" not in out.replace("unused", "")


def test_fix_rewrites_the_cell_and_keeps_the_rest(tmp_path: Path) -> None:
    doc = notebook(("markdown", "# keep me\n"), ("code", IMPORTS), ("code", MODEL), ("code", "print(MLP())"))
    nb = write(tmp_path / "n.ipynb", doc)
    code, diff, _ = cli(str(nb), "--diff", "--fail-on", "advice")
    assert code == 1 and diff.startswith("--- ") and "+    \"        nn.init.kaiming_normal_(self.fc1.weight" in diff
    assert json.loads(nb.read_text()) == doc  # --diff changes nothing
    code, out, err = cli(str(nb), "--fix", "--fail-on", "advice")
    assert "fixed 1 finding in 1 file" in err
    assert code == 0, out
    fixed = json.loads(nb.read_text())
    source = "".join(fixed["cells"][2]["source"])
    assert source == MODEL.replace(
        "        self.fc2 = nn.Linear(512, 10)\n",
        "        nn.init.kaiming_normal_(self.fc1.weight, nonlinearity=\"relu\")\n        self.fc2 = nn.Linear(512, 10)\n")
    for before, after in zip(doc["cells"], fixed["cells"]):  # outputs, metadata and the other cells untouched
        assert {k: v for k, v in before.items() if k != "source"} == {k: v for k, v in after.items() if k != "source"}
    assert [c["source"] for i, c in enumerate(fixed["cells"]) if i != 2] == [c["source"] for i, c in enumerate(doc["cells"]) if i != 2]
    assert fixed["metadata"] == doc["metadata"]
    again = nb.read_text()
    cli(str(nb), "--fix", "--fail-on", "advice")
    assert nb.read_text() == again  # a second --fix changes nothing


def test_a_broken_notebook_is_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "bad.ipynb").write_text("{not json")
    (tmp_path / "syntax.ipynb").write_text(json.dumps(notebook(("code", IMPORTS), ("code", "def f(:\n"))))
    (tmp_path / "ok.py").write_text(IMPORTS + "\n\n" + MODEL)
    code, out, err = cli(str(tmp_path))
    assert code == 2
    errors = err.strip().splitlines()
    assert len(errors) == 2 and "Traceback" not in err
    assert any("bad.ipynb: not a valid notebook (JSON)" in e for e in errors)
    assert any("syntax.ipynb:cell 2:" in e and "syntax error" in e for e in errors)
    assert "3 files" in out
