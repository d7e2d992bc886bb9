"""The examples in docs/*.md and README.md are run as doctests, so the docs stay true."""

import doctest
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]


@pytest.mark.parametrize("path", [p for p in DOCS if p.exists()], ids=lambda p: p.name)
def test_markdown_examples_run(path: Path) -> None:
    # A code fence ends an example's expected output, as a blank line would.
    text = re.sub(r"^\s*```.*$", "", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    test = doctest.DocTestParser().get_doctest(text, {}, path.name, str(path), 0)
    runner = doctest.DocTestRunner(optionflags=flags)
    runner.run(test)
    assert runner.failures == 0, f"{runner.failures} doctest example(s) failed in {path.name}"
