"""A plain numpy forward pass of the dense decoders dsm converts (Qwen2, Qwen3, Llama), computed from the
safetensors checkpoint itself in float64, as the reference for llama.cpp's logits on dsm's GGUF files.
Follows the Hugging Face modeling code: RMSNorm, rotate-half RoPE (with Llama 3 frequency scaling),
grouped-query causal attention, SwiGLU MLP."""
from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import numpy as np


def load_safetensors(folder: Path) -> dict[str, np.ndarray]:
    files = sorted(folder.glob("*.safetensors"))
    out = {}
    for f in files:
        raw = f.read_bytes()
        n = struct.unpack("<Q", raw[:8])[0]
        header = json.loads(raw[8:8 + n])
        base = 8 + n
        for name, info in header.items():
            if name == "__metadata__":
                continue
            a, b = info["data_offsets"]
            buf = raw[base + a: base + b]
            if info["dtype"] == "BF16":
                arr = (np.frombuffer(buf, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
            elif info["dtype"] == "F16":
                arr = np.frombuffer(buf, dtype=np.float16).astype(np.float32)
            elif info["dtype"] == "F32":
                arr = np.frombuffer(buf, dtype=np.float32)
            else:
                raise ValueError(f"reference forward does not handle {info['dtype']}")
            out[name] = arr.reshape(info["shape"]).astype(np.float64)
    return out


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rope_frequencies(cfg: dict, head_dim: int) -> tuple[np.ndarray, float]:
    """Inverse frequencies and the cos/sin scale (YaRN's attention factor), as transformers computes them."""
    base = float(cfg.get("rope_theta", 10000.0))
    inv = 1.0 / base ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    scaling = cfg.get("rope_scaling") or {}
    if (scaling.get("rope_type") or scaling.get("type")) == "yarn":
        factor = scaling["factor"]
        orig = scaling.get("original_max_position_embeddings") or cfg["max_position_embeddings"]
        beta_fast, beta_slow = scaling.get("beta_fast") or 32, scaling.get("beta_slow") or 1

        def corr_dim(rotations):
            return head_dim * math.log(orig / (rotations * 2 * math.pi)) / (2 * math.log(base))

        low, high = max(math.floor(corr_dim(beta_fast)), 0), min(math.ceil(corr_dim(beta_slow)), head_dim - 1)
        if low == high:
            high += 0.001
        ramp = np.clip((np.arange(head_dim // 2, dtype=np.float64) - low) / (high - low), 0, 1)
        extrapolation = 1 - ramp
        inv = (inv / factor) * (1 - extrapolation) + inv * extrapolation
        # transformers reads "attention_factor" only (DeepSeek's "attn_factor" is not used); llama.cpp agrees
        attention = scaling.get("attention_factor") or (0.1 * math.log(factor) + 1.0 if factor > 1 else 1.0)
        return inv, attention
    if (scaling.get("rope_type") or scaling.get("type")) == "llama3":
        factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
        old = scaling["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv
        smooth = (old / wavelen - low) / (high - low)
        scaled = np.where(wavelen > old / low, inv / factor, inv)
        mid = (wavelen <= old / low) & (wavelen >= old / high)
        inv = np.where(mid, (1 - smooth) * inv / factor + smooth * inv, scaled)
    return inv, 1.0


def apply_rope(x, positions, inv, scale=1.0):
    # x: [tokens, heads, head_dim]; rotate-half layout
    ang = positions[:, None] * inv[None, :]
    cos = np.concatenate([np.cos(ang)] * 2, axis=-1)[:, None, :] * scale
    sin = np.concatenate([np.sin(ang)] * 2, axis=-1)[:, None, :] * scale
    half = x.shape[-1] // 2
    rot = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
    return x * cos + rot * sin


def next_token_logprobs(folder: Path, tokens: list[int]) -> np.ndarray:
    cfg = json.loads((folder / "config.json").read_text())
    w = load_safetensors(folder)
    n_head, n_kv = cfg["num_attention_heads"], cfg.get("num_key_value_heads", cfg["num_attention_heads"])
    hidden = cfg["hidden_size"]
    head_dim = cfg.get("head_dim") or hidden // n_head
    eps = cfg.get("rms_norm_eps", 1e-6)
    inv, rope_scale = rope_frequencies(cfg, head_dim)
    pos = np.arange(len(tokens), dtype=np.float64)
    x = w["model.embed_tokens.weight"][tokens]
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)

        def proj(name):
            y = h @ w[p + f"self_attn.{name}.weight"].T
            bias = w.get(p + f"self_attn.{name}.bias")
            return y + bias if bias is not None else y

        q = proj("q_proj").reshape(len(tokens), n_head, head_dim)
        k = proj("k_proj").reshape(len(tokens), n_kv, head_dim)
        v = proj("v_proj").reshape(len(tokens), n_kv, head_dim)
        if p + "self_attn.q_norm.weight" in w:  # Qwen3
            q = rms_norm(q, w[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, w[p + "self_attn.k_norm.weight"], eps)
        q, k = apply_rope(q, pos, inv, rope_scale), apply_rope(k, pos, inv, rope_scale)
        group = n_head // n_kv
        out = np.zeros_like(q)
        mask = np.triu(np.full((len(tokens), len(tokens)), -np.inf), 1)
        for hd in range(n_head):
            kv = hd // group
            scores = q[:, hd, :] @ k[:, kv, :].T / math.sqrt(head_dim) + mask
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            out[:, hd, :] = scores @ v[:, kv, :]
        x = x + out.reshape(len(tokens), n_head * head_dim) @ w[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = h @ w[p + "mlp.gate_proj.weight"].T
        up = h @ w[p + "mlp.up_proj.weight"].T
        x = x + ((gate / (1 + np.exp(-gate))) * up) @ w[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    logits = x[-1] @ head.T
    logits -= logits.max()
    return logits - np.log(np.exp(logits).sum())
