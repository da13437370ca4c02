import DSMFormats

/// float32 rows → any storage type dsm writes, with the fastest kernel that gives ggml's reference bytes:
/// the lane kernels for the k-quants, the reference loops (which the compiler vectorizes) for the rest.
public enum BlockQuantizer {
    /// Encodes `count` floats (whole blocks) into the output bytes.
    public typealias Kernel = (UnsafePointer<Float>, Int, UnsafeMutableRawPointer) -> Void

    /// One row per ggml type: the kernel that writes it, or nil when dsm does not write the type (ggml's
    /// `type_traits[type].from_float_ref`). The switch has no default, so a new `GGMLType` must be given its row here.
    public static func kernel(for type: GGMLType) -> Kernel? {
        switch type {
        case .f32: return { RowEncoder.encode($0, count: $1, as: .f32, into: $2) }
        case .bf16: return { RowEncoder.encode($0, count: $1, as: .bf16, into: $2) }
        case .f16:
            // ggml_fp32_to_fp16_row: round to nearest even; NaN → quiet NaN with the sign (0x7E00).
            return { x, count, out in
                let o = out.assumingMemoryBound(to: UInt16.self)
                for i in 0..<count { o[i] = LegacyQuantizers.fp16(x[i]).littleEndian }
            }
        case .q8_0: return { LegacyQuantizers.q8_0($0, count: $1, into: $2) }
        case .q4_0: return { LegacyQuantizers.q4_0($0, count: $1, into: $2) }
        case .q4_1: return { LegacyQuantizers.q4_1($0, count: $1, into: $2) }
        case .q5_0: return { LegacyQuantizers.q5_0($0, count: $1, into: $2) }
        case .q5_1: return { LegacyQuantizers.q5_1($0, count: $1, into: $2) }
        case .q4_K: return { KQuantLanes.qkx($0, count: $1, into: $2, nmax: 15, rmin: -1, nstep: 20) }
        case .q5_K: return { KQuantLanes.qkx($0, count: $1, into: $2, nmax: 31, rmin: -0.5, nstep: 15) }
        case .q6_K: return { KQuantLanes.q6_K($0, count: $1, into: $2) }
        case .q8_1, .q2_K, .q3_K, .q8_K, .i8, .i16, .i32, .i64, .f64: return nil
        }
    }

    /// The types `quantize` accepts as a target.
    public static let targets: Set<GGMLType> = Set(GGMLType.allCases.filter { kernel(for: $0) != nil })

    /// Quantizes `count` values (a multiple of the type's block size) from `x` into `out`.
    public static func quantize(_ x: UnsafePointer<Float>, count: Int, as type: GGMLType, into out: UnsafeMutableRawPointer) {
        precondition(count % type.blockSize == 0, "\(count) values do not fill whole \(type.name) blocks")
        guard let kernel = kernel(for: type) else { preconditionFailure("dsm does not write \(type.name)") }
        kernel(x, count, out)
    }
}
