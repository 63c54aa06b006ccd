"""The preloaded interpreter the manual's tests run in behaves as a fresh process would: the caller's
streams, directory and environment, and the exit status of the command."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from preloaded import Preloaded


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with Preloaded(tmp_path_factory.mktemp("preloaded"), dict(os.environ)) as running:
        yield running


def run(server: Preloaded, command: list[str], cwd, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, **server.env, "PATH": f"{server.bin}{os.pathsep}{os.environ['PATH']}", **env}
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=120)


def test_python_code_sees_the_callers_directory_environment_and_streams(server, tmp_path):
    code = "import os, sys; print(os.getcwd()); print(os.environ['MARK'], file=sys.stderr); sys.exit(3)"
    result = run(server, server.python_command(code), tmp_path, MARK="here")
    assert (result.returncode, result.stdout, result.stderr) == (3, f"{tmp_path}\n", "here\n")


def test_an_exception_is_a_traceback_and_status_1(server, tmp_path):
    result = run(server, server.python_command("open('written', 'w').write('x'); 1 / 0"), tmp_path)
    assert result.returncode == 1 and result.stderr.splitlines()[-1] == "ZeroDivisionError: division by zero"
    assert (tmp_path / "written").read_text() == "x"


def test_gan_zoo_on_the_path_is_the_cli_with_its_exit_status(server, tmp_path):
    refused = run(server, ["bash", "-c", "gan-zoo fit --model NoSuchGAN"], tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.startswith("gan-zoo: error: ") and "DCGAN" in refused.stderr
    help_text = run(server, ["bash", "-c", "gan-zoo --help"], tmp_path)
    assert help_text.returncode == 0 and "sample" in help_text.stdout


def test_two_commands_at_once_keep_their_outputs_apart(server, tmp_path):
    code = "import sys, time; time.sleep(1); print(sys.argv[1:])"
    env = {**os.environ, **server.env}
    first, second = (
        subprocess.Popen([*server.python_command(code), i], stdout=subprocess.PIPE, text=True, env=env)
        for i in ("1", "2")
    )
    assert (first.communicate()[0], second.communicate()[0]) == ("['1']\n", "['2']\n")


def test_the_shim_needs_no_import_of_torch():
    """The client is plain Python: its start-up is what a command costs, not Lightning's import."""
    code = "import sys; sys.argv = ['x']; import preloaded; print('torch' in sys.modules)"
    tests = os.path.dirname(__file__)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": tests}
    )
    assert result.stdout == "False\n"
