import Testing
import DSMFit

let GiB: Int64 = 1 << 30

func dense(_ params: Double, layers: Int, hidden: Int, vocab: Int, kv: Int, headDim: Int = 128) -> ModelShape {
    ModelShape(layers: layers, hiddenSize: hidden, vocabSize: vocab, attention: .gqa(kvHeads: kv, keyLength: headDim, valueLength: headDim),
               parameters: Int64(params), activeParameters: nil, contextLength: 131072)
}

let r1_1_5b = dense(1_777_088_000, layers: 28, hidden: 1536, vocab: 151936, kv: 2)
let r1_7b = dense(7_615_616_512, layers: 28, hidden: 3584, vocab: 152064, kv: 4)
let r1_8b_llama = dense(8_030_261_248, layers: 32, hidden: 4096, vocab: 128256, kv: 8)
let r1_14b = dense(14_770_033_664, layers: 48, hidden: 5120, vocab: 152064, kv: 8)
let r1_32b = dense(32_763_876_352, layers: 64, hidden: 5120, vocab: 152064, kv: 8)
let r1_70b = dense(70_553_706_496, layers: 80, hidden: 8192, vocab: 128256, kv: 8)
let r1_671b = ModelShape(layers: 61, hiddenSize: 7168, vocabSize: 129280, attention: .mla(kvLoraRank: 512, ropeDim: 64),
                         parameters: 671_026_419_200, activeParameters: 36_625_618_432, contextLength: 163840)

func machine(ram: Int64, gpus: [Int64] = []) -> MachineProfile {
    MachineProfile(cpuModel: "test", cores: 16, avx2: true, avx512: false, ramBytes: ram * GiB, availableRAMBytes: ram * GiB,
                   freeDiskBytes: nil, gpus: gpus.map { .init(name: "gpu", memoryBytes: $0 * GiB) }, planned: true)
}

@Suite struct KVCacheTests {
    @Test func gqaPerTokenMatchesTheKnownFigures() {
        // Llama-3.1-8B shape (32 layers, 8 KV heads × 128): 128 KiB per token, 4 GiB at 32K, 16 GiB at 128K.
        #expect(r1_8b_llama.kvBytesPerToken() == 131_072.0)
        #expect(r1_8b_llama.kvBytes(context: 32768) == 4 * GiB)
        #expect(r1_8b_llama.kvBytes(context: 131072) == 16 * GiB)
        #expect(r1_32b.kvBytesPerToken() == 262_144.0)
        #expect(r1_70b.kvBytesPerToken() == 327_680.0)
    }

    @Test func mlaCachesTheLatentOnly() {
        // DeepSeek V3/R1: 61 layers × (512 + 64) × 2 bytes = 68.6 KiB per token; llama.cpp logs 1166.62 MiB at
        // 32768 tokens with a q8_0 cache (34 bytes per 32 values).
        #expect(r1_671b.kvBytesPerToken() == 70272)
        let q8 = r1_671b.kvBytes(context: 32768, bytesPerElement: 34.0 / 32)!
        #expect(abs(Double(q8) / 1_048_576 - 1166.62) < 0.01)
        #expect(ModelShape(layers: 1, hiddenSize: 1, vocabSize: 1, attention: nil, parameters: 1, activeParameters: nil, contextLength: 1)
            .kvBytes(context: 100) == nil)
    }
}

@Suite struct WeightSizeTests {
    /// Ollama's deepseek-r1 Q4_K_M downloads (GB, 10^9 bytes) and one Q8_0.
    @Test(arguments: [(r1_1_5b, 1.1), (r1_7b, 4.7), (r1_8b_llama, 4.9), (r1_14b, 9.0), (r1_32b, 20.0), (r1_70b, 43.0), (r1_671b, 404.0)])
    func q4KMWithinFivePercentOfPublishedFiles(shape: ModelShape, gb: Double) {
        let bytes = FitPlanner.weightBytes(shape, type: "Q4_K_M", ggufType: nil)!
        #expect(abs(Double(bytes) / 1e9 / gb - 1) < 0.05, "\(Double(bytes) / 1e9) GB vs \(gb)")
    }

    @Test func q8AndExactGGUFBytes() {
        #expect(abs(Double(FitPlanner.weightBytes(r1_7b, type: "Q8_0", ggufType: nil)!) / 1e9 / 8.1 - 1) < 0.02)
        var local = r1_7b
        local.ggufLayerBytes = Array(repeating: 100, count: 28)
        local.ggufOtherBytes = 50
        #expect(FitPlanner.weightBytes(local, type: "Q4_K_M", ggufType: "Q4_K_M") == 2850, "a GGUF of that type counts its own tensors")
        #expect(FitPlanner.weightBytes(local, type: "Q8_0", ggufType: "Q4_K_M") != 2850)
        #expect(QuantSizes.bytes(parameters: 1000, type: "nope") == nil)
    }
}

@Suite struct VerdictTests {
    func suggestion(_ s: ModelShape, _ m: MachineProfile, context: Int = 4096) -> FitPlanner.Plan? {
        FitPlanner.suggest(FitPlanner.plans(s, context: context, machine: m))
    }

