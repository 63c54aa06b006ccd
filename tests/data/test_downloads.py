"""Offline, or with a bad download, ``gan-zoo fit`` on a dataset that downloads stops with one line.

Every host but 127.0.0.1 is made unreachable (``offline_gan_zoo.py``), so the outcome does not depend
on whether this machine has a network. Two tests run the whole command in a subprocess; the other data
sets run the same command in this process (a subprocess costs ~10 s of imports).
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import offline_gan_zoo
import pytest
import torchvision

from gan_zoo.cli import main
from gan_zoo.data import DatasetNotFoundError
from gan_zoo.errors import DEBUG_ENV, describe

REPO = Path(__file__).resolve().parents[2]
WRAPPER = Path(__file__).with_name("offline_gan_zoo.py")
MNIST_FILES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]


def gan_zoo_fit(config: str, data_dir: Path, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    command = [
        sys.executable, str(WRAPPER), "fit", "--config", str(REPO / "experiments" / config),
        "--data.data_dir", str(data_dir), "--trainer.max_epochs", "1",
    ]  # fmt: skip
    environment = {key: value for key, value in os.environ.items() if key != DEBUG_ENV}
    environment.update(PYTHONPATH=str(REPO), **env)
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=300)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The command's error: exit code 2, one ``gan-zoo: error:`` line, last on stderr, no traceback."""
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert [line for line in lines if line.startswith("gan-zoo: error:")] == lines[-1:], result.stderr
    return lines[-1].removeprefix("gan-zoo: error: ")


def offline_message(dataset: str, files: list[str], target: Path) -> str:
    return f"put {', '.join(files)} in {target} and set download: false (CLI: --data.download false)."


def test_offline_fashion_mnist_yaml_stops_with_one_line_that_says_where_to_put_the_files(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    message = one_error_line(gan_zoo_fit("dcgan/fashion_mnist.yaml", data_dir, tmp_path))
    assert message.startswith("Fashion-MNIST: could not download train-images-idx3-ubyte.gz (http")
    assert "Name or service not known" in message  # the cause, inside the project's own message
    assert message.endswith(offline_message("Fashion-MNIST", MNIST_FILES, data_dir / "FashionMNIST" / "raw"))
    assert list(data_dir.iterdir()) == []  # nothing written: no folder, no partial file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # no runs/


OFFLINE = [  # (experiment, data set, the files to put by hand, where below data_dir)
    ("dcgan/mnist.yaml", "MNIST", MNIST_FILES, "MNIST/raw"),
    ("dcgan/cifar10.yaml", "CIFAR-10", ["cifar-10-python.tar.gz"], ""),
    (
        "dcgan/stanford_dogs.yaml",
        "Stanford Dogs",
        ["images.tar", "lists.tar", "annotation.tar"],
        "StanfordDogs",
    ),
]


@pytest.mark.parametrize(("config", "dataset", "files", "folder"), OFFLINE, ids=[o[0] for o in OFFLINE])
def test_every_downloading_dataset_stops_offline_with_one_line(
    config, dataset, files, folder, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(socket, "getaddrinfo", offline_gan_zoo.offline_getaddrinfo)
    monkeypatch.delenv(DEBUG_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    args = ["fit", "--config", str(REPO / "experiments" / config), "--data.data_dir", str(data_dir)]
    with pytest.raises(SystemExit) as exit_:
        main([*args, "--trainer.max_epochs", "1", "--trainer.enable_progress_bar", "false"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("gan-zoo: error: ")]
    assert len(errors) == 1, err
    message = errors[0].removeprefix("gan-zoo: error: ")
    assert message.startswith(f"{dataset}: could not download {files[0]} (")
    assert message.endswith(offline_message(dataset, files, data_dir / folder))
    assert list(data_dir.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_debug_variable_keeps_the_traceback(tmp_path, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", offline_gan_zoo.offline_getaddrinfo)
    monkeypatch.setenv(DEBUG_ENV, "1")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatasetNotFoundError, match="MNIST: could not download"):  # the exception itself
        main(
            ["fit", "--config", str(REPO / "experiments" / "dcgan" / "mnist.yaml"), "--data.data_dir", "data"]
        )


@pytest.fixture
def mirror(tmp_path):
    """A local HTTP server whose MNIST files are not the official ones (the md5 sums differ)."""
    served = tmp_path / "served"
    served.mkdir()
    for name in MNIST_FILES:
        (served / name).write_bytes(b"not the official " + name.encode())
    handler = functools.partial(QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", served
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # the test's output is not the place for access logs
        pass


def test_a_download_with_the_wrong_md5_is_named_with_the_expected_checksum_and_deleted(mirror, tmp_path):
    url, served = mirror
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    message = one_error_line(gan_zoo_fit("dcgan/mnist.yaml", data_dir, tmp_path, GAN_ZOO_TEST_MIRROR=url))
    name, expected = torchvision.datasets.MNIST.resources[0]
    got = hashlib.md5((served / name).read_bytes()).hexdigest()
    assert message.startswith(f"MNIST: the download of {name} failed its check, deleted (")
    assert f"{url}{name}: corrupt, md5 {got}, expected {expected}" in message
    assert list(data_dir.iterdir()) == []  # the bad file is not left in place


def raised(exc: BaseException, cause: BaseException | None = None) -> BaseException:
    try:
        raise exc from cause
    except BaseException as error:
        return error


def test_the_formatter_shows_the_projects_message_not_the_oserror_under_it():
    offline = raised(OSError(-2, "Name or service not known"))
    own = raised(DatasetNotFoundError("MNIST: could not download x. Without a network, put x in d"), offline)
    assert describe(own) == "MNIST: could not download x. Without a network, put x in d"
    # Under someone else's exception too (the outermost of the project's own wins, not the innermost cause).
    assert describe(raised(RuntimeError("worker failed"), own)) == describe(own)
    assert (
        describe(raised(RuntimeError("worker failed"), offline)) is None
    )  # a bare OSError under a bug: a bug
