"""The few ggml functions the activation capture needs, declared with ctypes against the bundled libggml.

llama-cpp-python binds the eval callback type (`ggml_backend_sched_eval_callback`)
but not tensor access. A tensor is read through its name, its shape (the leading
fields of `struct ggml_tensor`, stable across ggml versions: type, buffer, ne[4],
nb[4]) and `ggml_backend_tensor_get`, which copies from whatever buffer holds it.
"""

from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Any

GGML_TYPE_F32 = 0


class TensorHead(ctypes.Structure):
    """The first fields of `struct ggml_tensor`."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("buffer", ctypes.c_void_p),
        ("ne", ctypes.c_int64 * 4),
        ("nb", ctypes.c_size_t * 4),
    ]


# (tensor, data, offset, size): the copy goes into or out of the tensor's buffer.
_COPY = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t]
_FUNCTIONS: dict[str, tuple[list[Any], Any]] = {
    "ggml_get_name": ([ctypes.c_void_p], ctypes.c_char_p),
    "ggml_backend_tensor_get": (_COPY, None),
    "ggml_backend_tensor_set": (_COPY, None),
}
"""The functions used, with their argument and result types."""

_LIB: Any = None


def ggml() -> Any:
    """libggml-base from llama-cpp-python's wheel, with the functions declared."""
    global _LIB
    if _LIB is None:
        import llama_cpp

        folder = Path(llama_cpp.__file__).parent / "lib"
        names = sorted(folder.glob("libggml-base.*")) or sorted(folder.glob("ggml-base.*"))
        if not names:
            raise OSError(f"libggml-base not found in {folder}")
        lib = ctypes.CDLL(str(names[0]))
        for name, (argtypes, restype) in _FUNCTIONS.items():
            getattr(lib, name).argtypes = argtypes
            getattr(lib, name).restype = restype
        _LIB = lib
    return _LIB


def tensor_name(tensor: int) -> str:
    return ggml().ggml_get_name(tensor).decode("utf-8", errors="replace")


def tensor_head(tensor: int) -> TensorHead:
    return TensorHead.from_address(tensor)


def copy_row(tensor: int, row: int, into: Any) -> None:
    """Copy row `row` (ne[0] float32 values) of a 2-D F32 tensor into the ctypes buffer `into`."""
    head = tensor_head(tensor)
    ggml().ggml_backend_tensor_get(tensor, ctypes.addressof(into), row * head.nb[1], head.ne[0] * 4)


def write_row(tensor: int, row: int, values: Any) -> None:
    """Write the ctypes buffer `values` (ne[0] float32) back as row `row` of a 2-D F32 tensor."""
    head = tensor_head(tensor)
    ggml().ggml_backend_tensor_set(
        tensor, ctypes.addressof(values), row * head.nb[1], head.ne[0] * 4
    )
