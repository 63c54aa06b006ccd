"""``python -m gan_zoo`` as on a machine without a network and without Debian's Fashion-MNIST package.

Every host name but ``127.0.0.1`` fails to resolve, as offline ("[Errno -2] Name or service not
known"), whether or not this machine has a network. With ``GAN_ZOO_TEST_MIRROR=http://127.0.0.1:PORT/``
the MNIST family is downloaded from there instead of torchvision's mirrors.

    python tests/data/offline_gan_zoo.py fit --config experiments/dcgan/mnist.yaml ...
"""

from __future__ import annotations

import os
import socket
import sys

_resolve = socket.getaddrinfo


def offline_getaddrinfo(host, *args, **kwargs):
    """``socket.getaddrinfo`` without a network: only 127.0.0.1 resolves."""
    if host != "127.0.0.1":
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return _resolve(host, *args, **kwargs)


def main() -> None:
    import torchvision

    from gan_zoo.cli import main as gan_zoo
    from gan_zoo.data import FashionMNIST

    socket.getaddrinfo = offline_getaddrinfo
    FashionMNIST.system_dirs = ()
    if mirror := os.environ.get("GAN_ZOO_TEST_MIRROR"):
        torchvision.datasets.MNIST.mirrors = torchvision.datasets.FashionMNIST.mirrors = [mirror]
    sys.argv[0] = "gan-zoo"
    gan_zoo()


if __name__ == "__main__":
    main()
