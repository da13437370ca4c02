import DSMFormats

/// Stored tensor bytes → float32, as ggml's `dequantize_row_*` and `ggml_{fp16,bf16}_to_fp32_row` compute them
/// (the values llama-quantize quantizes when it re-quantizes a tensor).
public enum Dequantizer {
    /// Decodes `count` values from the bytes into the floats.
    public typealias Decoder = (UnsafeRawBufferPointer, Int, UnsafeMutablePointer<Float>) -> Void

    /// One row per ggml type: the decoder that reads it, or nil when dsm cannot read the type (ggml's
    /// `type_traits[type].to_float`). The switch has no default, so a new `GGMLType` must be given its row here.
    public static func decoder(for type: GGMLType) -> Decoder? {
        switch type {
        case .f32: return { f32($0, count: $1, into: $2) }
        case .f16: return { f16($0, count: $1, into: $2) }
        case .bf16: return { bf16($0, count: $1, into: $2) }
        case .q8_0: return { q8_0($0, count: $1, into: $2) }
        case .q4_0: return { q4($0, count: $1, into: $2, type: .q4_0) }
        case .q4_1: return { q4($0, count: $1, into: $2, type: .q4_1) }
        case .q5_0: return { q5($0, count: $1, into: $2, type: .q5_0) }
        case .q5_1: return { q5($0, count: $1, into: $2, type: .q5_1) }
        case .q4_K: return { q4_5K($0, count: $1, into: $2, type: .q4_K) }
        case .q5_K: return { q4_5K($0, count: $1, into: $2, type: .q5_K) }
        case .q6_K: return { q6_K($0, count: $1, into: $2) }
        case .q8_1, .q2_K, .q3_K, .q8_K, .i8, .i16, .i32, .i64, .f64: return nil
        }
    }

    /// The types `decode` reads.
    public static let sources: Set<GGMLType> = Set(GGMLType.allCases.filter { decoder(for: $0) != nil })

    /// Decodes `count` values of `type` from `src` into `out`.
    public static func decode(_ src: UnsafeRawBufferPointer, type: GGMLType, count: Int, into y: UnsafeMutablePointer<Float>) {
        guard let decoder = decoder(for: type) else { preconditionFailure("dsm cannot read \(type.name) tensors") }
        decoder(src, count, y)
    }

