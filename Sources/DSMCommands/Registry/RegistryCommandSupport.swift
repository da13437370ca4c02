import ArgumentParser
import Foundation
import DSMRegistry
import DSMStore
import DSMSystem

/// Parsing `NAME[@VERSION]` and running one release change with the messages and exit codes all registry
/// commands share.
enum RegistryCommandSupport {
    /// `deepseek-r1:7b-q4_K_M@v3` → the name and the selector (`v3`, `stable`, `canary` or a tag).
    static func parse(_ text: String) throws -> (ModelName, VersionSelector?) {
        let (body, selector) = VersionSelector.split(text)
        do {
            return (try ModelName(parsing: body), selector)
        } catch {
            throw CommandFailure(message: "\(error)")
        }
    }

    /// The state of `name`, importing a manifest from before the registry; fails when the name is unknown.
    static func state(_ name: ModelName, _ registry: Registry) throws -> ReleaseState {
        if let s = try registry.state(of: name) { return s }
        guard try registry.store.manifest(for: name) != nil else {
            throw CommandFailure(message: "\(name) is not in the store (\(registry.store.root)); `dsm list` shows what is")
        }
        try FileSystem.createDirectory(registry.store.root)
        return try registry.loadOrImport(name)
    }

    /// The version number a selector names in `name`.
    static func number(_ selector: VersionSelector?, of name: ModelName, _ registry: Registry) throws -> Int {
        do {
            return try state(name, registry).resolve(selector).number
        } catch let e as ReleaseError {
            throw CommandFailure(message: e.description)
        }
    }

    /// Applies `command` and prints what changed (or the refusal, exit 1, nothing changed).
    static func run(_ name: ModelName, _ command: ReleaseCommand, global: GlobalOptions) throws {
        let registry = Registry(store: global.store)
        _ = try state(name, registry)
        do {
            let (before, after) = try registry.change(name, command)
            if global.json {
                try Console.json(after.routing)
            } else if !global.quiet {
                Console.error(describe(before.routing, after.routing, name))
            }
        } catch let e as ReleaseError {
            throw CommandFailure(message: e.description + " (nothing was changed)")
        }
    }

    static func describe(_ a: Routing, _ b: Routing, _ name: ModelName) -> String {
        func text(_ r: Routing) -> String {
            let stable = r.stable.map { "stable v\($0)" } ?? "no stable"
            return r.canary.map { "\(stable), canary v\($0) at \(r.weight)%" } ?? stable
        }
        return a == b ? "\(name): \(text(b)) (unchanged)" : "\(name): \(text(a)) → \(text(b))"
    }
}
