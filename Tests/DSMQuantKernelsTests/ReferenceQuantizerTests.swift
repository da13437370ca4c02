import Testing
import Foundation
import DSMQuantKernels
import DSMQuantKernelsAVX2
import CCPUFeatures
import DSMFormats

/// Known answers from ggml's own quantizers (libggml-base of the strict llama.cpp build, via
/// scripts/gen_quant_vectors.py; the gguf package agrees on the finite rows): random rows at several scales,
/// BF16-valued rows, zeros, constants, huge and tiny magnitudes, exact ties, ramps, spikes, sparse rows, NaN and Inf.
@Suite struct ReferenceQuantizerTests {
    static func vector(_ name: String) throws -> [UInt8] {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Vectors"))
        return Array(try Data(contentsOf: url))
    }

    static func input() throws -> [Float] {
        try vector("input.f32").withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    @Test(arguments: [
        ("Q8_0.bin", 34, DSMQuantKernels.LegacyQuantizers.q8_0 as @Sendable (UnsafePointer<Float>, Int, UnsafeMutableRawPointer) -> Void),
        ("Q4_0.bin", 18, DSMQuantKernels.LegacyQuantizers.q4_0), ("Q4_1.bin", 20, DSMQuantKernels.LegacyQuantizers.q4_1),
        ("Q5_0.bin", 22, DSMQuantKernels.LegacyQuantizers.q5_0), ("Q5_1.bin", 24, DSMQuantKernels.LegacyQuantizers.q5_1),
        ("Q4_K.bin", 144, DSMQuantKernels.KQuantizers.q4_K), ("Q5_K.bin", 176, DSMQuantKernels.KQuantizers.q5_K), ("Q6_K.bin", 210, DSMQuantKernels.KQuantizers.q6_K),
    ])
    func bytesEqualGGML(file: String, blockBytes: Int, quantize: @Sendable (UnsafePointer<Float>, Int, UnsafeMutableRawPointer) -> Void) throws {
        let x = try Self.input()
        let expected = try Self.vector(file)
        var got = [UInt8](repeating: 0xEE, count: x.count / (blockBytes > 34 ? 256 : 32) * blockBytes)
        x.withUnsafeBufferPointer { src in got.withUnsafeMutableBytes { quantize(src.baseAddress!, src.count, $0.baseAddress!) } }
        let firstDiff = zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(got.count == expected.count && firstDiff == nil, "\(file): first differing byte \(firstDiff.map { "\($0) (block \($0 / blockBytes))" } ?? "none")")
    }
}

typealias Kernel = @Sendable (UnsafePointer<Float>, Int, GGMLType, UnsafeMutableRawPointer) -> Void

/// Both builds of the kernels: baseline x86-64 and, on CPUs that have it, AVX2 (the one `dsm` picks there).
let kernels: [(String, Kernel)] = {
    var k: [(String, Kernel)] = [("baseline", { DSMQuantKernels.BlockQuantizer.quantize($0, count: $1, as: $2, into: $3) })]
    if dsm_cpu_has_avx2() != 0 { k.append(("avx2", { DSMQuantKernelsAVX2.BlockQuantizer.quantize($0, count: $1, as: $2, into: $3) })) }
    return k
}()

/// CI must test both builds: on x86-64 a CPU without AVX2 would silently test only the baseline one.
@Suite struct KernelBuildCoverageTests {
    @Test func bothBuildsRunInCI() {
        #if arch(x86_64)
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            #expect(kernels.map(\.0) == ["baseline", "avx2"], "this CPU has no AVX2: the AVX2 kernel build is not tested")
        }
        #endif
    }
}

/// The lane kernels (eight blocks side by side) against the same ggml answers, and against the scalar
/// reference on more data: 8 full lane groups plus a tail, and rows where lanes take different branches.
@Suite struct LaneKernelTests {
    @Test(arguments: [(GGMLType.q4_K, "Q4_K.bin"), (.q5_K, "Q5_K.bin"), (.q6_K, "Q6_K.bin"),
                      (.q8_0, "Q8_0.bin"), (.q4_0, "Q4_0.bin"), (.q4_1, "Q4_1.bin"), (.q5_0, "Q5_0.bin"), (.q5_1, "Q5_1.bin")])
    func dispatchEqualsGGML(type: GGMLType, file: String) throws {
      for (build, kernel) in kernels {
        let x = try ReferenceQuantizerTests.input()
        let expected = try ReferenceQuantizerTests.vector(file)
        var got = [UInt8](repeating: 0xEE, count: type.byteCount(elements: x.count))
        x.withUnsafeBufferPointer { src in got.withUnsafeMutableBytes { kernel(src.baseAddress!, src.count, type, $0.baseAddress!) } }
        let firstDiff = zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(got.count == expected.count && firstDiff == nil, "\(build) \(file): first differing byte \(firstDiff.map { "\($0) (block \($0 / type.blockBytes))" } ?? "none")")
      }
    }

    @Test(arguments: [GGMLType.q4_K, .q5_K, .q6_K])
    func lanesEqualScalarOnRandomMixes(type: GGMLType) {
        var rng = SplitMix(seed: 99)
        let blocks = 8 * 12 + 5
        var x = [Float](repeating: 0, count: blocks * 256)
        for b in 0..<blocks {
            let scale = [Float(1e-4), 0.01, 1, 300][b % 4]
            for i in 0..<256 {
                var v = rng.gaussian() * scale
                if b % 7 == 3 { v = abs(v) }            // all-positive blocks: min clamps to 0
                if b % 11 == 5 && i % 3 != 0 { v = 0 }  // sparse
                if b % 13 == 6 { v = 0.25 }             // flat
                x[b * 256 + i] = v
            }
        }
        let n = type.byteCount(elements: x.count)
      for (build, kernel) in kernels {
        var lanes = [UInt8](repeating: 0, count: n), scalar = [UInt8](repeating: 1, count: n)
        x.withUnsafeBufferPointer { src in
            lanes.withUnsafeMutableBytes { kernel(src.baseAddress!, src.count, type, $0.baseAddress!) }
            scalar.withUnsafeMutableBytes { out in
                switch type {
                case .q4_K: DSMQuantKernels.KQuantizers.q4_K(src.baseAddress!, count: src.count, into: out.baseAddress!)
                case .q5_K: DSMQuantKernels.KQuantizers.q5_K(src.baseAddress!, count: src.count, into: out.baseAddress!)
                default: DSMQuantKernels.KQuantizers.q6_K(src.baseAddress!, count: src.count, into: out.baseAddress!)
                }
            }
        }
        let firstDiff = zip(lanes, scalar).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(firstDiff == nil, "\(build) \(type.name): lanes and scalar differ first in block \(firstDiff.map { $0 / type.blockBytes } ?? -1)")
      }
    }
}

/// A small deterministic generator for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 24) }
    mutating func gaussian() -> Float {
        let u = max(uniform(), 1e-7), v = uniform()
        return Float((-2 * Foundation.log(Double(u))).squareRoot() * Foundation.cos(2 * Double.pi * Double(v)))
    }
}
