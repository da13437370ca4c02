#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (Fuzz/corpus/<Target>/) and dictionaries (Fuzz/dict/<Target>.dict).

Seeds are small valid inputs built the way the unit tests and fixtures build them (Tests/DSM*Tests,
Tests/Fixtures/make_test_repos.py): a few KB per target, so libFuzzer starts from inputs that reach deep into each
parser. Run again after changing a format; the output is committed. Standard library only.
"""
import hashlib, io, json, os, struct, tarfile

ROOT = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(ROOT, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def dictionary(target, tokens):
    os.makedirs(os.path.join(ROOT, "dict"), exist_ok=True)
    with open(os.path.join(ROOT, "dict", target + ".dict"), "w") as f:
        for t in tokens:
            b = t if isinstance(t, bytes) else t.encode()
            f.write('"' + "".join(chr(c) if 0x20 <= c < 0x7F and c not in (0x22, 0x5C) else "\\x%02X" % c for c in b) + '"\n')


JSON_TOKENS = ["{", "}", "[", "]", ":", ",", '"', "\\u", "\\ud83d\\ude00", "true", "false", "null", "-0", "1e400",
               "9223372036854775807", "9223372036854775808", "-9223372036854775808", "18446744073709551616", "0.5"]


def safetensors(tensors, metadata=None):
    header, data, off = {}, b"", 0
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(raw)]}
        data += raw
        off += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(h)) + h + data


def gguf(kvs, tensors, alignment=32):
    def s(x):
        b = x.encode()
        return struct.pack("<Q", len(b)) + b
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for key, typ, payload in kvs:
        out += s(key) + struct.pack("<I", typ) + payload
    off = 0
    for name, dims, typ, nbytes in tensors:
        out += s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", typ, off)
        off = (off + nbytes + alignment - 1) // alignment * alignment
    out += b"\0" * ((-len(out)) % alignment)
    return out + b"\xab" * off


def tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.uname, info.gname = len(data), 0o444, "dsm", "dsm"
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def main():
    # Safetensors: first byte even = a shard, odd = the index.
    f32 = struct.pack("<2f", 1.0, -2.0)
    write("FuzzSafetensors", "shard-f32", b"\0" + safetensors([("a", "F32", [2], f32)], {"format": "pt"}))
    write("FuzzSafetensors", "shard-mixed", b"\0" + safetensors(
        [("model.embed_tokens.weight", "BF16", [2, 2], b"\1" * 8), ("model.norm.weight", "F16", [2], b"\2" * 4),
         ("scale", "F8_E4M3", [1, 3], b"\3" * 3), ("ids", "I64", [1], b"\4" * 8), ("mask", "BOOL", [], b"\1")]))
    write("FuzzSafetensors", "shard-empty", b"\0" + safetensors([]))
    write("FuzzSafetensors", "index", b"\1" + json.dumps({"metadata": {"total_size": 16}, "weight_map": {
        "a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}).encode())
    dictionary("FuzzSafetensors", JSON_TOKENS + ['"dtype"', '"shape"', '"data_offsets"', '"__metadata__"', '"weight_map"',
                                                 '"F32"', '"BF16"', '"F8_E4M3"', '"BOOL"', '"U64"', "\0\0\0\0\0\0\0"])

    # GGUF v3: every value type, two tensors, an explicit alignment.
    u32 = lambda v: struct.pack("<I", v)
    u64 = lambda v: struct.pack("<Q", v)
    gstr = lambda x: u64(len(x.encode())) + x.encode()
    kvs = [("general.architecture", 8, gstr("qwen2")), ("general.alignment", 4, u32(32)), ("u8", 0, b"\xff"),
           ("i8", 1, b"\xfd"), ("u16", 2, b"\xff\xff"), ("i16", 3, b"\xfe\xff"), ("f32", 6, struct.pack("<f", 0.5)),
           ("b", 7, b"\1"), ("u64", 10, u64(1 << 40)), ("i64", 11, u64(2**64 - 1)), ("f64", 12, struct.pack("<d", 1e-300)),
           ("tokenizer.ggml.tokens", 9, u32(8) + u64(2) + gstr("a") + gstr("")), ("ints", 9, u32(5) + u64(2) + u32(1) + u32(7))]
    write("FuzzGGUF", "all-types", gguf(kvs, [("w", [8, 2], 1, 32), ("n", [3], 0, 12)]))
    write("FuzzGGUF", "quant", gguf([("general.architecture", 8, gstr("llama"))], [("q", [32], 8, 34), ("k", [256], 12, 144)]))
    write("FuzzGGUF", "empty", gguf([], []))
    dictionary("FuzzGGUF", [b"GGUF", u32(3), u32(8), u32(9), u64(0), u64(1), u64(2**63), u64(2**64 - 1), u32(2**31),
                            "general.alignment", "general.architecture", "tokenizer.ggml.tokens"])

    # Bundles: the first byte is the piece size the reader is fed in.
    sha = lambda b: hashlib.sha256(b).hexdigest()
    blob, manifest = b"hello weights\n", b'{"schema":1}\n'
    toc = {"format": "dsm-bundle", "version": 1, "created_at": "2026-01-01T00:00:00Z", "tool": "dsm 0.1",
           "names": [{"name": "demo-r1:latest", "versions": [{"number": 1, "manifest": sha(manifest), "created_at": "2026-01-01T00:00:00Z"}],
                      "stable": 1, "canary": None, "weight": 0, "tags": {"prod": 1}}],
           "entries": [{"path": "manifests/sha256-%s.json" % sha(manifest), "size": len(manifest), "sha256": sha(manifest)},
                       {"path": "blobs/sha256-" + sha(blob), "size": len(blob), "sha256": sha(blob)}]}
    tocb = json.dumps(toc, separators=(",", ":")).encode()
    archive = tar([("dsm-bundle.json", tocb[:300]), ("manifests/sha256-%s.json" % sha(manifest), manifest),
                   ("blobs/sha256-" + sha(blob), blob)])
    write("FuzzTar", "bundle-whole", b"\0" + archive)
    write("FuzzTar", "bundle-pieces-7", b"\7" + archive)
    write("FuzzTar", "empty-entry", b"\0" + tar([("blobs/sha256-" + sha(b""), b"")]))
    dictionary("FuzzTar", ["ustar\x0000", "dsm-bundle.json", "manifests/sha256-", "blobs/sha256-", ".json", "0000644\0",
                           "00000000017\0", b"\x80\0\0\0", "0" * 11])
    write("FuzzBundleTOC", "toc", tocb)
    dictionary("FuzzBundleTOC", JSON_TOKENS + ['"format"', '"dsm-bundle"', '"version"', '"entries"', '"names"', '"path"',
                                               '"size"', '"sha256"', "manifests/sha256-", "blobs/sha256-", '"' + sha(blob) + '"'])

    # Store and registry JSON: first byte 0 manifest, 1 state.json, 2 history.jsonl.
    m = {"schema": 1, "name": "hf.co/deepseek-ai/DeepSeek-R1:latest", "kind": "hf-snapshot",
         "source": {"endpoint": "https://huggingface.co", "repo": "deepseek-ai/DeepSeek-R1", "revision": "main", "commit": "a" * 40},
         "files": [{"path": "config.json", "size": 2, "sha256": sha(b"{}"), "git_oid": "b" * 40, "lfs": False},
                   {"path": "model-q4.gguf", "size": 9, "sha256": sha(blob), "lfs": True}],
         "created_at": "2026-01-01T00:00:00Z", "tool": "dsm 0.1"}
    write("FuzzState", "manifest", b"\0" + json.dumps(m, sort_keys=True, separators=(",", ":")).encode() + b"\n")
    state = {"schema": 1, "name": "demo-r1:latest", "versions": [
        {"number": 1, "manifest": sha(b"1"), "content_key": sha(b"k1"), "created_at": "2026-01-01T00:00:00Z"},
        {"number": 2, "manifest": sha(b"2"), "content_key": sha(b"k2"), "created_at": "2026-01-02T00:00:00Z"}],
        "stable": 1, "canary": 2, "weight": 10, "tags": {"prod": 1}, "previous_stables": [1], "last_number": 2, "revision": 4}
    write("FuzzState", "state", b"\1" + json.dumps(state, sort_keys=True).encode())
    summary = {"stable": 1, "canary": None, "weight": 0, "tags": {}, "versions": [1]}
    hist = {"sequence": 1, "time": "2026-01-01T00:00:00Z", "user": "root", "command": "dsm pull x", "verb": "add",
            "version": 1, "before": summary, "after": summary}
    write("FuzzState", "history", b"\2" + (json.dumps(hist) + "\n{torn").encode())
    dictionary("FuzzState", JSON_TOKENS + ['"schema"', '"files"', '"size"', '"versions"', '"number"', '"stable"',
                                           '"canary"', '"weight"', '"tags"', '"previous_stables"', '"last_number"', '"revision"', '"sequence"'])

    # Hub: first byte < 0xF0 = header lines (status from bytes 1-2), 0xF0 tree page, 0xF1 model info.
    headers = ["bytes 0-99/1000", '<https://huggingface.co/api/models/o/n/tree/main?cursor=X>; rel="next", <https://x>; rel=prev',
               "120", '"default";r=0;t=59', "GatedRepo", "Access to this resource is disabled.", 'W/"abc"', '"sha256hex"',
               "4096", "100", "/api/resolve-cache/models/o/n/abc/config.json", "a" * 40, "main", "config.json"]
    write("FuzzHub", "headers-200", b"\0\0\x64" + "\n".join(headers).encode())
    write("FuzzHub", "headers-416", b"\0\x01\x3c" + b"bytes */1000\n\n\n\nRevisionNotFound\n\n\n\n\n\n\n\nrefs/pr/1")
    tree = [{"type": "file", "oid": "c" * 40, "size": 12, "path": "model.safetensors",
             "lfs": {"oid": sha(blob), "size": 9, "pointerSize": 134}}, {"type": "directory", "oid": "d" * 40, "size": 0, "path": "sub"}]
    write("FuzzHub", "tree", b"\xf0\0\0" + json.dumps(tree).encode())
    write("FuzzHub", "model-info", b"\xf1\0\0" + json.dumps({"id": "o/n", "sha": "e" * 40, "gated": "manual", "private": False}).encode())
    dictionary("FuzzHub", ["bytes ", "*/", "-", "/", '; rel="next"', "<", ">", ";r=", ";t=", "W/", "RevisionNotFound",
                           "EntryNotFound", "GatedRepo", "RepoNotFound", "\n", "9223372036854775807", "-9223372036854775808"])

    # References and names.
    for i, r in enumerate(["deepseek-r1:7b", "hf.co/deepseek-ai/DeepSeek-V2-Lite-Chat:refs/pr/1",
                           "https://huggingface.co/deepseek-ai/DeepSeek-R1/tree/v1.0", "org/name:0123456789abcdef0123456789abcdef01234567",
                           "hf.co/deepseek-ai/DeepSeek-R1:latest@v12", "demo-r1@canary", "a/b/c/model:tag@prod-candidate", "x@stable"]):
        write("FuzzReferences", "ref-%d" % i, r)
    dictionary("FuzzReferences", ["hf.co/", "huggingface.co/", "https://", "/tree/", "/resolve/", ":", "@", "@v", "@stable",
                                  "@canary", "refs/pr/", "..", "--", ":latest"])

    # Gateway bodies and key files.
    write("FuzzRequestFields", "chat", r'{"messages":[{"role":"user","content":"a \"model\": \"fake\" {[}"}],"max_tokens":8,'
          r'"temperature":0.5e1,"tools":null,"stream":true,"model":"deepseek-r1:7b-q4_K_M","user":"al\u00efce\ud83d\ude00","extra":{"model":"no"}}')
    write("FuzzRequestFields", "small", ' { "model" : "m" } ')
    write("FuzzRequestFields", "stream-false", '{"stream":false,"model":"m"}')
    dictionary("FuzzRequestFields", JSON_TOKENS + ['"model"', '"user"', '"stream"', '"messages"'])
    write("FuzzAPIKeys", "keys", "# team keys\n\nsk-alpha-0001\n  sk-beta-0002  \nsha256:" + sha(b"sk-gamma") + "\n")
    write("FuzzAPIKeys", "headers", "Bearer sk-alpha-0001\nsk-alpha-0001\n")
    dictionary("FuzzAPIKeys", ["sha256:", "#", "\r\n", "Bearer ", "bearer ", sha(b"x")])


if __name__ == "__main__":
    main()
