/// What a machine has, detected (`MachineProbe`) or described by flags to plan one you are buying.
public struct MachineProfile: Sendable, Equatable, Codable {
    public struct GPU: Sendable, Equatable, Codable {
        public var name: String
        public var memoryBytes: Int64
        public init(name: String, memoryBytes: Int64) {
            self.name = name
            self.memoryBytes = memoryBytes
        }
    }

    public var cpuModel: String
    public var cores: Int
    public var avx2: Bool
    public var avx512: Bool
    public var ramBytes: Int64
    /// RAM free for a new process now (MemAvailable); equal to `ramBytes` for a planned machine.
    public var availableRAMBytes: Int64
    /// Free disk under DSM_HOME; nil when unknown.
    public var freeDiskBytes: Int64?
    public var gpus: [GPU]
    /// True when any value came from a flag rather than from this machine.
    public var planned = false

    enum CodingKeys: String, CodingKey {
        case cpuModel = "cpu_model", cores, avx2, avx512, ramBytes = "ram_bytes", availableRAMBytes = "available_ram_bytes"
        case freeDiskBytes = "free_disk_bytes", gpus, planned
    }

    public init(cpuModel: String, cores: Int, avx2: Bool, avx512: Bool, ramBytes: Int64, availableRAMBytes: Int64,
                freeDiskBytes: Int64?, gpus: [GPU], planned: Bool = false) {
        self.cpuModel = cpuModel
        self.cores = cores
        self.avx2 = avx2
        self.avx512 = avx512
        self.ramBytes = ramBytes
        self.availableRAMBytes = availableRAMBytes
        self.freeDiskBytes = freeDiskBytes
        self.gpus = gpus
        self.planned = planned
    }

    public var totalVRAMBytes: Int64 { gpus.reduce(0) { $0 + $1.memoryBytes } }

    public struct InvalidFlag: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// `--gpus 8x80` (eight 80 GiB GPUs), `--gpus 24,24,48` (one per size), `--gpus 0` / `none`.
    public static func parseGPUs(_ text: String) throws(InvalidFlag) -> [GPU] {
        let t = String(text.lowercased().filter { $0 != " " })
        if t == "0" || t == "none" { return [] }
        func gib(_ s: Substring) throws(InvalidFlag) -> Int64 {
            let digits = s.hasSuffix("gb") || s.hasSuffix("g") ? s.prefix { $0.isNumber || $0 == "." } : s
            guard let v = Double(digits), v > 0, v <= 4096 else {
                throw InvalidFlag(description: "--gpus: '\(s)' is not a memory size in GiB (e.g. 8x80 or 24,24)")
            }
            return Int64(v * 1_073_741_824)
        }
        if let x = t.firstIndex(of: "x") {
            guard let n = Int(t[..<x]), (1...64).contains(n) else {
                throw InvalidFlag(description: "--gpus: '\(text)' should be COUNTxGIB, e.g. 8x80 (1-64 GPUs)")
            }
            let size = try gib(t[t.index(after: x)...])
            return (0..<n).map { _ in GPU(name: "planned \(size >> 30) GiB GPU", memoryBytes: size) }
        }
        var out: [GPU] = []
        for part in t.split(separator: ",") {
            let size = try gib(part)
            out.append(GPU(name: "planned \(size >> 30) GiB GPU", memoryBytes: size))
        }
        guard !out.isEmpty else { throw InvalidFlag(description: "--gpus: '\(text)' names no GPU") }
        return out
    }
}
