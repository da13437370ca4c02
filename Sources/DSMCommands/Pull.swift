import ArgumentParser
import Foundation
import DSMSystem
import DSMHub
import DSMPull
import DSMCatalog
import DSMTransfer
import DSMStore

/// `dsm pull`: download a model from the Hugging Face Hub (or a mirror) into the local store.
struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download a model from the Hugging Face Hub (or a mirror) into the local store.",
        discussion: """
        REFERENCE is a catalog name (deepseek-r1:7b; see `dsm catalog`), hf.co/ORG/NAME[@REVISION][:TAG], \
        https://huggingface.co/ORG/NAME[/tree/REVISION], or ORG/NAME. On a repo of GGUF files TAG picks one \
        quantization (hf.co/bartowski/DeepSeek-R1-Distill-Qwen-7B-GGUF:Q4_K_M; split parts count as one; no tag \
        means Q4_K_M); on other repos it is read as a revision. --include/--exclude choose files as `hf download` \
        does. Interrupted pulls resume where they stopped: run the same command again. Every file is verified \
        (SHA-256 for LFS files, git blob id for small files) before it is stored. See docs/pull.md.
        """
    )

    @Argument(help: "Catalog name or Hugging Face repo.")
    var reference: String

    @Option(name: .long, help: "Branch, tag, refs/pr/N or commit to pull (default: the catalog's, else main).")
    var revision: String?

    @Option(name: .long, help: "Take only repo files matching this glob (fnmatch on the repo path, as `hf download`); repeatable.")
    var include: [String] = []

    @Option(name: .long, help: "Skip repo files matching this glob; repeatable.")
    var exclude: [String] = []

    @Flag(name: .long, help: "Show which files the pull would take (and their sizes), download nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Also pull the GGUF repo's importance matrix (a file named *imatrix*), recorded beside the model.")
    var withImatrix = false

    @Option(name: .long, help: "Parallel connections in total (1-64).")
    var connections: Int = 32

    @Option(name: .long, help: "Parallel connections for any one file (1-64; at most --connections).")
    var connectionsPerFile: Int = 16

    @Option(name: .long, help: "Seconds without data before a connection counts as stalled and is retried.")
    var stallTimeout: Int = 30

    @Option(name: .long, help: "Attempts per range without progress before giving up.")
    var retries: Int = 8

    @Option(name: .long, help: "Cap per connection, bytes per second (0 = no cap). Suffixes k, m, g accepted.")
    var limitRate: String = "0"

    @Option(name: .long, help: "Store the model under this name instead of the default.")
    var name: String?

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (1...64).contains(connections) else { throw ValidationError("--connections must be between 1 and 64") }
        guard (1...64).contains(connectionsPerFile) else { throw ValidationError("--connections-per-file must be between 1 and 64") }
        guard (1...3600).contains(stallTimeout) else { throw ValidationError("--stall-timeout must be between 1 and 3600 seconds") }
        guard (1...100).contains(retries) else { throw ValidationError("--retries must be between 1 and 100") }
        guard Pull.parseRate(limitRate) != nil else { throw ValidationError("--limit-rate must be a number of bytes per second, e.g. 50m") }
    }

    func run() throws {
        let env = global.environment
        let cancel = CancellationFlag()
        let trap = SignalTrap(cancel: cancel)
        defer { withExtendedLifetime(trap) {} }
        do {
            for name in ["HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"] where ["1", "on", "yes", "true"].contains(env[name]?.lowercased() ?? "") {
                throw CommandFailure(message: "\(name) is set, so the Hub may not be contacted; unset it to pull (models already pulled are listed by `dsm list`)")
            }
            let catalog = try Catalog.load(environment: env)
            var target = try PullTarget.resolve(reference, revision: revision, name: name, catalog: catalog)
            target.filter = RepoFileFilter(include: include, exclude: exclude)
            target.withImatrix = withImatrix
            if !global.quiet, let warning = FitAdvice.pullWarning(target, catalog: catalog, store: global.store, environment: env) {
                Console.error("warning: " + warning)
            }
            let puller = Puller(options: Pull.options(global: global, connections: connections, connectionsPerFile: connectionsPerFile,
                                                      stallTimeout: stallTimeout,
                                                      retries: retries, limitRate: limitRate), cancel: cancel)
            if dryRun { return try preview(puller.preview(target)) }
            if !global.quiet {
                let (store, env, repo) = (global.store, env, target.repo.description)
                puller.onHeaders = { selection, headers in
                    let bytes = selection.files.reduce(0) { $0 + $1.size }
                    if let warning = FitAdvice.pullWarning(gguf: headers, label: selection.label.map { "\(repo):\($0)" } ?? repo,
                                                           downloadBytes: bytes, store: store, environment: env) {
                        Console.error("warning: " + warning)
                    }
                }
            }
            let token = puller.options.token
            let display = PullDisplay(quiet: global.quiet, json: global.json, redact: { token?.redact($0) ?? $0 })
            display.attach(to: puller, target: target)
            let result = try display.whileShown { try puller.pull(target) }
            try report(result)
        } catch let error where error is CancellationFlag.Cancelled || cancel.isCancelled {
            throw Interrupted(message: "pull: interrupted; progress is saved. Run the same command again to resume.")
        }
    }

    /// A pull's settings from the flags and the environment (hub, token, proxies, store); `dsm fit` reads remote
    /// headers with the same settings.
    static func options(global: GlobalOptions, connections: Int? = nil, connectionsPerFile: Int? = nil, stallTimeout: Int = 30,
                        retries: Int = 8, limitRate: String = "0") -> PullOptions {
        let env = global.environment
        let token = HubToken.resolve(environment: env) { path in (try? String(contentsOfFile: path, encoding: .utf8)) }
        var options = PullOptions(endpoint: HubEndpoint.from(environment: env), token: token, proxies: ProxySettings(environment: env),
                                  storeRoot: global.store.root, toolVersion: DSM.version)
        options.connections = connections ?? options.connections
        options.connectionsPerFile = connectionsPerFile ?? options.connectionsPerFile
        options.stallSeconds = stallTimeout
        options.retries = retries
        options.maxSpeedPerConnection = Pull.parseRate(limitRate) ?? 0
        return options
    }

    func report(_ result: PullResult) throws {
        if global.json { return try Console.json(result) }
        guard !global.quiet else { return }
        let what = result.selection.map { " [\($0)]" } ?? ""
        Console.error("pulled \(result.name) (\(result.repo) @ \(result.commit.prefix(12))\(what)): \(result.files.count) files, "
            + "\(ByteFormat.string(result.downloadedBytes)) downloaded, \(ByteFormat.string(result.reusedBytes)) already present, "
            + String(format: "%.1f s", result.seconds))
        if let stable = result.stable, stable != result.version {
            Console.error("note: this is \(result.name)@v\(result.version), a new version; \(result.name) still means v\(stable). "
                + "Roll it out with `dsm release \(result.name) --canary v\(result.version) --weight 10`, then `dsm promote \(result.name)`.")
        }
        Console.out(result.name)
    }

    func preview(_ p: PullPreview) throws {
        if global.json { return try Console.json(p) }
        Console.out("\(p.name): \(p.repo) @ \(p.revision) (commit \(p.commit.prefix(12))), \(p.kind == "gguf" ? "GGUF" : "checkpoint")"
                    + (p.selection.map { ", \($0)" } ?? "") + ": \(p.files.count) files, \(ByteFormat.string(p.totalBytes))")
        Console.out(Table.render(header: ["PATH", "SIZE"], rows: p.files.map { [TerminalText.escaped($0.path), ByteFormat.string($0.size)] }))
    }

    /// `50m` → 52428800; nil when malformed.
    static func parseRate(_ text: String) -> Int64? {
        let lower = text.lowercased()
        let multipliers: [Character: Int64] = ["k": 1 << 10, "m": 1 << 20, "g": 1 << 30]
        if let last = lower.last, let mult = multipliers[last] {
            return Int64(lower.dropLast()).map { $0 * mult }
        }
        return Int64(lower).flatMap { $0 >= 0 ? $0 : nil }
    }
}

