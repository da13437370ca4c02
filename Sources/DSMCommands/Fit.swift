import ArgumentParser
import DSMCatalog
import DSMFit
import DSMFormats
import DSMHub
import DSMPull
import DSMTransfer
import DSMStore
import Foundation

/// `dsm fit`: will this model run on this machine (or a planned one), and how.
struct Fit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tell whether a model runs on this machine (or a planned one), at which quantization and with which flags.",
        discussion: """
        Without a model: this machine and the largest catalog models it runs. MODEL is a catalog name (before \
        pulling), a stored name (NAME[@vN]) or a .gguf file. The method is in docs/fit.md.
        """)

    @Argument(help: "Catalog name, stored name or .gguf file (default: every catalog model).") var model: String?
    @Option(name: .customLong("ctx"), help: "Context in tokens, over all parallel slots (default 4096, as dsm serve).") var context = 4096
    @Option(help: "Plan other GPUs: COUNTxGiB (8x80) or sizes (24,24); 0 for none.") var gpus: String?
    @Option(help: "Plan another amount of RAM, in GiB.") var ram: Double?
    @Option(help: "Plan another number of CPU cores.") var cores: Int?
    @Option(help: "Plan another amount of free disk, in GiB.") var disk: Double?
    @OptionGroup var global: GlobalOptions

    struct Output: Encodable {
        var machine: MachineProfile
        var usableRAMBytes: Int64
        var usableVRAMBytes: Int64
        var model: String?
        var source: String?
        var context: Int
        var kvBytesPerToken: Double?
        var plans: [FitPlanner.Plan]?
        var suggestion: FitPlanner.Plan?
        var serveFlags: [String]?
        var diskNeededBytes: Int64?
        var reference: CatalogEntry.Hardware?
        var catalog: [Row]?
        enum CodingKeys: String, CodingKey {
            case machine, usableRAMBytes = "usable_ram_bytes", usableVRAMBytes = "usable_vram_bytes", model, source, context
            case kvBytesPerToken = "kv_bytes_per_token", plans, suggestion, serveFlags = "serve_flags", diskNeededBytes = "disk_needed_bytes"
            case reference, catalog
        }
    }

    /// One catalog model in the machine-wide overview.
    struct Row: Encodable {
        var name: String
        var parameters: Int64
        var suggestion: FitPlanner.Plan?
    }

    func run() throws {
        guard (128...10_000_000).contains(context) else { throw CommandFailure(message: "--ctx must be 128 to 10,000,000 tokens (got \(context))") }
        let machine = try self.machine()
        let catalog: Catalog
        do { catalog = try Catalog.load(environment: global.environment) } catch { throw CommandFailure(message: "\(error)") }
        var out = Output(machine: machine, usableRAMBytes: FitPlanner.usableRAM(machine), usableVRAMBytes: FitPlanner.usableVRAM(machine), context: context)
        guard let model else {
            out.catalog = catalog.allEntries().filter { $0.entry.shape != nil }.sorted { $0.entry.parameters < $1.entry.parameters }.map { m in
                let shape = try? FitInput.fromCatalog(m).shape
                return Row(name: m.canonicalName, parameters: m.entry.parameters,
                           suggestion: shape.flatMap { FitPlanner.suggest(FitPlanner.plans($0, context: context, machine: machine)) })
            }
            return global.json ? try Console.json(out) : Console.out(FitReport.overview(out))
        }
        let input = try FitInput.resolve(model, store: global.store, catalog: catalog, remote: remoteInput)
        let plans = FitPlanner.plans(input.shape, ggufType: input.ggufType, context: context, machine: machine)
        out.model = input.label
        out.source = input.source
        out.kvBytesPerToken = input.shape.kvBytesPerToken()
        out.plans = plans
        out.suggestion = FitPlanner.suggest(plans)
        out.serveFlags = out.suggestion.map { FitReport.serveFlags($0, layers: input.shape.layers, gpus: !machine.gpus.isEmpty) }
        if let s = out.suggestion { out.diskNeededBytes = input.downloadBytes + (input.ggufType == nil ? s.weightBytes : 0) }
        out.reference = input.catalog?.entry.hardware
        if global.json { return try Console.json(out) }
        Console.out(FitReport.detail(out, input: input))
    }

    /// A Hub reference's quantization, sized exactly from its GGUF headers read over HTTP range requests (nothing is
    /// downloaded); nil for text that is no Hub repo reference.
    private func remoteInput(_ text: String) throws -> FitInput? {
        guard case .repository? = try? ModelReference.parse(text) else { return nil }
        let catalog = (try? Catalog.load(environment: global.environment)) ?? Catalog(families: [])
        do {
            let target = try PullTarget.resolve(text, revision: nil, name: nil, catalog: catalog)
            let (preview, headers) = try Puller(options: Pull.options(global: global), cancel: CancellationFlag()).previewWithHeaders(target)
            guard let first = headers.first else {
                throw CommandFailure(message: "\(preview.repo) holds no GGUF model (it is a checkpoint); `dsm fit` sizes checkpoints once pulled, or by their catalog name")
            }
            return try FitInput.fromGGUF(value: first.value, tensors: headers.flatMap(\.tensors), label: preview.name,
                                         source: "GGUF headers of \(preview.repo) @ \(preview.commit.prefix(12))", downloadBytes: preview.totalBytes)
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure(message: "\(error)")
        }
    }

    /// This machine, with any planned values put in.
    private func machine() throws -> MachineProfile {
        var m = MachineProbe.detect(diskPath: global.store.root, environment: global.environment)
        if let gpus {
            do { m.gpus = try MachineProfile.parseGPUs(gpus) } catch { throw CommandFailure(message: "\(error)") }
            m.planned = true
        }
        if let ram {
            guard ram > 0 && ram < 1_048_576 else { throw CommandFailure(message: "--ram must be a positive number of GiB (got \(ram))") }
            m.ramBytes = Int64(ram * 1_073_741_824)
            m.availableRAMBytes = m.ramBytes
            m.planned = true
        }
        if let cores {
            guard cores > 0 else { throw CommandFailure(message: "--cores must be positive (got \(cores))") }
            m.cores = cores
            m.planned = true
        }
        if let disk {
            guard disk >= 0 else { throw CommandFailure(message: "--disk must be a number of GiB (got \(disk))") }
            m.freeDiskBytes = Int64(disk * 1_073_741_824)
            m.planned = true
        }
        return m
    }
}
