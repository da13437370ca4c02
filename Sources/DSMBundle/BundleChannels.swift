import DSMRegistry

/// What `import --with-channels` changes for one name, as release commands: stable (as `rollback --to`), the canary
/// and its weight (as `release`), then the tags (as `tag`). Pure; the registry applies the list all together or not
/// at all (`Registry.change(_:command:all:)`), and import checks it against a simulated state before registering
/// anything.
public enum BundleChannels {
    /// The commands that make `state` route like the exported name `exported`, whose version numbers map to this
    /// registry's through `numbers`. Throws when the bundle's channels are inconsistent: a channel or tag on a version
    /// the bundle does not hold, or a weight outside 0–100.
    public static func commands(_ exported: BundleTOC.Name, numbers: [Int: Int], state: ReleaseState) throws(ReleaseError) -> [ReleaseCommand] {
        func local(_ n: Int, _ what: String) throws(ReleaseError) -> Int {
            guard let v = numbers[n] else {
                throw ReleaseError("the bundle points \(what) of \(exported.name) at v\(n), a version it does not hold")
            }
            return v
        }
        guard (0...100).contains(exported.weight) else {
            throw ReleaseError("the bundle gives \(exported.name) a canary weight of \(exported.weight); the weight must be 0 to 100")
        }
        var commands: [ReleaseCommand] = []
        if let s = exported.stable {
            let v = try local(s, "stable")
            if state.stable != v { commands.append(.rollback(to: v)) }
        }
        if let c = exported.canary {
            let v = try local(c, "the canary")
            if exported.weight > 0 { commands.append(.release(canary: v, weight: exported.weight)) }
        }
        for (tag, n) in exported.tags.sorted(by: { $0.key < $1.key }) {
            commands.append(.tag(tag, version: try local(n, "tag '\(tag)'")))
        }
        return commands
    }
}