    @Test func matrixOfMachines() {
        let laptop = machine(ram: 16), desktop8 = machine(ram: 32, gpus: [8]), desktop24 = machine(ram: 64, gpus: [24])
        let twoH100 = machine(ram: 256, gpus: [80, 80]), eightH100 = machine(ram: 512, gpus: Array(repeating: 80, count: 8))
        #expect(suggestion(r1_7b, laptop).map { ($0.type, $0.verdict) }! == ("Q4_K_M", .cpu))
        #expect(suggestion(r1_7b, desktop8).map { ($0.type, $0.verdict) }! == ("Q6_K", .gpu), "6.2 GB of Q6_K leaves room on 8 GB")
        let six = suggestion(r1_7b, machine(ram: 32, gpus: [6]))!
        #expect(six.type == "Q4_K_M" && six.verdict == .partial && (20..<28).contains(six.gpuLayers), "a 6 GB GPU holds most layers: \(six)")
        #expect(suggestion(r1_7b, desktop24).map { ($0.type, $0.verdict) }! == ("Q8_0", .gpu), "the best quality that fits on the GPU")
        #expect(suggestion(r1_32b, desktop24).map { ($0.type, $0.verdict) }! == ("Q4_K_M", .gpu))
        let seventy = suggestion(r1_70b, desktop24)!
        #expect(seventy.type == "Q4_K_M" && seventy.verdict == .partial && (20...60).contains(seventy.gpuLayers), "\(seventy)")
        #expect(suggestion(r1_70b, twoH100).map { ($0.type, $0.verdict) }! == ("Q8_0", .gpu))
        #expect(suggestion(r1_70b, laptop) == nil)
        #expect(suggestion(r1_671b, eightH100).map(\.verdict) == .gpu)
        #expect(suggestion(r1_671b, laptop) == nil)
        let short = FitPlanner.plans(r1_671b, context: 4096, machine: laptop).last!
        #expect(short.verdict == .noFit && short.shortBytes! > 300 * GiB)
    }

    @Test func contextChangesTheVerdictAndMaxContextIsReported() {
        let desktop8 = machine(ram: 32, gpus: [8])
        let small = FitPlanner.plan(r1_7b, type: "Q4_K_M", context: 4096, machine: desktop8)!
        #expect(small.verdict == .gpu && small.gpuLayers == 28)
        let big = FitPlanner.plan(r1_7b, type: "Q4_K_M", context: 131072, machine: desktop8)!
        #expect(big.verdict == .partial && big.gpuLayers < 28, "7 GiB of KV cache at 128K pushes layers off an 8 GB GPU")
        let max = small.maxGPUContext!
        #expect(FitPlanner.plan(r1_7b, type: "Q4_K_M", context: max, machine: desktop8)!.verdict == .gpu)
        #expect(FitPlanner.plan(r1_7b, type: "Q4_K_M", context: max + 8192, machine: desktop8)!.verdict != .gpu)
    }

    @Test func usableMemoryKeepsReserves() {
        #expect(FitPlanner.usableRAM(machine(ram: 16)) == 14 * GiB)
        #expect(FitPlanner.usableRAM(machine(ram: 512)) == Int64(Double(512 * GiB) * 0.9) + 1)
        #expect(FitPlanner.usableVRAM(machine(ram: 16, gpus: [24, 24])) == 45 * GiB)
    }
}

@Suite struct MachineTests {
    @Test func gpuFlags() throws {
        #expect(try MachineProfile.parseGPUs("8x80").map(\.memoryBytes) == Array(repeating: 80 * GiB, count: 8))
        #expect(try MachineProfile.parseGPUs("24,48GB").map(\.memoryBytes) == [24 * GiB, 48 * GiB])
        #expect(try MachineProfile.parseGPUs("none").isEmpty && MachineProfile.parseGPUs("0").isEmpty)
        for bad in ["x80", "100x80", "8xabc", "", ",", "-4"] {
            #expect(throws: MachineProfile.InvalidFlag.self, "\(bad)") { try MachineProfile.parseGPUs(bad) }
        }
    }

    @Test func procFilesAndNvidiaSMI() {
        let (model, avx2, avx512) = MachineProbe.parseCPUInfo("processor\t: 0\nmodel name\t: AMD EPYC 9654\nflags\t\t: fpu sse avx avx2 fma\n")
        #expect(model == "AMD EPYC 9654" && avx2 && !avx512)
        #expect(MachineProbe.parseMemInfo("MemTotal:       24683628 kB\nMemFree:  100 kB\nMemAvailable:   22000000 kB\n")
            == (24683628 * 1024, 22000000 * 1024))
        let gpus = MachineProbe.parseNvidiaSMI("NVIDIA H100 80GB HBM3, 81559\nNVIDIA GeForce RTX 4090, 24564\n")
        #expect(gpus.map(\.name) == ["NVIDIA H100 80GB HBM3", "NVIDIA GeForce RTX 4090"] && gpus[1].memoryBytes == 24564 << 20)
        #expect(MachineProbe.parseNvidiaSMI("No devices were found\n").isEmpty)
    }
}
