import ArgumentParser
import Foundation
import DSMSystem
import DSMRegistry
import DSMStore

/// `dsm history NAME`: the append-only log of a name's versions and channel changes.
struct History: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show every version added and every channel change of a name, oldest first.")
    @Argument(help: "The model name.") var name: String
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let (model, _) = try RegistryCommandSupport.parse(name)
        let registry = Registry(store: global.store)
        _ = try RegistryCommandSupport.state(model, registry)
        let entries = try registry.history(of: model)
        if global.json { return try Console.json(entries) }
        if entries.isEmpty { return Console.out("\(model): no recorded changes (its only version predates the registry)") }
        for e in entries {
            var what = e.version.map { "\(e.verb) v\($0)" } ?? e.verb
            // Which tag a tag change was about: the one whose pointer differs between before and after.
            if let t = Set(e.before.tags.keys).union(e.after.tags.keys).sorted().first(where: { e.before.tags[$0] != e.after.tags[$0] }),
               e.verb == "tag" || e.verb == "untag" {
                what += " " + t
            }
            let routing = RegistryCommandSupport.describe(Routing(stable: e.before.stable, canary: e.before.canary, weight: e.before.weight),
                                                          Routing(stable: e.after.stable, canary: e.after.canary, weight: e.after.weight), model)
            Console.out("#\(e.sequence)  \(e.time)  \(e.user)  \(what)  \(routing.dropFirst(model.description.count + 2))  [\(e.command)]")
        }
    }
}

/// `dsm rm NAME@vN`: delete a version (refused while a channel or tag points at it, unless --force).
struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Delete a version of a name; `dsm gc` then frees blobs nothing else uses.")
    @Argument(help: "NAME@VERSION.") var version: String
    @Flag(help: "Delete even if stable, the canary or a tag points at it (those pointers are cleared).") var force = false
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let (model, selector) = try RegistryCommandSupport.parse(version)
        guard let selector else { throw CommandFailure(message: "say which version to delete: \(model)@vN (see `dsm show \(model)`)") }
        try RegistryCommandSupport.run(model, global: global) { s throws(ReleaseError) in
            .remove(version: try s.resolve(selector).number, force: force)
        }
    }
}

/// `dsm gc`: free what no version references.
struct GC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove blobs no version references and partial downloads older than --partials-older-than.")
    @Option(name: .customLong("partials-older-than"), help: "Seconds (default 3600).") var partialAge: Double = 3600
    @Flag(name: .customLong("dry-run"), help: "Only report what would be removed.") var dryRun = false
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let result = try Registry(store: global.store).collectGarbage(partialAge: partialAge, dryRun: dryRun)
        if global.json { return try Console.json(result) }
        let verb = dryRun ? "would remove" : "removed"
        Console.out("\(verb) \(result.blobs.count) blobs (\(ByteFormat.string(result.bytes))), \(result.partials.count) partial downloads, "
            + "\(result.versionManifests.count) manifests of deleted versions"
            + (result.temporaries.isEmpty ? "" : ", \(result.temporaries.count) temp files of interrupted changes")
            + (result.versionFolders.isEmpty ? "" : ", \(result.versionFolders.count) runtime folders of deleted versions"))
    }
}

/// `dsm verify [NAME]`: re-hash blobs.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Re-hash every blob the store's versions use; --repair quarantines corrupted ones.")
    @Argument(help: "Only these names (default: all).") var names: [String] = []
    @Flag(help: "Move corrupted blobs to $DSM_HOME/quarantine so the next pull fetches them again.") var repair = false
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let models = try names.map { try RegistryCommandSupport.parse($0).0 }
        let (checked, problems) = try Registry(store: global.store).verify(models, repair: repair)
        if global.json {
            try Console.json(VerifyReport(checked: checked, problems: problems))
        } else {
            for p in problems {
                Console.out("\(p.blob): \(p.issue); used by \(p.usedBy.joined(separator: ", "))" + (p.quarantined.map { "; moved to \($0)" } ?? ""))
            }
            Console.error("verified \(checked) blobs: " + (problems.isEmpty ? "all match their sha256" : "\(problems.count) problem(s)"))
        }
        if !problems.isEmpty { throw ExitCode.failure }
    }
}

struct VerifyReport: Codable {
    var checked: Int
    var problems: [Registry.Problem]
}
