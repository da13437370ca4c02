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

    /// The committed state of `name`; fails when the name is unknown.
    static func state(_ name: ModelName, _ registry: Registry) throws -> ReleaseState {
        if let s = try registry.state(of: name) { return s }
        if registry.namesFromOlderStores().contains(name) { throw CommandFailure(message: Registry.olderStoreMessage(name)) }
        throw CommandFailure(message: "\(name) is not in the store (\(registry.store.root)); "
            + (registry.caseVariant(of: name).map { "did you mean \($0)? (names are case-sensitive)" } ?? "`dsm list` shows what is"))
    }

    /// Applies `command` and prints what changed (or the refusal, exit 1, nothing changed).
    static func run(_ name: ModelName, _ command: ReleaseCommand, global: GlobalOptions) throws {
        try run(name, global: global) { _ throws(ReleaseError) in command }
    }

    /// Applies the command `make` builds from the current state under the name's lock (selectors such as `@canary`
    /// or a tag are resolved there), and prints what changed or the refusal (exit 1).
    static func run(_ name: ModelName, global: GlobalOptions, _ make: (ReleaseState) throws(ReleaseError) -> ReleaseCommand) throws {
        let registry = Registry(store: global.store)
        _ = try state(name, registry)
        do {
            var command: ReleaseCommand?
            let (before, after) = try registry.change(name) { s throws(ReleaseError) in
                let c = try make(s)
                command = c
                return c
            }
            if global.json {
                try Console.json(after.routing)
            } else if !global.quiet {
                Console.error(report(command, before, after, name))
            }
        } catch let e as ReleaseError {
            throw CommandFailure(message: e.description + " (nothing was changed)")
        }
    }

    /// One line saying what a change did: the routing, and for tags and deletions what happened to them.
    static func report(_ command: ReleaseCommand?, _ before: ReleaseState, _ after: ReleaseState, _ name: ModelName) -> String {
        let routing = describe(before.routing, after.routing, name)
        guard before != after else { return routing }
        switch command {
        case .tag(let t, let v):
            return "\(name)@v\(v) is tagged \(t)" + (before.tags[t].map { " (moved from v\($0))" } ?? "")
        case .untag(let t):
            return "\(name): tag \(t) removed (it pointed at v\(before.tags[t].map(String.init) ?? "?"))"
        case .remove(let v, _):
            return "\(name)@v\(v) deleted; `dsm gc` frees blobs nothing else uses" + (before.routing == after.routing ? "" : "\n" + routing)
        default:
            return routing
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
