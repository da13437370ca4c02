import ArgumentParser
import Foundation
import DSMHub

/// The one place where a command's error becomes what the user sees and the exit code: commands throw, `DSM`
/// reports. Usage errors keep ArgumentParser's format (and exit 64); an interruption says what was kept (exit 130);
/// everything else is `Error: <message>` (ArgumentParser's spelling, which the usage errors keep) (exit 1), with the Hugging Face token redacted from the message as a last
/// line of defence (messages may quote server output).
enum ErrorReport {
    /// How `error` ends the process.
    enum Outcome: Equatable {
        /// Let ArgumentParser print and exit (usage errors, `--help`, `ExitCode`).
        case argumentParser
        /// Print `message` on stderr (when not nil) and exit with `code`.
        case exit(code: Int32, message: String?)
    }

    static func outcome(for error: any Error, redact: (String) -> String) -> Outcome {
        switch error {
        case let interrupted as Interrupted:
            return .exit(code: 130, message: interrupted.message)
        case is ExitCode, is ValidationError, is CleanExit:
            return .argumentParser
        case _ where String(reflecting: type(of: error)).hasPrefix("ArgumentParser."):
            // ArgumentParser's own internal error types (its `CommandError` carrying a `--help` request reaches `run()`
            // through the help command it returns): it prints the help or the usage error itself.
            return .argumentParser
        default:
            return .exit(code: 1, message: "Error: " + redact(String(describing: error)))
        }
    }

    /// Ends the process for an error thrown by a command's `run()`.
    static func exit(for error: any Error, environment: [String: String]) -> Never {
        let token = HubToken.resolve(environment: environment) { try? String(contentsOfFile: $0, encoding: .utf8) }
        switch outcome(for: error, redact: { token?.redact($0) ?? $0 }) {
        case .argumentParser:
            DSM.exit(withError: error)
        case .exit(let code, let message):
            if let message { Console.error(message) }
            Foundation.exit(code)
        }
    }
}

/// A command stopped by SIGINT/SIGTERM; `message` says what was kept and how to go on (exit 130).
struct Interrupted: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
