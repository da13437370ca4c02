import ArgumentParser
import Foundation

/// The `dsm` command: a model artifact manager for DeepSeek models.
public struct DSM: ParsableCommand {
    /// dsm's version, recorded in manifests and the User-Agent.
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "dsm",
        abstract: "Pull, convert, quantize, version and serve DeepSeek models locally.",
        discussion: """
        Store: $DSM_HOME (default ~/.dsm). Hub: $HF_ENDPOINT (default https://huggingface.co), token from \
        $HF_TOKEN or $HF_HOME/token; proxies from HTTPS_PROXY/HTTP_PROXY/NO_PROXY.
        """,
        version: version,
        subcommands: [Pull.self, Convert.self, Quantize.self, List.self, Show.self, Release.self, Promote.self, Rollback.self, Tag.self,
                      History.self, Create.self, Remove.self, GC.self, Verify.self, Serve.self, Fit.self, Export.self, Import.self, CatalogCommand.self, Hash.self]
    )

    public init() {}

    /// Parses the process arguments and runs the chosen command (the `@main` entry calls this). Errors a command
    /// throws are reported in one place (`ErrorReport`).
    public static func runFromCommandLine() {
        var command: any ParsableCommand
        do { command = try parseAsRoot() } catch { exit(withError: error) }
        do {
            try command.run()
        } catch {
            ErrorReport.exit(for: error, environment: ProcessInfo.processInfo.environment)
        }
    }
}
