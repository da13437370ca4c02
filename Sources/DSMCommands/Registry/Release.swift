import ArgumentParser
import DSMRegistry

/// `dsm release NAME --canary vN --weight W`: start, widen or narrow a canary.
struct Release: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send part of a name's traffic to a canary version.",
        discussion: """
        dsm release deepseek-r1:7b-q4_K_M --canary v3 --weight 10   # v3 gets 10% of requests, stable the rest
        dsm release deepseek-r1:7b-q4_K_M --weight 50               # widen the running canary
        dsm release deepseek-r1:7b-q4_K_M --weight 0                # pause it (no traffic, still the canary)
        Then `dsm promote` makes the canary stable, or `dsm rollback` drops it.
        """
    )

    @Argument(help: "The model name (no @version).") var name: String
    @Option(help: "The version to test (v3, a tag); default: the current canary.") var canary: String?
    @Option(help: "Percent of requests for the canary, 0 to 100 (a new canary starts at 0 without it).") var weight: Int?
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let (model, selector) = try RegistryCommandSupport.parse(name)
        guard selector == nil else { throw CommandFailure(message: "name the model without @version; the version goes in --canary") }
        let registry = Registry(store: global.store)
        let target = try canary.map { try RegistryCommandSupport.number(VersionSelector(parsing: $0), of: model, registry) }
        guard target != nil || weight != nil else { throw ValidationError("give --canary VERSION, --weight PERCENT, or both") }
        try RegistryCommandSupport.run(model, .release(canary: target, weight: weight), global: global)
    }
}

/// `dsm promote NAME`: the canary becomes stable.
struct Promote: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Make the canary the stable version (the old stable stays available for rollback).")
    @Argument(help: "The model name.") var name: String
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let (model, _) = try RegistryCommandSupport.parse(name)
        try RegistryCommandSupport.run(model, .promote, global: global)
    }
}

/// `dsm rollback NAME [--to vN]`: back to the previous (or a named) stable version.
struct Rollback: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Go back to the previous stable version (or --to one), dropping any canary.")
    @Argument(help: "The model name.") var name: String
    @Option(help: "The version to make stable (v2, a tag).") var to: String?
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let (model, _) = try RegistryCommandSupport.parse(name)
        let registry = Registry(store: global.store)
        let target = try to.map { try RegistryCommandSupport.number(VersionSelector(parsing: $0), of: model, registry) }
        try RegistryCommandSupport.run(model, .rollback(to: target), global: global)
    }
}

/// `dsm tag NAME@vN TAG` (or `--delete TAG`).
struct Tag: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Give a version a free-form tag (moves the tag if it exists).")
    @Argument(help: "NAME@VERSION (NAME alone means its stable version).") var version: String
    @Argument(help: "The tag, e.g. prod-candidate.") var tag: String
    @Flag(name: .customLong("delete"), help: "Remove the tag instead.") var delete = false
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let (model, selector) = try RegistryCommandSupport.parse(version)
        if delete { return try RegistryCommandSupport.run(model, .untag(tag), global: global) }
        let n = try RegistryCommandSupport.number(selector, of: model, Registry(store: global.store))
        try RegistryCommandSupport.run(model, .tag(tag, version: n), global: global)
    }
}
