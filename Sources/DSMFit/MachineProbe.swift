import Foundation

/// Reads this machine (Linux): CPU model, cores and AVX2/AVX-512 from /proc/cpuinfo, RAM from /proc/meminfo,
/// free disk under a folder, NVIDIA GPUs from `nvidia-smi` when it is installed (nothing fails without it).
public enum MachineProbe {
    public static func detect(diskPath: String, environment: [String: String]) -> MachineProfile {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let mem = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        let (model, avx2, avx512) = parseCPUInfo(cpu)
        let (total, available) = parseMemInfo(mem)
        return MachineProfile(cpuModel: model, cores: ProcessInfo.processInfo.activeProcessorCount, avx2: avx2, avx512: avx512,
                              ramBytes: total, availableRAMBytes: available, freeDiskBytes: freeDisk(diskPath),
                              gpus: nvidiaGPUs(environment))
    }

    /// (model name, has avx2, has avx512f).
    public static func parseCPUInfo(_ text: String) -> (String, Bool, Bool) {
        var model = "unknown CPU", flags: Set<Substring> = []
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            if parts[0] == "model name", model == "unknown CPU" { model = parts[1] }
            if parts[0] == "flags", flags.isEmpty { flags = Set(parts[1].split(separator: " ")) }
        }
        return (model, flags.contains("avx2"), flags.contains("avx512f"))
    }

    /// (MemTotal, MemAvailable) in bytes.
    public static func parseMemInfo(_ text: String) -> (Int64, Int64) {
        var total: Int64 = 0, available: Int64 = 0
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 2, let kib = Int64(f[1]) else { continue }
            if f[0] == "MemTotal:" { total = kib * 1024 }
            if f[0] == "MemAvailable:" { available = kib * 1024 }
        }
        return (total, available == 0 ? total : available)
    }

    /// `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits` output (MiB) → GPUs.
    public static func parseNvidiaSMI(_ text: String) -> [MachineProfile.GPU] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard f.count >= 2, let mib = Int64(f[f.count - 1]) else { return nil }
            return MachineProfile.GPU(name: f.dropLast().joined(separator: ","), memoryBytes: mib << 20)
        }
    }

    static func nvidiaGPUs(_ env: [String: String]) -> [MachineProfile.GPU] {
        guard let exe = (env["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map({ "\($0)/nvidia-smi" })
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return [] }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["--query-gpu=name,memory.total", "--format=csv,noheader,nounits"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return [] }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return p.terminationStatus == 0 ? parseNvidiaSMI(String(decoding: data, as: UTF8.self)) : []
    }

    /// Free bytes on the file system holding `path` (or its nearest existing parent).
    static func freeDisk(_ path: String) -> Int64? {
        var dir = path
        while !FileManager.default.fileExists(atPath: dir) && dir.count > 1 { dir = (dir as NSString).deletingLastPathComponent }
        var st = statvfs()
        guard statvfs(dir, &st) == 0 else { return nil }
        return Int64(st.f_bavail) * Int64(st.f_frsize)
    }
}
