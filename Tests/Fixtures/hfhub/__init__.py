"""hfhub: a small Hugging Face Hub compatible test server (hub + CDN) for dsm's tests.

Modules:
- ``repos``   repository model: files on disk, .hub.json options, revisions, hashes, commits.
- ``state``   shared live state: config, fault rules, statistics, rate-limit window, URL signing.
- ``httpbase`` request handler base: routing helpers, JSON errors, Range parsing, the body writer
              (sendfile fast path, throttling and body faults).
- ``hub``     the hub handler (API, resolve, resolve-cache, raw, /_control).
- ``cdn``     the CDN handler (signed /blobs/<sha256> URLs).

Entry point: ``Tests/Fixtures/testhub.py``. Maintainer docs: ``docs/testhub.md``.
"""