    @inline(__always)
    static func half(_ p: UnsafeRawBufferPointer, _ offset: Int) -> Float {
        FloatBits.halfToFloat(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    /// F32, little-endian.
    static func f32(_ src: UnsafeRawBufferPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        for i in 0..<count { y[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
    }

    /// F16 (ggml_fp16_to_fp32_row).
    static func f16(_ src: UnsafeRawBufferPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        for i in 0..<count { y[i] = half(src, 2 * i) }
    }

    /// BF16 (ggml_bf16_to_fp32_row).
    static func bf16(_ src: UnsafeRawBufferPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        for i in 0..<count { y[i] = FloatBits.bf16ToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
    }

    /// Q8_0 (dequantize_row_q8_0).
    static func q8_0(_ src: UnsafeRawBufferPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        for b in 0..<(count / 32) {
            let o = b * 34, d = half(src, o)
            for j in 0..<32 { y[b * 32 + j] = Float(Int8(bitPattern: src[o + 2 + j])) * d }
        }
    }

    /// Q4_0 and Q4_1 (dequantize_row_q4_0/_q4_1).
    static func q4(_ src: UnsafeRawBufferPointer, count: Int, into y: UnsafeMutablePointer<Float>, type: GGMLType) {
        let bytes = type == .q4_0 ? 18 : 20, qs = type == .q4_0 ? 2 : 4
        for b in 0..<(count / 32) {
            let o = b * bytes, d = half(src, o), m: Float = type == .q4_1 ? half(src, o + 2) : 0
            for j in 0..<16 {
                let q = src[o + qs + j]
                if type == .q4_0 {
                    y[b * 32 + j] = Float(Int32(q & 0x0F) - 8) * d
                    y[b * 32 + j + 16] = Float(Int32(q >> 4) - 8) * d
                } else {
                    y[b * 32 + j] = Float(q & 0x0F) * d + m
                    y[b * 32 + j + 16] = Float(q >> 4) * d + m
                }
            }
        }
    }

    /// Q5_0 and Q5_1 (dequantize_row_q5_0/_q5_1).
    static func q5(_ src: UnsafeRawBufferPointer, count: Int, into y: UnsafeMutablePointer<Float>, type: GGMLType) {
        let bytes = type == .q5_0 ? 22 : 24, hOff = type == .q5_0 ? 2 : 4
        for b in 0..<(count / 32) {
            let o = b * bytes, d = half(src, o), m: Float = type == .q5_1 ? half(src, o + 2) : 0
            let qh = UInt32(littleEndian: src.loadUnaligned(fromByteOffset: o + hOff, as: UInt32.self))
            for j in 0..<16 {
                let q = UInt32(src[o + hOff + 4 + j])
                let h0 = ((qh >> UInt32(j)) << 4) & 0x10, h1 = (qh >> UInt32(j + 12)) & 0x10
                if type == .q5_0 {
                    y[b * 32 + j] = Float(Int32((q & 0x0F) | h0) - 16) * d
                    y[b * 32 + j + 16] = Float(Int32((q >> 4) | h1) - 16) * d
                } else {
                    y[b * 32 + j] = Float((q & 0x0F) | h0) * d + m
                    y[b * 32 + j + 16] = Float((q >> 4) | h1) * d + m
                }
            }
        }
    }

    /// Q4_K and Q5_K (dequantize_row_q4_K/_q5_K).
    static func q4_5K(_ src: UnsafeRawBufferPointer, count: Int, into y: UnsafeMutablePointer<Float>, type: GGMLType) {
        let five = type == .q5_K, bytes = five ? 176 : 144, qsOff = five ? 48 : 16
        src.withMemoryRebound(to: UInt8.self) { p in
            for b in 0..<(count / 256) {
                let o = b * bytes, d = half(src, o), dmin = half(src, o + 2)
                let scales = p.baseAddress! + o + 4, qh = p.baseAddress! + o + 16
                var q = p.baseAddress! + o + qsOff, out = y + b * 256
                for c in 0..<4 {
                    let (s1, m1) = KQuantSearch.scaleMin(2 * c, scales), (s2, m2) = KQuantSearch.scaleMin(2 * c + 1, scales)
                    let d1 = d * Float(s1), mm1 = dmin * Float(m1), d2 = d * Float(s2), mm2 = dmin * Float(m2)
                    let u1 = UInt8(1) << (2 * c), u2 = UInt8(2) << (2 * c)
                    for l in 0..<32 {
                        let hi: UInt8 = five && qh[l] & u1 != 0 ? 16 : 0
                        out[l] = d1 * Float((q[l] & 0xF) + hi) - mm1
                    }
                    for l in 0..<32 {
                        let hi: UInt8 = five && qh[l] & u2 != 0 ? 16 : 0
                        out[32 + l] = d2 * Float((q[l] >> 4) + hi) - mm2
                    }
                    q += 32
                    out += 64
                }
            }
        }
    }

    /// Q6_K (dequantize_row_q6_K).
    static func q6_K(_ src: UnsafeRawBufferPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        src.withMemoryRebound(to: UInt8.self) { p in
            for b in 0..<(count / 256) {
                let o = b * 210, d = half(src, o + 208)
                for h in 0..<2 {
                    let ql = p.baseAddress! + o + 64 * h, qh = p.baseAddress! + o + 128 + 32 * h
                    let sc = UnsafeRawPointer(p.baseAddress! + o + 192 + 8 * h).assumingMemoryBound(to: Int8.self)
                    let out = y + b * 256 + 128 * h
                    for l in 0..<32 {
                        let g = l / 16
                        let q1 = Int32((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32
                        let q2 = Int32((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32
                        let q3 = Int32((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32
                        let q4 = Int32((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32
                        out[l] = d * Float(sc[g]) * Float(q1)
                        out[l + 32] = d * Float(sc[g + 2]) * Float(q2)
                        out[l + 64] = d * Float(sc[g + 4]) * Float(q3)
                        out[l + 96] = d * Float(sc[g + 6]) * Float(q4)
                    }
                }
            }
        }
    }
}
