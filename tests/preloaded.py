"""A Python interpreter with gan_zoo already imported that forks one child per command.

Importing Lightning (and through it torchmetrics, torchvision and torch._dynamo) takes 6–9 s on a
2-core CPU; the manual's pages run dozens of ``gan-zoo`` commands and Python blocks, so most of their
test time would be that import. The server pays it once; each command is a ``fork()`` of it that takes
the caller's stdin/stdout/stderr (passed over a Unix socket), working directory, environment and
arguments, runs ``gan_zoo.cli.main`` or the Python code, and reports its exit status.

    python tests/preloaded.py serve SOCKET          # the server (``Preloaded`` starts it)
    python tests/preloaded.py run SOCKET ARGS...    # ``gan-zoo ARGS`` in it
    python tests/preloaded.py run SOCKET -c CODE    # ``python -c CODE`` in it

What a fresh process reads at start-up is the server's: the tests start it with the environment the
commands run in (``PYTHONWARNINGS``, ``OMP_NUM_THREADS``). Output a user sees from a real process is
tested by tests/test_quiet.py, which starts real processes.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import struct
import subprocess
import sys
import time
from pathlib import Path

#: The environment variable the ``gan-zoo`` shim reads the server's socket from.
SOCKET_ENV = "GAN_ZOO_PRELOADED"
#: A request: JSON of argv, cwd and environment, with the caller's three standard streams attached.
MAX_REQUEST = 1 << 20


def request(path: str, argv: list[str]) -> int:
    """Run ``argv`` in a child of the server at ``path`` with this process's streams; its exit status."""
    message = json.dumps({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as connection:
        connection.connect(path)
        socket.send_fds(connection, [message], [0, 1, 2])
        status = connection.recv(4)
    return struct.unpack("i", status)[0] if len(status) == 4 else 1  # no status: the child died


def serve(path: str) -> None:
    """Import gan_zoo, then fork a child per connection on ``path``, forever."""
    import pytorch_lightning  # noqa: F401

    import gan_zoo.cli  # noqa: F401  the import every command would pay

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as listener:
        listener.bind(path + ".tmp")
        listener.listen()
        os.rename(path + ".tmp", path)  # the socket appears once the imports are done
        while True:
            connection, _ = listener.accept()
            if os.fork() == 0:
                listener.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the command may wait for its own children
                _child(connection)
            connection.close()


def _child(connection: socket.socket) -> None:
    """Become the caller's command: its streams, directory and environment; report the status, exit."""
    message, fds, _, _ = socket.recv_fds(connection, MAX_REQUEST, 3)
    job = json.loads(message)
    for fd, standard in zip(fds, (0, 1, 2), strict=True):
        os.dup2(fd, standard)
        os.close(fd)
    os.chdir(job["cwd"])
    os.environ.clear()
    os.environ.update(job["env"])
    status = _run(job["argv"])
    connection.send(struct.pack("i", status))
    os._exit(status)


def _run(argv: list[str]) -> int:
    """``gan-zoo argv`` or ``python -c CODE``, as the interpreter would end it: its exit status."""
    import atexit
    import traceback

    import torch

    if os.environ.get("OMP_NUM_THREADS"):  # read by torch when a fresh process starts; this one forked
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    try:
        if argv[:1] == ["-c"]:
            sys.argv = ["-c", *argv[2:]]
            exec(compile(argv[1], "<string>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
        else:
            from gan_zoo.cli import main

            sys.argv = ["gan-zoo", *argv]
            main()
        status = 0
    except SystemExit as stop:
        if stop.code is None or isinstance(stop.code, int):
            status = stop.code or 0
        else:
            print(stop.code, file=sys.stderr)
            status = 1
    except BaseException:
        traceback.print_exc()
        status = 1
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    return status


class Preloaded:
    """The server as a context manager, with a ``bin`` directory whose ``gan-zoo`` runs in it.

    Put :attr:`bin` first on a command's ``PATH`` and :attr:`env` in its environment; run Python code with
    :meth:`python_command`.
    """

    def __init__(self, directory: Path, env: dict[str, str]) -> None:
        self.socket = str(directory / "server.sock")
        self.bin = directory / "bin"
        self.log = directory / "server.log"
        self._server_env = env
        self._process: subprocess.Popen | None = None

    @property
    def env(self) -> dict[str, str]:
        return {SOCKET_ENV: self.socket}

    def python_command(self, code: str) -> list[str]:
        return [sys.executable, __file__, "run", self.socket, "-c", code]

    def __enter__(self) -> Preloaded:
        self.bin.mkdir(parents=True, exist_ok=True)
        shim = self.bin / "gan-zoo"
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{__file__}" run "${SOCKET_ENV}" "$@"\n')
        shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
        with open(self.log, "w") as log:
            self._process = subprocess.Popen(
                [sys.executable, __file__, "serve", self.socket], env=self._server_env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + 300
        while not os.path.exists(self.socket):
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the preloaded server did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)
        return self

    def __exit__(self, *exc) -> None:
        self._process.terminate()
        self._process.wait(timeout=30)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2])
    else:
        sys.exit(request(sys.argv[2], sys.argv[3:]))
