import DSMFormats

/// float32 rows → any storage type dsm writes, with the fastest kernel that gives ggml's reference bytes:
/// the lane kernels for the k-quants, the reference loops (which the compiler vectorizes) for the rest.
public enum BlockQuantizer {
    /// The types `quantize` accepts as a target.
    public static let targets: Set<GGMLType> = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K]

    /// Quantizes `count` values (a multiple of the type's block size) from `x` into `out`.
    public static func quantize(_ x: UnsafePointer<Float>, count: Int, as type: GGMLType, into out: UnsafeMutableRawPointer) {
        precondition(count % type.blockSize == 0, "\(count) values do not fill whole \(type.name) blocks")
        switch type {
        case .f32, .bf16:
            RowEncoder.encode(x, count: count, as: type, into: out)
        case .f16:
            // ggml_fp32_to_fp16_row: round to nearest even; NaN → quiet NaN with the sign (0x7E00).
            let o = out.assumingMemoryBound(to: UInt16.self)
            for i in 0..<count { o[i] = LegacyQuantizers.fp16(x[i]).littleEndian }
        case .q8_0: LegacyQuantizers.q8_0(x, count: count, into: out)
        case .q4_0: LegacyQuantizers.q4_0(x, count: count, into: out)
        case .q4_1: LegacyQuantizers.q4_1(x, count: count, into: out)
        case .q5_0: LegacyQuantizers.q5_0(x, count: count, into: out)
        case .q5_1: LegacyQuantizers.q5_1(x, count: count, into: out)
        case .q4_K: KQuantLanes.qkx(x, count: count, into: out, nmax: 15, rmin: -1, nstep: 20)
        case .q5_K: KQuantLanes.qkx(x, count: count, into: out, nmax: 31, rmin: -0.5, nstep: 15)
        case .q6_K: KQuantLanes.q6_K(x, count: count, into: out)
        default: preconditionFailure("dsm does not write \(type.name)")
        }
    }
}
