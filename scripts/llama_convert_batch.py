#!/usr/bin/env python3
"""Runs llama.cpp's converter (convert_hf_to_gguf.py) for several conversions in one process, so torch and
transformers are imported once instead of once per file (about 6 s of CPU each). Each conversion is exactly the
converter's own `main()` with its own command line; its log (format and level as `--verbose` gives them on stderr)
goes to a file per job.

    python scripts/llama_convert_batch.py LLAMA_CPP_DIR JOBS.json

JOBS.json: [{"args": ["<model dir>", "--outtype", "bf16", "--outfile", "x.gguf", "--verbose"], "log": "x.log"}, ...].
Prints one JSON line per job: {"log": ..., "rc": exit status}. Exits 1 if any job failed.
"""
from __future__ import annotations

import io
import json
import logging
import os
import sys
import traceback


def main() -> int:
    llama_dir, jobs_path = os.path.abspath(sys.argv[1]), sys.argv[2]
    with open(jobs_path, encoding="utf-8") as f:
        jobs = json.load(f)
    os.chdir(llama_dir)
    os.environ.pop("NO_LOCAL_GGUF", None)
    sys.path.insert(0, os.path.join(llama_dir, "gguf-py"))  # what the converter itself does when run as a script
    sys.path.insert(0, llama_dir)
    import convert_hf_to_gguf as converter

    root = logging.getLogger()
    failed = 0
    for job in jobs:
        buf = io.StringIO()
        handler = logging.StreamHandler(buf)
        handler.setFormatter(logging.Formatter(logging.BASIC_FORMAT))
        root.handlers[:] = [handler]  # the converter's logging.basicConfig() is then a no-op
        root.setLevel(logging.DEBUG if "--verbose" in job["args"] else logging.INFO)
        sys.argv = [os.path.join(llama_dir, "convert_hf_to_gguf.py"), *job["args"]]
        rc = 0
        try:
            converter.main()
        except SystemExit as e:
            rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException:  # noqa: BLE001 - reported in the job's log
            buf.write(traceback.format_exc())
            rc = 1
        with open(job["log"], "w", encoding="utf-8") as f:
            f.write(buf.getvalue())
        failed += rc != 0
        print(json.dumps({"log": job["log"], "rc": rc}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
