"""Reading and writing the IDX format of the MNIST family (LeCun et al.), plain or gzipped.

Not torchvision's reader (``torchvision.datasets.mnist.read_image_file``): as of torchvision 0.29 it
opens the file with a plain ``open``, so it cannot read the gzipped files that Debian's
``dataset-fashion-mnist`` installs and that the official mirrors serve (torchvision's own download
unpacks them next to the archives, doubling the disk used), and a truncated download fails in an
``assert`` or a tensor ``view`` instead of saying so. ``tests/data/test_mnist.py`` checks that both
readers agree on the uncompressed files.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CODES = {np.dtype(np.uint8): 0x08}


def read_idx(path: str | Path) -> Tensor:
    """The tensor stored in an IDX file (``.gz`` is decompressed on the fly).

    Raises:
        ValueError: the file is not IDX, or is shorter than its header says (a truncated download).
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _DTYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number)")
    dtype, ndim = np.dtype(_DTYPES[data[2]]), data[3]
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    expected = int(np.prod(shape)) * dtype.itemsize
    body = data[4 + 4 * ndim :]
    if len(body) != expected:
        raise ValueError(
            f"{path} is truncated or corrupt: header says {shape}, {expected} bytes; found {len(body)}"
        )
    return torch.from_numpy(np.frombuffer(body, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("=")))


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write a uint8 array as IDX (gzipped when the name ends in ``.gz``); used to make test fixtures."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, _CODES[array.dtype], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as f:
        f.write(header + array.tobytes())
