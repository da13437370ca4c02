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


F8E4M3 = np.array([((-1.0) ** (i >> 7)) * ((i & 7) / 8 * 2.0 ** -6 if (i >> 3) & 15 == 0 else (1 + (i & 7) / 8) * 2.0 ** (((i >> 3) & 15) - 7))
                   for i in range(256)], dtype=np.float64)


def load_deepseek_weights(folder: Path, block=(128, 128)) -> dict[str, np.ndarray]:
    """Like load_safetensors, with F8_E4M3 weights dequantized by their `_scale_inv` block scales."""
    out = {}
    for f in sorted(folder.glob("*.safetensors")):
        raw = f.read_bytes()
        n = struct.unpack("<Q", raw[:8])[0]
        header = json.loads(raw[8:8 + n])
        for name, info in header.items():
            if name == "__metadata__":
                continue
            a, b = info["data_offsets"]
            buf = raw[8 + n + a: 8 + n + b]
            dt = info["dtype"]
            if dt == "F8_E4M3":
                arr = F8E4M3[np.frombuffer(buf, dtype=np.uint8)]
            elif dt == "BF16":
                arr = (np.frombuffer(buf, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32).astype(np.float64)
            elif dt == "F32":
                arr = np.frombuffer(buf, dtype=np.float32).astype(np.float64)
            else:
                raise ValueError(dt)
            out[name] = arr.reshape(info["shape"])
    for name in [k for k in out if k.endswith("_scale_inv")]:
        w = out[name[: -len("_scale_inv")]]
        s = np.repeat(np.repeat(out.pop(name), block[0], axis=0), block[1], axis=1)[: w.shape[0], : w.shape[1]]
        out[name[: -len("_scale_inv")]] = w * s
    return out


def apply_rope_interleaved(x, positions, inv, scale=1.0):
    """RoPE on interleaved pairs (2i, 2i+1), which is what DeepSeek's de-interleave + rotate-half amounts to."""
    ang = positions[:, None] * inv[None, :]
    cos, sin = (np.cos(ang) * scale)[:, None, :], (np.sin(ang) * scale)[:, None, :]
    even, odd = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = even * cos - odd * sin
    out[..., 1::2] = even * sin + odd * cos
    return out


def deepseek_next_token_logprobs(folder: Path, tokens: list[int]) -> np.ndarray:
    """DeepSeek V2/V3 as in transformers: MLA (optional q LoRA), YaRN with mscale, MoE with greedy softmax
    or group-limited sigmoid routing and shared experts, dense first layers; MTP layers are not used."""
    cfg = json.loads((folder / "config.json").read_text())
    q = cfg.get("quantization_config") or {}
    w = load_deepseek_weights(folder, tuple(q.get("weight_block_size", (128, 128))))
    T = len(tokens)
    H, nope, rope, vdim = cfg["num_attention_heads"], cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"], cfg["v_head_dim"]
    kv_lora, eps = cfg["kv_lora_rank"], cfg.get("rms_norm_eps", 1e-6)
    scaling = cfg.get("rope_scaling") or {}
    yarn_cfg = {"rope_theta": cfg.get("rope_theta", 10000.0), "max_position_embeddings": cfg["max_position_embeddings"],
                "rope_scaling": {k: v for k, v in scaling.items() if k not in ("mscale", "mscale_all_dim")}}
    inv, _ = rope_frequencies(yarn_cfg, rope)

    def get_mscale(scale, m=1.0):
        return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0

    cos_scale, softmax_scale = 1.0, (nope + rope) ** -0.5
    if scaling:
        cos_scale = get_mscale(scaling["factor"], scaling.get("mscale", 1)) / get_mscale(scaling["factor"], scaling.get("mscale_all_dim", 1))
        if scaling.get("mscale_all_dim"):
            softmax_scale *= get_mscale(scaling["factor"], scaling["mscale_all_dim"]) ** 2
    pos = np.arange(T, dtype=np.float64)

    def mlp(h, p):
        g, u = h @ w[p + "gate_proj.weight"].T, h @ w[p + "up_proj.weight"].T
        return ((g / (1 + np.exp(-g))) * u) @ w[p + "down_proj.weight"].T

    x = w["model.embed_tokens.weight"][tokens]
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        if cfg.get("q_lora_rank"):
            qa = rms_norm(h @ w[p + "self_attn.q_a_proj.weight"].T, w[p + "self_attn.q_a_layernorm.weight"], eps)
            qf = qa @ w[p + "self_attn.q_b_proj.weight"].T
        else:
            qf = h @ w[p + "self_attn.q_proj.weight"].T
        qf = qf.reshape(T, H, nope + rope)
        q_nope, q_pe = qf[..., :nope], qf[..., nope:]
        kva = h @ w[p + "self_attn.kv_a_proj_with_mqa.weight"].T
        ckv, k_pe = kva[:, :kv_lora], kva[:, kv_lora:].reshape(T, 1, rope)
        kv = (rms_norm(ckv, w[p + "self_attn.kv_a_layernorm.weight"], eps) @ w[p + "self_attn.kv_b_proj.weight"].T).reshape(T, H, nope + vdim)
        k_nope, value = kv[..., :nope], kv[..., nope:]
        q_pe = apply_rope_interleaved(q_pe, pos, inv, cos_scale)
        k_pe = apply_rope_interleaved(k_pe, pos, inv, cos_scale)
        mask = np.triu(np.full((T, T), -np.inf), 1)
        out = np.zeros((T, H, vdim))
        for hd in range(H):
            s = (q_nope[:, hd] @ k_nope[:, hd].T + q_pe[:, hd] @ k_pe[:, 0].T) * softmax_scale + mask
            s = np.exp(s - s.max(axis=-1, keepdims=True))
            out[:, hd] = (s / s.sum(axis=-1, keepdims=True)) @ value[:, hd]
        x = x + out.reshape(T, H * vdim) @ w[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        if p + "mlp.gate.weight" not in w:
            x = x + mlp(h, p + "mlp.")
            continue
        n_exp, k = cfg["n_routed_experts"], cfg["num_experts_per_tok"]
        logits = h @ w[p + "mlp.gate.weight"].T
        if cfg.get("scoring_func", "softmax") == "sigmoid":
            scores = 1 / (1 + np.exp(-logits))
        else:
            scores = np.exp(logits - logits.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
        choice = scores + w.get(p + "mlp.gate.e_score_correction_bias", np.zeros(n_exp))
        if cfg.get("topk_method") == "noaux_tc":
            groups = cfg["n_group"]
            grouped = choice.reshape(T, groups, n_exp // groups)
            group_scores = np.sort(grouped, axis=-1)[..., -2:].sum(-1)
            keep = np.argsort(-group_scores, axis=-1, kind="stable")[:, : cfg["topk_group"]]
            gmask = np.zeros((T, groups), dtype=bool)
            np.put_along_axis(gmask, keep, True, axis=1)
            choice = np.where(np.repeat(gmask, n_exp // groups, axis=1), choice, 0.0)
        top = np.argsort(-choice, axis=-1, kind="stable")[:, :k]
        weights = np.take_along_axis(scores, top, axis=1)
        if cfg.get("norm_topk_prob"):
            weights = weights / (weights.sum(-1, keepdims=True) + 1e-20)
        weights = weights * cfg.get("routed_scaling_factor", 1.0)
        moe = np.zeros_like(x)
        for t in range(T):
            for j in range(k):
                moe[t] += weights[t, j] * mlp(h[t:t + 1], p + f"mlp.experts.{top[t, j]}.")[0]
        x = x + moe + mlp(h, p + "mlp.shared_experts.")
    x = rms_norm(x, w["model.norm.weight"], eps)
    logits = x[-1] @ w["lm_head.weight"].T
    logits -= logits.max()
    return logits - np.log(np.exp(logits).sum())
