"""The layers import only downward (the contracts in .importlinter, checked by import-linter)."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_the_import_contracts_are_kept():
    out = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; "
                          "sys.exit(lint_imports(no_cache=True, no_logo=True))"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout
