"""The Dockerfile agrees with the repository (Docker itself cannot run here): what it copies exists and
is neither ignored by git nor by .dockerignore, its pins are the package's, its entrypoint is the
console script, it runs as a normal user, and data and runs are volumes where the CLI looks for them."""

from __future__ import annotations

import inspect
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

import gan_zoo.cli
from gan_zoo.data import ImageDataModule

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = (REPO / "Dockerfile").read_text()
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def instructions() -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE)
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def args() -> dict[str, str]:
    """The ARGs with a default (``ARG NAME`` alone re-declares one inside a stage)."""
    declared = (shlex.split(value)[0] for kind, value in instructions() if kind == "ARG")
    return dict(arg.split("=", 1) for arg in declared if "=" in arg)


def dockerignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def dockerignored(path: str) -> bool:
    """Docker's rule: a path is excluded when a pattern matches it or one of its parent directories
    (``*`` within a component, ``**`` across components; the last matching pattern wins, ``!`` negates)."""
    parts = PurePosixPath(path).parts
    excluded = False
    for pattern in dockerignore_patterns():
        negate = pattern.startswith("!")
        regex = _pattern_regex(pattern.lstrip("!").strip("/"))
        if any(regex.fullmatch("/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            excluded = not negate
    return excluded


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    for piece in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
        out += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(piece, re.escape(piece))
    return re.compile(out)


def copied_sources() -> list[str]:
    sources = []
    for kind, value in instructions():
        if kind == "COPY":
            *srcs, _dest = shlex.split(value)
            sources += [s for s in srcs if not s.startswith("--")]
    return sources


def test_dockerignore_matcher_follows_docker_rules():
    assert _pattern_regex("data").fullmatch("data") and not _pattern_regex("data").fullmatch("gan_zoo/data")
    assert _pattern_regex("**/__pycache__").fullmatch("gan_zoo/core/__pycache__")
    assert _pattern_regex("*.egg-info").fullmatch("gan_zoo.egg-info")


@pytest.mark.parametrize("source", copied_sources())
def test_copied_paths_exist_and_reach_the_build_context(source):
    assert (REPO / source).exists(), f"COPY {source}: not in the repository"
    assert not dockerignored(source), f"COPY {source}: excluded by .dockerignore"


def test_every_package_module_reaches_the_image():
    """Each imported gan_zoo module, by its path in the repository: not git-ignored (so a clone has it)
    and not excluded from the build context."""
    import gan_zoo.commands.sample  # noqa: F401

    modules = sorted(name for name in sys.modules if name == "gan_zoo" or name.startswith("gan_zoo."))
    paths = []
    for name in modules:
        base = name.replace(".", "/")
        paths.append(f"{base}/__init__.py" if hasattr(sys.modules[name], "__path__") else f"{base}.py")
    assert "gan_zoo/data/__init__.py" in paths
    assert "gan_zoo" in [s.rstrip("/") for s in copied_sources()]
    excluded = [p for p in paths if dockerignored(p)]
    assert not excluded, f".dockerignore excludes package modules: {excluded}"
    if shutil.which("git") and (REPO / ".git").exists():
        result = subprocess.run(["git", "check-ignore", *paths], cwd=REPO, capture_output=True, text=True)
        assert result.stdout.strip() == "", f"git ignores package modules: {result.stdout.split()}"


def test_data_and_runs_stay_out_of_the_build_context():
    for path in (
        "data/MNIST/raw/train-images-idx3-ubyte",
        "runs/dcgan-digits/version_0",
        ".venv/bin",
        "wandb",
    ):
        assert dockerignored(path), path


def test_torch_pins_are_the_packages():
    dependencies = {
        re.split(r"[<>=!~\[ ]", d, maxsplit=1)[0]: d for d in PYPROJECT["project"]["dependencies"]
    }
    assert args()["TORCH_SPEC"] == dependencies["torch"]
    assert args()["TORCHVISION_SPEC"] == dependencies["torchvision"]
    assert "$TORCH_SPEC" in DOCKERFILE and "$TORCHVISION_SPEC" in DOCKERFILE


def stages() -> dict[str, str]:
    """``{stage name: base image}`` of the ``FROM image AS name`` lines."""
    found = {}
    for kind, value in instructions():
        if kind == "FROM" and " AS " in value.upper():
            image, name = re.split(r"\s+AS\s+", value, flags=re.IGNORECASE)
            found[name] = image
    return found


def test_cuda_runtime_and_torch_wheels_name_the_same_cuda():
    major, minor, *_ = args()["CUDA_VERSION"].split(".")
    assert args()["TORCH_INDEX_CUDA"].endswith(f"/cu{major}{minor}")
    assert (
        stages()["base-cuda"].startswith("nvidia/cuda:${CUDA_VERSION}-")
        and "runtime" in stages()["base-cuda"]
    )


def test_a_cpu_variant_builds_from_plain_ubuntu_with_cpu_wheels():
    assert args()["VARIANT"] == "cuda" and set(stages()) == {"base-cuda", "base-cpu"}
    assert stages()["base-cpu"].startswith("ubuntu:")
    assert args()["TORCH_INDEX_CPU"].endswith("/whl/cpu")
    final = [value for kind, value in instructions() if kind == "FROM"][-1]
    assert final == "base-${VARIANT}"  # --build-arg VARIANT=cpu picks the CPU stage


def test_the_user_takes_uid_1000_from_ubuntus_default_user():
    """Ubuntu 24.04 images have a user "ubuntu" with UID 1000, so a plain useradd --uid 1000 fails the
    build; the existing user is removed first (and only if it exists, for other bases)."""
    (setup,) = [value for kind, value in instructions() if kind == "RUN" and "useradd" in value]
    removal, creation = (
        setup.index("userdel --remove ubuntu"),
        setup.index("useradd --create-home --uid 1000"),
    )
    assert "if id -u ubuntu" in setup and removal < creation


def test_the_package_is_installed_and_its_script_is_the_entrypoint():
    runs = " ".join(value for kind, value in instructions() if kind == "RUN")
    assert "pip install ." in runs
    (script,) = PYPROJECT["project"]["scripts"]
    assert PYPROJECT["project"]["scripts"][script] == "gan_zoo.cli:main"
    (entrypoint,) = [value for kind, value in instructions() if kind == "ENTRYPOINT"]
    assert entrypoint == f'["{script}"]'
    assert PYPROJECT["project"]["readme"] in copied_sources(), "pip install needs the readme"


def test_runs_as_an_unprivileged_user_after_the_last_root_step():
    kinds = [kind for kind, _ in instructions()]
    users = [value for kind, value in instructions() if kind == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert kinds.index("USER") > max(i for i, kind in enumerate(kinds) if kind == "RUN")


def environment() -> dict[str, str]:
    found = {}
    for kind, value in instructions():
        if kind == "ENV":
            found.update(dict(item.split("=", 1) for item in shlex.split(value)))
    return found


def test_data_runs_and_caches_are_volumes_where_the_library_looks():
    (workdir,) = [value for kind, value in instructions() if kind == "WORKDIR"]
    (volumes,) = [value for kind, value in instructions() if kind == "VOLUME"]
    data_dir = inspect.signature(ImageDataModule).parameters["data_dir"].default  # relative to the cwd
    cache = f"{workdir}/cache"
    expected = {f"{workdir}/{data_dir}", f"{workdir}/{gan_zoo.cli.RUNS_DIR}", cache}
    assert set(re.findall(r'"([^"]+)"', volumes)) == expected
    # the Inception weights (torch.hub under TORCH_HOME) and the real-feature cache (XDG_CACHE_HOME)
    assert environment()["TORCH_HOME"].startswith(cache + "/") and environment()["XDG_CACHE_HOME"] == cache


def test_example_commands_use_existing_experiments():
    configs = re.findall(r"--config (\S+)", DOCKERFILE)
    assert configs and all((REPO / c).is_file() for c in configs)
