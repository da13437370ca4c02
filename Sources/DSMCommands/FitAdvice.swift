import DSMSystem
import DSMCatalog
import DSMFit
import DSMFormats
import DSMPull
import DSMStore

/// `dsm fit`'s verdict where other commands need it: `pull` warns before downloading a model this machine cannot
/// run, and `serve` warns, and takes its suggested GPU layers when none are given.
enum FitAdvice {
    /// For a pull of a GGUF quantization whose headers were read over HTTP: a warning when it will not run here.
    static func pullWarning(gguf headers: [GGUFHeader], label: String, downloadBytes: Int64, store: Store, environment: [String: String]) -> String? {
        guard let first = headers.first,
              let input = try? FitInput.fromGGUF(value: first.value, tensors: headers.flatMap(\.tensors), label: label,
                                                 source: "remote GGUF headers", downloadBytes: downloadBytes) else { return nil }
        let machine = MachineProbe.detect(diskPath: store.root, environment: environment)
        return serving(input, label: label, context: 4096, machine: machine).warning.map { $0 + " Pulling anyway." }
    }

    /// For a pull of a catalog name, the warning below; nil for other targets.
    static func pullWarning(_ target: PullTarget, catalog: Catalog, store: Store, environment: [String: String]) -> String? {
        guard let catalogName = target.catalogName else { return nil }
        let parts = catalogName.split(separator: ":").map(String.init)
        guard let match = catalog.lookup(family: parts[0], tag: parts.count > 1 ? parts[1] : nil) else { return nil }
        return pullWarning(match, store: store, environment: environment)
    }

    /// A warning for pulling catalog entry `match` onto this machine, or nil when some option runs.
    static func pullWarning(_ match: Catalog.Match, store: Store, environment: [String: String], context: Int = 4096) -> String? {
        guard let input = try? FitInput.fromCatalog(match) else { return nil }
        let machine = MachineProbe.detect(diskPath: store.root, environment: environment)
        let plans = FitPlanner.plans(input.shape, context: context, machine: machine)
        guard FitPlanner.suggest(plans) == nil, let smallest = plans.last else { return nil }
        return "\(match.canonicalName) will not run on this machine: even \(smallest.type) needs about \(ByteFormat.string(smallest.totalBytes)) "
            + "at \(context) tokens, and it has \(ByteFormat.string(FitPlanner.usableRAM(machine))) of usable RAM"
            + (machine.gpus.isEmpty ? "" : " and \(ByteFormat.string(FitPlanner.usableVRAM(machine))) of usable GPU memory")
            + ". Pulling anyway (to move it to a bigger machine?); `dsm fit \(match.canonicalName)` explains."
    }

    /// For serving the GGUF at `path` at `context` tokens: the plan, a warning when it does not fit, and the GPU
    /// layers to use when there are GPUs.
    static func serving(ggufPaths: [String], label: String, context: Int, machine: MachineProfile) -> (warning: String?, gpuLayers: Int?) {
        guard let input = try? FitInput.fromGGUF(paths: ggufPaths, label: label, source: "stored GGUF") else { return (nil, nil) }
        return serving(input, label: label, context: context, machine: machine)
    }

    /// The same for a GGUF already read (on disk, or its headers over HTTP before a pull).
    static func serving(_ input: FitInput, label: String, context: Int, machine: MachineProfile) -> (warning: String?, gpuLayers: Int?) {
        guard let type = input.ggufType else { return (nil, nil) }
        guard let plan = FitPlanner.plan(input.shape, type: type, ggufType: type, context: context, machine: machine) else { return (nil, nil) }
        let layers = machine.gpus.isEmpty ? nil : (plan.verdict == .gpu ? input.shape.layers + 1 : plan.gpuLayers)
        guard plan.verdict == .noFit else { return (nil, layers) }
        return ("\(label) needs about \(ByteFormat.string(plan.totalBytes)) at --ctx-size \(context), more than this machine's "
                + "\(ByteFormat.string(FitPlanner.usableRAM(machine))) usable RAM"
                + (machine.gpus.isEmpty ? "" : " + \(ByteFormat.string(FitPlanner.usableVRAM(machine))) GPU memory")
                + "; it will page from disk or fail to load. `dsm fit \(label)` shows what fits.", layers)
    }
}
