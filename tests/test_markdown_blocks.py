"""The helper that runs a Markdown page's ``bash run`` and ``python run`` blocks."""

from __future__ import annotations

import pytest
from markdown_blocks import run_page, runnable_blocks

PAGE = """# A page

```bash run
echo one > out.txt
```

```bash
exit 1   # shown, not run
```

````python run
from pathlib import Path
print(Path("out.txt").read_text().strip() + " two")
````

```yaml
a: 1
```
"""


def test_only_run_blocks_are_found_with_their_line():
    blocks = runnable_blocks(PAGE)
    assert [(b.language, b.line) for b in blocks] == [("bash", 3), ("python", 11)]
    assert blocks[0].code == "echo one > out.txt\n"


def test_blocks_run_in_order_in_one_directory(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(PAGE)
    work = tmp_path / "work"
    work.mkdir()
    first, second = run_page(page, work)
    assert (first.returncode, second.stdout) == (0, "one two\n")


def test_a_failing_block_fails_with_its_line(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("text\n\n```bash run\ntrue\nfalse\necho never\n```\n")
    with pytest.raises(AssertionError, match=r"page.md:3: the bash block exited with 1"):
        run_page(page, tmp_path)


def test_a_replacement_must_occur(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(PAGE)
    with pytest.raises(ValueError, match="not in the page any more"):
        run_page(page, tmp_path, replacements={"--epochs 100": "--epochs 1"})
