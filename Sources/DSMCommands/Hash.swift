import ArgumentParser
import DSMSystem

/// `dsm hash FILE...`: SHA-256 of files, printed like `sha256sum`.
struct Hash: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the SHA-256 of files (same output format as sha256sum).")

    @Argument(help: "Files to hash.")
    var files: [String]

    func run() throws {
        var failed = false
        for path in files {
            do {
                Console.out("\(try FileHasher.sha256(path: path))  \(path)")
            } catch {
                Console.error("dsm hash: \(error)")
                failed = true
            }
        }
        if failed { throw ExitCode.failure }
    }
}
