"""numpy arrays as .npy files (never pickled object arrays).

The array's memory goes to the store as it is and comes back with readinto, with no
intermediate copies: numpy.save and numpy.load copy in chunks whenever the file is not a
plain OS file, which an artifact store's file never is.
"""

from __future__ import annotations

from typing import Any

from holdall.errors import HoldallError
from holdall.materializers.base import BaseMaterializer


def _write_header(handle: Any, array: Any) -> None:
    from numpy.lib import format as npy

    header = npy.header_data_from_array_1_0(array)
    try:
        npy.write_array_header_1_0(handle, header)
    except ValueError:  # a header too long for format 1.0 (very many dimensions)
        npy.write_array_header_2_0(handle, header)


def _read_header(handle: Any) -> tuple[tuple[int, ...], bool, Any]:
    from numpy.lib import format as npy

    major, _minor = npy.read_magic(handle)
    read = npy.read_array_header_1_0 if major == 1 else npy.read_array_header_2_0
    shape, fortran_order, dtype = read(handle)
    return shape, fortran_order, dtype


def _fill(handle: Any, buffer: memoryview) -> None:
    filled = 0
    while filled < len(buffer):
        count = handle.readinto(buffer[filled:])
        if not count:
            raise HoldallError(f"the .npy data ends {len(buffer) - filled} bytes short")
        filled += count


class NumpyMaterializer(BaseMaterializer):
    SKIP_REGISTRATION = True  # built in: chosen after what users register
    ASSOCIATED_TYPES = ("numpy.ndarray",)
    FILE = "data.npy"

    @classmethod
    def can_save(cls, data: Any) -> bool:
        return not data.dtype.hasobject

    def save(self, data: Any) -> None:
        import numpy

        array = data if data.flags.c_contiguous else numpy.ascontiguousarray(data)
        with self.artifact_store.open(self.path(self.FILE), "wb") as handle:
            _write_header(handle, array)
            if array.nbytes:
                # read-only: the store may keep hashing it after write returns
                handle.write(array.reshape(-1).data.cast("B").toreadonly())

    def load(self, data_type: type) -> Any:
        import numpy

        with self.artifact_store.open(self.path(self.FILE), "rb") as handle:
            shape, fortran_order, dtype = _read_header(handle)
            if dtype.hasobject:
                raise HoldallError("refusing to load a numpy array of Python objects")
            count = int(numpy.prod(shape, dtype=numpy.int64))
            raw = numpy.empty(count * dtype.itemsize, dtype=numpy.uint8)
            _fill(handle, raw.data)
            handle.read()  # reach the end, so the checksum is taken in this one pass
        flat = raw.view(dtype)
        if fortran_order:
            return flat.reshape(shape[::-1]).transpose()
        return flat.reshape(shape)
