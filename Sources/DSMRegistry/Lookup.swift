import DSMStore
import DSMSystem

/// One version of a name, found by `NAME[@SELECTOR]`: what `show`, `convert`, `quantize` and `serve` read.
public struct ResolvedVersion: Sendable {
    /// The name without its selector.
    public var name: ModelName
    /// The version number.
    public var number: Int
    /// The version's manifest and its SHA-256.
    public var manifest: Manifest
    public var digest: String
}

extension Registry {
    /// Resolves `name@selector` from the committed `state.json` (the only record of what a name means): nil
    /// selector = stable. Returns nil when the name is unknown; throws `ReleaseError` when the name is known but the
    /// selector names no version, and `RegistryError` for a name only an older dsm's store has.
    public func lookup(_ name: ModelName, _ selector: VersionSelector?) throws -> ResolvedVersion? {
        if let state = try state(of: name) {
            let v = try state.resolve(selector)
            return ResolvedVersion(name: name, number: v.number, manifest: try manifest(of: v, in: name), digest: v.manifest)
        }
        if FileSystem.exists(store.manifestsDirectory + "/" + name.manifestRelativePath) {
            throw RegistryError(Registry.olderStoreMessage(name))
        }
        return nil
    }

    /// Parses `NAME[@SELECTOR]` and resolves it; nil when the text is not a name or the name is unknown.
    public func lookup(_ text: String) throws -> ResolvedVersion? {
        let (body, selector) = VersionSelector.split(text)
        guard let name = try? ModelName(parsing: body) else { return nil }
        return try lookup(name, selector)
    }
}
