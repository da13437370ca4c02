import DSMFormats

/// ggml's reference quantizers for the 32-element block formats (`quantize_row_*_ref` in ggml-quants.c),
/// in float32 with the exact operation order of the C code and no fused multiply-add, so the bytes equal
/// llama.cpp's strict (`-ffp-contract=off`) build. These are the scalar references; fast kernels must
/// match them byte for byte.
public enum LegacyQuantizers {
    /// ggml's fp32 → fp16 (`ggml_compute_fp32_to_fp16`): round to nearest even, NaN → 0x7E00 with the sign.
    @inline(__always)
    public static func fp16(_ f: Float) -> UInt16 {
        f.isNaN ? UInt16(truncatingIfNeeded: (f.bitPattern >> 16) & 0x8000) | 0x7E00 : HalfConversion.bits(f)
    }

    @inline(__always)
    static func store16(_ v: UInt16, _ p: UnsafeMutableRawPointer, _ offset: Int) {
        p.storeBytes(of: v.littleEndian, toByteOffset: offset, as: UInt16.self)
    }

    /// C's `(int8_t)f` for the values these quantizers produce (truncation toward zero).
    @inline(__always)
    static func int8(_ f: Float) -> Int32 { f.isFinite ? Int32(Int8(clamping: Int64(f))) : 0 }

    /// Q8_0: per 32 values, `d = amax/127`, `q = roundf(x/d)`; 34 bytes per block.
    public static func q8_0(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutableRawPointer) {
        precondition(count % 32 == 0)
        for b in 0..<(count / 32) {
            let v = x + b * 32, o = out + b * 34
            var amax: Float = 0
            for j in 0..<32 {
                let a = abs(v[j])
                amax = amax > a ? amax : a
            }
            let d = amax / 127
            let id: Float = d != 0 ? 1 / d : 0
            store16(fp16(d), o, 0)
            for j in 0..<32 {
                let q = (v[j] * id).rounded()  // roundf: half away from zero
                o.storeBytes(of: q.isFinite ? Int8(clamping: Int64(q)) : 0, toByteOffset: 2 + j, as: Int8.self)
            }
        }
    }

    /// The signed value of largest magnitude (first wins on ties), as Q4_0/Q5_0 find it.
    @inline(__always)
    static func signedMax(_ v: UnsafePointer<Float>) -> Float {
        var amax: Float = 0, max: Float = 0
        for j in 0..<32 where amax < abs(v[j]) {
            amax = abs(v[j])
            max = v[j]
        }
        return max
    }

    /// Q4_0: `d = max/-8`, `q = min(15, int8(x/d + 8.5))`, two values per byte; 18 bytes per block.
    public static func q4_0(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutableRawPointer) {
        precondition(count % 32 == 0)
        for b in 0..<(count / 32) {
            let v = x + b * 32, o = out + b * 18
            let d = signedMax(v) / -8
            let id: Float = d != 0 ? 1 / d : 0
            store16(fp16(d), o, 0)
            for j in 0..<16 {
                let lo = min(15, int8(v[j] * id + 8.5)), hi = min(15, int8(v[j + 16] * id + 8.5))
                o.storeBytes(of: UInt8(truncatingIfNeeded: lo | (hi << 4)), toByteOffset: 2 + j, as: UInt8.self)
            }
        }
    }

    /// Q5_0: `d = max/-16`, `q = min(31, int8(x/d + 16.5))`, low nibbles packed, fifth bits in `qh`; 22 bytes.
    public static func q5_0(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutableRawPointer) {
        precondition(count % 32 == 0)
        for b in 0..<(count / 32) {
            let v = x + b * 32, o = out + b * 22
            let d = signedMax(v) / -16
            let id: Float = d != 0 ? 1 / d : 0
            store16(fp16(d), o, 0)
            var qh: UInt32 = 0
            for j in 0..<16 {
                let lo = min(31, int8(v[j] * id + 16.5)), hi = min(31, int8(v[j + 16] * id + 16.5))
                o.storeBytes(of: UInt8(truncatingIfNeeded: (lo & 0xF) | ((hi & 0xF) << 4)), toByteOffset: 6 + j, as: UInt8.self)
                qh |= UInt32(truncatingIfNeeded: (lo & 0x10) >> 4) << UInt32(j)
                qh |= UInt32(truncatingIfNeeded: (hi & 0x10) >> 4) << UInt32(j + 16)
            }
            o.storeBytes(of: qh.littleEndian, toByteOffset: 2, as: UInt32.self)
        }
    }

    @inline(__always)
    static func minMax(_ v: UnsafePointer<Float>) -> (Float, Float) {
        var lo = Float.greatestFiniteMagnitude, hi = -Float.greatestFiniteMagnitude
        for j in 0..<32 {
            if v[j] < lo { lo = v[j] }
            if v[j] > hi { hi = v[j] }
        }
        return (lo, hi)
    }

    /// Q4_1: `d = (max-min)/15`, `q = min(15, int8((x-min)/d + 0.5))`, with `d` and `min` stored; 20 bytes.
    public static func q4_1(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutableRawPointer) {
        precondition(count % 32 == 0)
        for b in 0..<(count / 32) {
            let v = x + b * 32, o = out + b * 20
            let (lo, hi) = minMax(v)
            let d = (hi - lo) / 15
            let id: Float = d != 0 ? 1 / d : 0
            store16(fp16(d), o, 0)
            store16(fp16(lo), o, 2)
            for j in 0..<16 {
                let a = min(15, int8((v[j] - lo) * id + 0.5)), c = min(15, int8((v[j + 16] - lo) * id + 0.5))
                o.storeBytes(of: UInt8(truncatingIfNeeded: a | (c << 4)), toByteOffset: 4 + j, as: UInt8.self)
            }
        }
    }

    /// Q5_1: `d = (max-min)/31`, `q = uint8((x-min)/d + 0.5)` (no clamp, as in ggml); 24 bytes.
    public static func q5_1(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutableRawPointer) {
        precondition(count % 32 == 0)
        for b in 0..<(count / 32) {
            let v = x + b * 32, o = out + b * 24
            let (lo, hi) = minMax(v)
            let d = (hi - lo) / 31
            let id: Float = d != 0 ? 1 / d : 0
            store16(fp16(d), o, 0)
            store16(fp16(lo), o, 2)
            var qh: UInt32 = 0
            for j in 0..<16 {
                let f0 = (v[j] - lo) * id + 0.5, f1 = (v[j + 16] - lo) * id + 0.5
                let a = f0.isFinite ? UInt32(truncatingIfNeeded: Int64(f0)) & 0xFF : 0
                let c = f1.isFinite ? UInt32(truncatingIfNeeded: Int64(f1)) & 0xFF : 0
                o.storeBytes(of: UInt8(truncatingIfNeeded: (a & 0xF) | ((c & 0xF) << 4)), toByteOffset: 8 + j, as: UInt8.self)
                qh |= ((a & 0x10) >> 4) << UInt32(j)
                qh |= ((c & 0x10) >> 4) << UInt32(j + 16)
            }
            o.storeBytes(of: qh.littleEndian, toByteOffset: 4, as: UInt32.self)
        }
    }
}