/// What `dsm pull` shows while it runs: notices (redacted) and, once downloading starts, the progress display.
final class PullDisplay: @unchecked Sendable {
    let quiet: Bool
    let json: Bool
    let redact: @Sendable (String) -> String
    private var display: ProgressDisplay?

    init(quiet: Bool, json: Bool, redact: @escaping @Sendable (String) -> String) {
        self.quiet = quiet
        self.json = json
        self.redact = redact
    }

    func attach(to puller: Puller, target: PullTarget) {
        guard !quiet else { return }
        let redact = self.redact
        puller.onNotice = { message in Console.error("pull: " + redact(message)) }
        puller.onSelection = { selection in
            guard let how = selection.how else { return }
            let size = ByteFormat.string(selection.files.reduce(0) { $0 + $1.size })
            Console.error("pull: \(target.repo): \(how): \(selection.files.count) files, \(size)")
        }
        puller.onDownloadStart = { [self] engine, plan in
            Console.error("pulling \(target.repo) at \(target.revision): \(plan.files.count) files, \(ByteFormat.string(plan.totalBytes))")
            let d = ProgressDisplay(engine: engine, totalBytes: plan.totalBytes, terminal: Console.stderrIsTerminal && !json)
            display = d
            d.start()
        }
    }

    /// Runs `body`; the progress display is finished however it ends.
    func whileShown<T>(_ body: () throws -> T) rethrows -> T {
        defer { display?.finish() }
        return try body()
    }
}
