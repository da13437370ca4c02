import DSMRegistry
import DSMServeCore
import DSMStore

/// The store's and the registry's JSON: a manifest (`Manifest.decode`, read from the store, registry and bundles),
/// a name's `state.json` (`ReleaseState.decode`) followed by the reads and changes dsm makes on it, and a
/// `history.jsonl`. The first input byte picks which (modulo 3); the rest is the file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    switch data[0] % 3 {
    case 0:
        guard let m = try? Manifest.decode(bytes) else { return 0 }
        _ = m.totalSize
        _ = m.firstGGUF
        _ = Registry.contentKey(m)
        _ = try? m.encoded()
    case 1:
        guard let s = try? ReleaseState.decode(bytes, path: "state.json") else { return 0 }
        for selector in [nil, VersionSelector.stable, .canary, .number(1), .tag("prod")] { _ = try? s.resolve(selector) }
        _ = s.summary
        _ = s.references(to: s.stable ?? 1)
        let routing = s.routing
        _ = routing.version(name: s.name, userKey: "u")
        let commands: [ReleaseCommand] = [
            .addVersion(manifest: "m", contentKey: "fuzz-new-content", createdAt: "now"), .release(canary: s.versions.last?.number, weight: 10),
            .promote, .rollback(to: nil), .tag("prod", version: s.versions.first?.number ?? 1), .untag("prod"),
            .remove(version: s.stable ?? 1, force: true),
        ]
        for c in commands { _ = try? s.apply(c) }
    default:
        _ = try? Registry.parseHistory(bytes)
    }
    return 0
}
