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
    // Unconditional, so `--weight -1` reaches the range check (and its message) instead of reading as an option.
    @Option(parsing: .unconditional, help: "Percent of requests for the canary, 0 to 100 (a new canary starts at 0 without it).") var weight: Int?
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let (model, selector) = try RegistryCommandSupport.parse(name)
        guard selector == nil else { throw CommandFailure(message: "name the model without @version; the version goes in --canary") }
        guard canary != nil || weight != nil else { throw ValidationError("give --canary VERSION, --weight PERCENT, or both") }
        let target = canary.map(VersionSelector.init(parsing:))
        try RegistryCommandSupport.run(model, global: global) { s throws(ReleaseError) in
            .release(canary: try target.map { v throws(ReleaseError) in try s.resolve(v).number }, weight: weight)
        }
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
        let target = to.map(VersionSelector.init(parsing:))
        try RegistryCommandSupport.run(model, global: global) { s throws(ReleaseError) in
            .rollback(to: try target.map { v throws(ReleaseError) in try s.resolve(v).number })
        }
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
        try RegistryCommandSupport.run(model, global: global) { s throws(ReleaseError) in
            .tag(tag, version: try s.resolve(selector).number)
        }
    }
}
