"""The helper that runs a Markdown page's ``bash run`` and ``python run`` blocks."""

from __future__ import annotations

import pytest
from markdown_blocks import command_lines, gan_zoo_arguments, run_page, runnable_blocks, unmarked_blocks

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


def test_a_code_block_is_run_or_gives_a_known_reason():
    page = (
        "```bash run\ntrue\n```\n```bash needs-gpu\nx\n```\n```python\nx\n```\n"
        "```bash needs-luck\nx\n```\n```text\nx\n```\n"
    )
    assert unmarked_blocks(page) == ["line 7: ```python", "line 10: ```bash needs-luck"]


def test_commands_are_split_as_the_shell_does():
    code = (
        "OMP_NUM_THREADS=1 gan-zoo fit --config a.yaml \\\n    --x 'a b'  # comment\n\n$ srun gan-zoo test\n"
    )
    assert command_lines(code) == [
        ["OMP_NUM_THREADS=1", "gan-zoo", "fit", "--config", "a.yaml", "--x", "a b"],
        ["srun", "gan-zoo", "test"],
    ]


def test_gan_zoo_is_found_behind_launchers():
    assert gan_zoo_arguments(["torchrun", "--nnodes", "2", "-m", "gan_zoo", "fit", "--a"]) == ["fit", "--a"]
    assert gan_zoo_arguments(["docker", "run", "-v", "x:y", "gan-zoo", "fit"]) == ["fit"]
    assert gan_zoo_arguments(["docker", "build", "-t", "gan-zoo", "."]) is None
    assert gan_zoo_arguments(["wandb", "login"]) is None
