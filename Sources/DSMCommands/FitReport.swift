import DSMCatalog
import DSMFit
import DSMQuant
import Foundation
import DSMSystem

/// The text `dsm fit` prints: the machine, the options as a table, the suggestion with its commands, the disk it
/// needs, and the catalog's reference hardware beside the computed numbers.
enum FitReport {
    static func gib(_ b: Int64) -> String { ByteFormat.string(b) }

    static func machineLine(_ o: Fit.Output) -> String {
        let m = o.machine
        let cpu = "\(m.cores) cores (\(m.cpuModel)\(m.avx512 ? ", AVX-512" : m.avx2 ? ", AVX2" : ", no AVX2"))"
        let gpus = m.gpus.isEmpty ? "no NVIDIA GPU" : "\(m.gpus.count) GPU\(m.gpus.count > 1 ? "s" : ""): "
            + Dictionary(grouping: m.gpus, by: { "\($0.name) \(gib($0.memoryBytes))" }).map { "\($0.value.count)× \($0.key)" }.sorted().joined(separator: ", ")
        let disk = m.freeDiskBytes.map { ", \(gib($0)) free disk" } ?? ""
        return "Machine\(m.planned ? " (planned)" : ""): \(cpu), \(gib(m.ramBytes)) RAM (\(gib(o.usableRAMBytes)) usable for a model), \(gpus)\(disk)"
    }

    static func verdictText(_ p: FitPlanner.Plan, layers: Int) -> String {
        switch p.verdict {
        case .gpu: return "fits on GPU"
        case .partial: return "partial offload: \(p.gpuLayers) of \(layers) layers on GPU"
        case .cpu: return "CPU only (expected to be slow)"
        case .noFit: return "does not fit" + (p.shortBytes.map { " (\(gib($0)) short)" } ?? "")
        }
    }

    /// The flags `dsm serve` uses for this plan.
    static func serveFlags(_ p: FitPlanner.Plan, layers: Int, gpus: Bool) -> [String] {
        var f = ["--ctx-size", String(p.context)]
        if gpus { f += ["--gpu-layers", String(p.verdict == .gpu ? layers + 1 : p.gpuLayers)] }
        return f
    }

    static func detail(_ o: Fit.Output, input: FitInput) -> String {
        let s = input.shape
        var lines = [machineLine(o)]
        let attention: String
        switch s.attention {
        case .gqa(let h, let k, _)?: attention = "GQA, \(h) KV heads × \(k)"
        case .mla(let r, let rope)?: attention = "MLA (latent \(r) + rope \(rope) cached per layer)"
        case nil: attention = "attention unknown: KV cache not counted"
        }
        let params = String(format: "%.1fB", Double(s.parameters) / 1e9) + (s.activeParameters.map { String(format: ", %.1fB active", Double($0) / 1e9) } ?? "")
        lines.append("Model: \(o.model ?? "") (\(o.source ?? "")): \(params) parameters, \(s.layers) layers, \(attention); trained context \(s.contextLength)")
        if let perToken = o.kvBytesPerToken {
            lines.append("KV cache (f16): \(gib(Int64(perToken))) per token, \(gib(Int64(perToken * Double(o.context)))) at \(o.context) tokens")
        }
        if o.context > s.contextLength { lines.append("warning: \(o.context) tokens is more than the \(s.contextLength) the model was trained for") }
        lines.append("")
        let rows = (o.plans ?? []).map { p in
            [p.type + (input.ggufType == p.type ? " (this file)" : ""), gib(p.weightBytes), p.kvBytes.map(gib) ?? "?", gib(p.totalBytes),
             verdictText(p, layers: s.layers), p.maxGPUContext.map(String.init) ?? "-"]
        }
        lines.append(Table.render(header: ["TYPE", "WEIGHTS", "KV CACHE", "TOTAL", "VERDICT", "MAX CTX ON GPU"], rows: rows))
        lines.append("")
        if let p = o.suggestion {
            let flags = (o.serveFlags ?? []).joined(separator: " ")
            lines.append("Suggested: \(p.type), \(verdictText(p, layers: s.layers)); dsm serve would use \(flags)")
            if let cat = input.catalog {
                lines.append("  dsm pull \(cat.canonicalName) && dsm quantize \(cat.canonicalName) --type \(p.type) && dsm serve \(cat.canonicalName)-\(QuantFileType(name: p.type)?.tagSuffix ?? p.type.lowercased()) \(flags)")
            }
            if p.verdict == .cpu { lines.append("  CPU only: generation speed is bound by memory bandwidth over \(gib(p.weightBytes)) of weights per token\(s.activeParameters != nil ? " (MoE: only the active experts are read per token)" : "")") }
        } else {
            lines.append("Nothing fits: even the smallest option needs more memory than this machine has" + (o.machine.planned ? "." : "; plan a machine with --gpus/--ram."))
        }
        if let need = o.diskNeededBytes, need > 0 {
            let free = o.machine.freeDiskBytes
            lines.append("Disk: \(gib(need)) (download \(gib(input.downloadBytes)) + the quantized file; dsm quantizes in one pass without an F16 file)"
                         + (free.map { $0 >= need ? ", \(gib($0)) free" : ", only \(gib($0)) free: not enough" } ?? ""))
        }
        if let r = o.reference {
            lines.append("Reference table (\(r.paramsClass) class, catalog.md): \(r.cpuCores) cores, \(r.ramGB) GB RAM, \(r.gpuCount)× \(r.gpuVramGB) GB VRAM"
                         + (r.gpuExample.map { " (\($0))" } ?? "") + ", \(r.diskGB) GB disk")
        }
        return lines.joined(separator: "\n")
    }

    static func overview(_ o: Fit.Output) -> String {
        var lines = [machineLine(o), "Catalog models at \(o.context) tokens of context (dsm fit MODEL for details):", ""]
        let rows = (o.catalog ?? []).map { r in
            [r.name, String(format: "%.1fB", Double(r.parameters) / 1e9), r.suggestion?.type ?? "-",
             r.suggestion.map { verdictText($0, layers: 0).replacingOccurrences(of: " of 0 layers", with: " layers") } ?? "does not fit",
             r.suggestion.map { gib($0.totalBytes) } ?? "-"]
        }
        lines.append(Table.render(header: ["MODEL", "PARAMS", "BEST TYPE", "VERDICT", "MEMORY"], rows: rows))
        let runs = (o.catalog ?? []).filter { $0.suggestion != nil }
        if let largestGPU = runs.last(where: { $0.suggestion?.verdict == .gpu }) { lines.append("\nLargest on GPU: \(largestGPU.name) at \(largestGPU.suggestion!.type)") }
        if let largest = runs.last { lines.append((lines.last!.hasPrefix("\nLargest") ? "" : "\n") + "Largest that runs at all: \(largest.name) at \(largest.suggestion!.type) (\(verdictText(largest.suggestion!, layers: 0).replacingOccurrences(of: " of 0 layers", with: " layers")))") }
        return lines.joined(separator: "\n")
    }
}
