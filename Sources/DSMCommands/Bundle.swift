import ArgumentParser
import DSMBundle
import DSMRegistry
import DSMSystem
import Foundation

/// `dsm export`: names into one verified, zstd-compressed bundle for a machine without network.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write models (manifests, provenance, blobs) into one zstd-compressed bundle file.",
        discussion: "NAME is a stored name (its stable version), NAME@vN / @canary / @TAG, or with --all-versions every version. Format: docs/bundle.md.")
    @Argument(help: "Names to export.") var names: [String]
    @Option(name: .shortAndLong, help: "The bundle file to write.") var output: String
    @Flag(name: .customLong("all-versions"), help: "Every version of each name, not one.") var allVersions = false
    @Option(help: "zstd level (\(ZstdCompressor.levels.lowerBound)-\(ZstdCompressor.levels.upperBound); default 3; weights compress little, see docs/bundle.md).")
    var level: Int32 = 3
    @Option(help: "Compression threads (default: every core).") var threads: Int?
    @OptionGroup var global: GlobalOptions

    func run() throws {
        guard !names.isEmpty else { throw CommandFailure(message: "name at least one model to export (`dsm list` shows them)") }
        guard ZstdCompressor.levels.contains(level) else {
            throw CommandFailure(message: "--level must be \(ZstdCompressor.levels.lowerBound)-\(ZstdCompressor.levels.upperBound) (got \(level))")
        }
        let selection = try names.map { try RegistryCommandSupport.parse($0) }
        var options = BundleExporter.Options()
        options.level = level
        options.threads = max(0, threads ?? ProcessInfo.processInfo.activeProcessorCount)
        options.allVersions = allVersions
        var exporter = BundleExporter(registry: Registry(store: global.store), options: options)
        let meter = ProgressLine(label: "exporting", enabled: !global.quiet && !global.json)
        exporter.progress = meter.update
        let out = FileSystem.absolute(output)
        guard !FileSystem.isDirectory(out) else { throw CommandFailure(message: "\(output) is a folder; give a file name such as r1.dsm") }
        let report: BundleExporter.Report
        do { report = try exporter.export(selection, to: out, tool: "dsm \(DSM.version)") } catch let e as BundleError {
            throw CommandFailure(message: e.description)
        }
        meter.done()
        if global.json { return try Console.json(report) }
        if !global.quiet {
            Console.error("exported \(report.names.joined(separator: ", ")): \(report.versions) version(s), \(report.blobs) blob(s), "
                          + "\(ByteFormat.string(report.bytes)) → \(ByteFormat.string(report.compressedBytes)) in \(String(format: "%.1f", report.seconds)) s")
        }
        Console.out(report.path)
    }
}

/// `dsm import`: a bundle into the store, verified before anything is registered.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify a bundle and register its versions (with provenance) in the store.",
        discussion: "Every blob is checked against the bundle's table of contents before anything is registered; a bad bundle registers nothing.")
    @Argument(help: "The bundle file.") var bundle: String
    @Flag(name: .customLong("dry-run"), help: "Read and verify everything, list what it holds, write nothing.") var dryRun = false
    @Flag(name: .customLong("with-channels"), help: "Also take the exported stable, canary, weight and tags.") var withChannels = false
    @OptionGroup var global: GlobalOptions

    func run() throws {
        guard FileSystem.exists(bundle), !FileSystem.isDirectory(bundle) else { throw CommandFailure(message: "\(bundle) is not a file") }
        var options = BundleImporter.Options()
        options.dryRun = dryRun
        options.withChannels = withChannels
        var importer = BundleImporter(registry: Registry(store: global.store), options: options)
        let meter = ProgressLine(label: dryRun ? "verifying" : "importing", enabled: !global.quiet && !global.json)
        importer.progress = meter.update
        let report: BundleImporter.Report
        do { report = try importer.run(FileSystem.absolute(bundle), command: Registry.commandLine) } catch let e as BundleError {
            throw CommandFailure(message: e.description)
        }
        meter.done()
        if global.json { return try Console.json(report) }
        let what = "\(report.blobs) blob(s), \(ByteFormat.string(report.bytes))"
        if dryRun {
            Console.out("\(bundle) verifies: \(what)")
            for n in report.names { Console.out("  \(n.name)") }
            return
        }
        Console.error("imported \(what) (\(report.storedBlobs) stored, \(report.presentBlobs) already present) in \(String(format: "%.1f", report.seconds)) s")
        for n in report.names {
            let versions = n.versions.sorted { $0.value < $1.value }.map { "\($0.key) → v\($0.value)" }.joined(separator: ", ")
            Console.out("\(n.name): \(versions)" + (n.stable.map { "; stable v\($0)" } ?? ""))
        }
    }
}

/// A one-line progress display on stderr, redrawn at most twice a second.
final class ProgressLine {
    let label: String
    let enabled: Bool
    private var last = Date.distantPast

    init(label: String, enabled: Bool) {
        self.label = label
        self.enabled = enabled && Console.stderrIsTerminal
    }

    func update(_ done: Int64, _ total: Int64) {
        guard enabled, Date().timeIntervalSince(last) > 0.5, total > 0 else { return }
        last = Date()
        FileHandle.standardError.write(Data("\r\(label) \(ByteFormat.string(done)) of \(ByteFormat.string(total)) (\(done * 100 / total)%)   ".utf8))
    }

    func done() { if enabled && last != .distantPast { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) } }
}
