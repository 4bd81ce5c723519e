"""An earlier release of this repository, installed beside the current code for the upgrade
test: its source from `git archive` of the release commit and a venv of its own, both cached
under the repository's data dir (`.tuoyu/releases/<commit>/`) so a second run reuses them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# 0.1.0, the first release (CHANGELOG.md): the commit main stood at when it was published.
PREVIOUS_RELEASE = "f1ec77d8a2bcf837ee08d685d34cdecc1c5dcc12"


def resolve(commit: str) -> str:
    """The full id of `commit` (an abbreviation works too)."""
    out = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--verify", f"{commit}^{{commit}}"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def install(commit: str, cache: Path | None = None) -> Path:
    """The release's source tree with its venv in `.venv`; made once per commit."""
    full = resolve(commit)
    home = (cache or REPO / ".tuoyu" / "releases") / full
    marker = home / ".installed"
    if marker.exists():
        return home / "src"
    shutil.rmtree(home, ignore_errors=True)
    src = home / "src"
    src.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", full],
        check=True,
        capture_output=True,
    )
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive.stdout, check=True)
    python = os.environ.get("PYTHON", sys.executable)
    subprocess.run([python, "-m", "venv", str(src / ".venv")], check=True)
    pip = [str(src / ".venv" / "bin" / "pip"), "install", "-q"]
    result = subprocess.run([*pip, str(src)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(
            f"installing release {full[:10]} failed:\n{result.stdout}{result.stderr}"
        )
    marker.write_text(full + "\n")
    return src
