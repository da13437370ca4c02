#!/usr/bin/env python3
"""Validate dsm catalog files (schema 1). Standard library only.

Usage:
    python3 registry/check.py              # every *.json next to this script
    python3 registry/check.py DIR|FILE ... # the given folders (their *.json) and files

Exit status: 0 when every file is valid, 1 when any error was found, 2 on bad usage.
Warnings (printed, not fatal) flag values that look inconsistent but may be deliberate.
The format is described in docs/catalog.md.
"""

import json
import math
import os
import re
import sys

SUPPORTED_SCHEMA = 1

# Same grammar as Sources/DSMHub/ModelReference.swift (CatalogName).
FAMILY_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}$")
# Hugging Face repo id part, as in Sources/DSMHub/RepoID.swift.
REPO_PART_RE = re.compile(r"^[A-Za-z0-9_.-]{1,96}$")
# Ollama reference: model[:tag]; tags there may contain upper case (q4_K_M).
OLLAMA_RE = re.compile(r"^[a-z0-9][a-z0-9._/-]*:[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

SOURCE_DTYPES = {"BF16", "F16", "F32", "F8_E4M3"}
QUANT_TYPES = {
    "F32", "F16", "BF16", "Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q5_0", "Q5_1",
    "Q4_K_M", "Q4_K_S", "Q4_0", "Q4_1", "Q3_K_L", "Q3_K_M", "Q3_K_S", "Q2_K",
}

# The reference hardware table (docs/catalog.md, "Hardware classes").
HARDWARE = {
    "1.5B": dict(cpu_cores=4, ram_gb=8, gpu_vram_gb=4, gpu_count=1, disk_gb=20),
    "7B": dict(cpu_cores=8, ram_gb=16, gpu_vram_gb=8, gpu_count=1, disk_gb=50),
    "14B": dict(cpu_cores=12, ram_gb=32, gpu_vram_gb=24, gpu_count=1, disk_gb=100),
    "32B": dict(cpu_cores=16, ram_gb=64, gpu_vram_gb=40, gpu_count=1, disk_gb=200),
    "70B": dict(cpu_cores=32, ram_gb=128, gpu_vram_gb=80, gpu_count=2, disk_gb=500),
    "671B": dict(cpu_cores=64, ram_gb=512, gpu_vram_gb=80, gpu_count=8, disk_gb=2048),
}
CLASS_SIZES = [("1.5B", 1.5e9), ("7B", 7e9), ("14B", 14e9), ("32B", 32e9), ("70B", 70e9), ("671B", 671e9)]

TOP_FIELDS = {
    "schema": "int", "family": "str", "title": "str", "description": "str",
    "default_tag": "str", "aliases": "object", "tags": "object",
}
TAG_FIELDS = {
    "repo": "str", "revision": "str", "architecture": "str", "base_model": "str|null",
    "parameters": "int", "active_parameters": "int|null", "source_dtype": "str",
    "download_bytes": "int", "context_length": "int", "shape": "object|null", "default_quantization": "str",
    "convertible": "bool", "hardware": "object", "ollama_tag": "str|null", "notes": "str",
}
SHAPE_FIELDS = {
    "layers": "int", "hidden_size": "int", "vocab_size": "int", "attention": "str",
    "kv_heads": "int|null", "head_dim": "int|null", "kv_lora_rank": "int|null", "rope_dim": "int|null",
}
HARDWARE_FIELDS = {
    "params_class": "str", "cpu_cores": "int", "ram_gb": "int", "gpu_vram_gb": "int",
    "gpu_example": "str", "gpu_count": "int", "disk_gb": "int",
}


def type_ok(value, spec):
    for kind in spec.split("|"):
        if kind == "null" and value is None:
            return True
        if kind == "str" and isinstance(value, str):
            return True
        if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
            return True
        if kind == "bool" and isinstance(value, bool):
            return True
        if kind == "object" and isinstance(value, dict):
            return True
    return False


def describe(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean %s" % json.dumps(value)
    if isinstance(value, (int, float)):
        return "number %s" % json.dumps(value)
    if isinstance(value, str):
        return "string %s" % json.dumps(value)
    if isinstance(value, list):
        return "array"
    return "object"


def valid_repo(text):
    parts = text.split("/")
    if len(parts) != 2:
        return False
    for part in parts:
        if not REPO_PART_RE.match(part):
            return False
        if part[0] in "-." or part[-1] in "-." or "--" in part or ".." in part:
            return False
    return True


def valid_revision(text):
    # Git ref-name rules, simplified, as in Sources/DSMHub/RepoID.swift (Revision.isValid).
    if not text or len(text) > 256 or text.startswith(("/", "-")) or text.endswith("/"):
        return False
    if ".." in text or "//" in text:
        return False
    return all(ord(c) > 0x20 and ord(c) != 0x7F and c not in "~^:?*[\\" for c in text)


def nearest_class(params):
    """Log-scale nearest reference class: boundaries at the geometric means of neighbours."""
    for (name, size), (_, next_size) in zip(CLASS_SIZES, CLASS_SIZES[1:]):
        if params <= math.sqrt(size * next_size):
            return name
    return CLASS_SIZES[-1][0]


class Report:
    def __init__(self):
        self.errors = []
        self.warnings = []

    def error(self, where, message):
        self.errors.append("%s: %s" % (where, message))

    def warn(self, where, message):
        self.warnings.append("%s: %s" % (where, message))


def at(where, key):
    """Appends a JSON path component: 'file.json: ' + 'tags' -> 'file.json: tags', then '.7b'."""
    return where + key if where.endswith(": ") else "%s.%s" % (where, key)


def check_fields(obj, fields, where, report):
    """Required fields, their types, and unknown keys. Returns True if all types are right."""
    ok = True
    for name, spec in fields.items():
        if name not in obj:
            report.error(where[:-2] if where.endswith(": ") else where, "missing required field '%s'" % name)
            ok = False
        elif not type_ok(obj[name], spec):
            report.error(at(where, name), "expected %s, got %s" % (spec.replace("|", " or "), describe(obj[name])))
            ok = False
    for name in obj:
        if name not in fields:
            report.error(at(where, name), "unknown field (typo?); known fields: %s" % ", ".join(fields))
    return ok


GGUF_FIELDS = {"repo": "str", "revision": "str", "tag": "str", "bytes": "int", "parts": "int|null"}
GGUF_TAG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def check_gguf_source(entry, where, report):
    """The optional `gguf` source (a quantization in a GGUF repo) and `pull` ("checkpoint" or "gguf")."""
    gguf, pull = entry.get("gguf"), entry.get("pull", "checkpoint")
    if pull not in ("checkpoint", "gguf"):
        report.error(where + ".pull", "'%s' is not checkpoint or gguf" % pull)
    if pull == "gguf" and gguf is None:
        report.error(where + ".pull", "'gguf' needs a gguf source")
    if gguf is None:
        return
    if not isinstance(gguf, dict):
        report.error(where + ".gguf", "expected an object or null")
        return
    if not check_fields(gguf, GGUF_FIELDS, where + ".gguf: ", report):
        return
    if not valid_repo(gguf["repo"]):
        report.error(where + ".gguf.repo", "'%s' is not a Hugging Face repo id of the form org/name" % gguf["repo"])
    if not valid_revision(gguf["revision"]):
        report.error(where + ".gguf.revision", "'%s' is not a valid revision" % gguf["revision"])
    if not GGUF_TAG_RE.match(gguf["tag"]):
        report.error(where + ".gguf.tag", "'%s' is not a quantization tag (letters, digits, '.', '-', '_')" % gguf["tag"])
    if gguf["bytes"] <= 0 or (gguf["parts"] is not None and gguf["parts"] <= 0):
        report.error(where + ".gguf", "bytes and parts must be positive")


def check_tag(entry, where, report):
    check_gguf_source(entry, where, report)
    entry = {k: v for k, v in entry.items() if k not in ("gguf", "pull")}
    if not check_fields(entry, TAG_FIELDS, where, report):
        return
    if not valid_repo(entry["repo"]):
        report.error(where + ".repo", "'%s' is not a Hugging Face repo id of the form org/name" % entry["repo"])
    if not valid_revision(entry["revision"]):
        report.error(where + ".revision", "'%s' is not a valid revision (branch, tag, refs/pr/N or commit)" % entry["revision"])
    if not entry["architecture"].strip():
        report.error(where + ".architecture", "must not be empty")
    if entry["base_model"] is not None and not valid_repo(entry["base_model"]):
        report.error(where + ".base_model", "'%s' is not a repo id of the form org/name (or null)" % entry["base_model"])
    params = entry["parameters"]
    if params <= 0:
        report.error(where + ".parameters", "must be a positive integer, got %d" % params)
    active = entry["active_parameters"]
    if active is not None and not (0 < active <= params):
        report.error(where + ".active_parameters", "must be null or an integer in 1...parameters, got %d" % active)
    if entry["source_dtype"] not in SOURCE_DTYPES:
        report.error(where + ".source_dtype", "'%s' is not one of %s" % (entry["source_dtype"], ", ".join(sorted(SOURCE_DTYPES))))
    if entry["download_bytes"] <= 0:
        report.error(where + ".download_bytes", "must be a positive integer")
    if entry["context_length"] <= 0:
        report.error(where + ".context_length", "must be a positive integer")
    if entry["default_quantization"] not in QUANT_TYPES:
        report.error(where + ".default_quantization", "'%s' is not a known llama.cpp type (%s)" % (entry["default_quantization"], ", ".join(sorted(QUANT_TYPES))))
    if entry["ollama_tag"] is not None and not OLLAMA_RE.match(entry["ollama_tag"]):
        report.error(where + ".ollama_tag", "'%s' is not of the form model:tag (or null)" % entry["ollama_tag"])

    shape = entry["shape"]
    if shape is not None and check_fields(shape, SHAPE_FIELDS, where + ".shape: ", report):
        for key in ("layers", "hidden_size", "vocab_size"):
            if shape[key] <= 0:
                report.error(at(where + ".shape: ", key), "must be a positive integer")
        need = {"gqa": ("kv_heads", "head_dim"), "mla": ("kv_lora_rank", "rope_dim")}.get(shape["attention"])
        if need is None:
            report.error(at(where + ".shape: ", "attention"), "'%s' is not gqa or mla" % shape["attention"])
        else:
            for key in need:
                if not isinstance(shape[key], int) or shape[key] <= 0:
                    report.error(at(where + ".shape: ", key), "%s attention needs a positive %s" % (shape["attention"], key))

    hw = entry["hardware"]
    hw_where = where + ".hardware"
    if check_fields(hw, HARDWARE_FIELDS, hw_where, report):
        cls = hw["params_class"]
        if cls not in HARDWARE:
            report.error(hw_where + ".params_class", "'%s' is not one of %s" % (cls, ", ".join(HARDWARE)))
        else:
            for key, expected in HARDWARE[cls].items():
                if hw[key] != expected:
                    report.error(at(hw_where, key), "class %s requires %d, got %d" % (cls, expected, hw[key]))
            if params > 0 and nearest_class(params) != cls:
                report.warn(hw_where + ".params_class", "%s parameters map to class %s by the documented rule, not %s" % (f"{params:,}", nearest_class(params), cls))

    # Soft consistency check of the size against the dtype.
    per_param = {"BF16": 2, "F16": 2, "F32": 4}.get(entry["source_dtype"])
    if per_param and params > 0:
        ratio = entry["download_bytes"] / (per_param * params)
        if not 0.9 <= ratio <= 1.1:
            report.warn(where + ".download_bytes", "%.2fx the %d bytes/parameter expected for %s" % (ratio, per_param, entry["source_dtype"]))


def check_file(path, report, families):
    name = os.path.basename(path)
    try:
        with open(path, encoding="utf-8") as handle:
            doc = json.load(handle)
    except json.JSONDecodeError as err:
        report.error(path, "not valid JSON: %s (line %d, column %d)" % (err.msg, err.lineno, err.colno))
        return 0, 0
    except (OSError, UnicodeDecodeError) as err:
        report.error(path, "cannot read: %s" % err)
        return 0, 0
    if not isinstance(doc, dict):
        report.error(path, "top level must be a JSON object, got %s" % describe(doc))
        return 0, 0

    schema = doc.get("schema")
    if not type_ok(schema, "int"):
        report.error(path + ": schema", "expected integer %d, got %s" % (SUPPORTED_SCHEMA, describe(schema)))
        return 0, 0
    if schema != SUPPORTED_SCHEMA:
        report.error(path + ": schema", "schema %d is not supported (this checker reads schema %d); a reader must reject it" % (schema, SUPPORTED_SCHEMA))
        return 0, 0

    where = path + ": "
    if not check_fields(doc, TOP_FIELDS, where, report):
        return 0, 0

    family = doc["family"]
    if not FAMILY_RE.match(family):
        report.error(at(where, "family"), "'%s' does not match [a-z0-9][a-z0-9._-]{0,79}" % family)
    if name != family + ".json":
        report.error(at(where, "family"), "'%s' must match the file name (expected %s.json)" % (family, family))
    if family in families:
        report.error(at(where, "family"), "'%s' is also defined in %s" % (family, families[family]))
    families[family] = path
    for key in ("title", "description"):
        if not doc[key].strip():
            report.error(at(where, key), "must not be empty")

    tags = doc["tags"]
    aliases = doc["aliases"]
    if not tags:
        report.error(at(where, "tags"), "a family needs at least one tag")
    for tag, entry in tags.items():
        tag_where = at(at(where, "tags"), tag)
        if not TAG_RE.match(tag):
            report.error(tag_where, "tag name '%s' does not match [a-z0-9][a-z0-9._-]{0,127}" % tag)
        if not isinstance(entry, dict):
            report.error(tag_where, "expected object, got %s" % describe(entry))
            continue
        check_tag(entry, tag_where, report)

    # Aliases: valid names, no clash with tags, no cycles, and every alias names a real tag.
    for alias, target in aliases.items():
        alias_where = at(at(where, "aliases"), alias)
        if not TAG_RE.match(alias):
            report.error(alias_where, "alias name '%s' does not match [a-z0-9][a-z0-9._-]{0,127}" % alias)
        if alias in tags:
            report.error(alias_where, "'%s' is both a tag and an alias" % alias)
        if not isinstance(target, str):
            report.error(alias_where, "expected a tag name (string), got %s" % describe(target))
    in_cycle = set()
    for alias in aliases:
        seen = [alias]
        current = aliases[alias]
        while isinstance(current, str) and current in aliases and current not in tags:
            if current in seen:
                if alias not in in_cycle:
                    report.error(at(at(where, "aliases"), alias), "alias cycle: %s" % " -> ".join(seen + [current]))
                in_cycle.update(seen)
                break
            seen.append(current)
            current = aliases[current]
    for alias, target in aliases.items():
        if isinstance(target, str) and target not in tags and alias not in in_cycle:
            hint = " ('%s' is itself an alias; point at the real tag instead)" % target if target in aliases else ""
            report.error(at(at(where, "aliases"), alias), "points to '%s', which is not a tag of this family%s" % (target, hint))

    default = doc["default_tag"]
    if default not in tags and default not in aliases:
        report.error(at(where, "default_tag"), "'%s' is neither a tag nor an alias of this family" % default)
    return len(tags), len(aliases)


def collect(args):
    here = os.path.dirname(os.path.abspath(__file__))
    targets = args or [here]
    files = []
    for target in targets:
        if os.path.isdir(target):
            files.extend(os.path.join(target, n) for n in sorted(os.listdir(target)) if n.endswith(".json"))
        elif os.path.isfile(target):
            files.append(target)
        else:
            print("check.py: no such file or directory: %s" % target, file=sys.stderr)
            sys.exit(2)
    return files


def main(argv):
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__.strip())
        return 0
    files = collect(argv)
    if not files:
        print("check.py: no catalog files (*.json) found", file=sys.stderr)
        return 1
    report = Report()
    families = {}
    n_tags = n_aliases = 0
    for path in files:
        t, a = check_file(path, report, families)
        n_tags += t
        n_aliases += a
    for warning in report.warnings:
        print("warning: " + warning, file=sys.stderr)
    if report.errors:
        for error in report.errors:
            print("error: " + error, file=sys.stderr)
        print("%d error(s) in %d file(s)" % (len(report.errors), len(files)), file=sys.stderr)
        return 1
    print("ok: %d file(s), %d families, %d tags, %d aliases, %d warning(s)" % (len(files), len(families), n_tags, n_aliases, len(report.warnings)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
