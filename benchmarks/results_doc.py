"""Keep `docs/RESULTS.md` up to date: each benchmark owns one section between HTML comment markers."""

from __future__ import annotations

import datetime
import platform
import subprocess
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "docs" / "RESULTS.md"
HEADER = "# Results\n\nEvery section below is written by the benchmark script it names; do not edit by hand.\n"


def provenance() -> str:
    """One line: commit, date, machine."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=RESULTS.parent, check=False).stdout.strip() or "unknown"
    except OSError:
        commit = "unknown"
    import os

    import torch

    cores = os.cpu_count()
    return (f"commit `{commit}`, {datetime.date.today().isoformat()}, {platform.machine()} "
            f"{platform.system()}, {cores} CPU cores, torch {torch.__version__}, {torch.get_num_threads()} threads")


def update_section(name: str, body: str, path: Path = RESULTS) -> None:
    """Replace (or append) the section `name` of the results document with `body` (markdown)."""
    start, end = f"<!-- section:{name} -->", f"<!-- /section:{name} -->"
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        _, after = rest.split(end, 1)
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def markdown_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
