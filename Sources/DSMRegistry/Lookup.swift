import DSMStore

/// One version of a name, found by `NAME[@SELECTOR]`: what `show`, `convert`, `quantize` and `serve` read.
public struct ResolvedVersion: Sendable {
    /// The name without its selector.
    public var name: ModelName
    /// The version number (1 for a manifest from before the registry).
    public var number: Int
    /// The version's manifest and its SHA-256.
    public var manifest: Manifest
    public var digest: String
}

extension Registry {
    /// Resolves `name@selector` from the committed `state.json` (not the stable view, which may lag a crash
    /// behind): nil selector = stable. A name the registry does not know yet falls back to a manifest from before
    /// the registry, which counts as v1 (stable). Returns nil when the name is unknown; throws `ReleaseError` when
    /// the name is known but the selector names no version.
    public func lookup(_ name: ModelName, _ selector: VersionSelector?) throws -> ResolvedVersion? {
        if let state = try state(of: name) {
            let v = try state.resolve(selector)
            return ResolvedVersion(name: name, number: v.number, manifest: try manifest(of: v, in: name), digest: v.manifest)
        }
        guard selector == nil || selector == .stable || selector == .number(1), let (m, digest) = try store.manifest(for: name) else {
            return nil
        }
        return ResolvedVersion(name: name, number: 1, manifest: m, digest: digest)
    }

    /// Parses `NAME[@SELECTOR]` and resolves it; nil when the text is not a name or the name is unknown.
    public func lookup(_ text: String) throws -> ResolvedVersion? {
        let (body, selector) = VersionSelector.split(text)
        guard let name = try? ModelName(parsing: body) else { return nil }
        return try lookup(name, selector)
    }
}
