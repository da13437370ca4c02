/// float32 → IEEE half for whole runs, eight lanes at a time, bit-identical to `FloatBits.floatToHalf`
/// (round to nearest even, overflow to infinity, subnormals, numpy's NaN rule). Integer-only rounding
/// (F. Giesen's method), so it needs no F16C instructions and is fast on baseline x86-64.
public enum HalfConversion {
    /// Converts `count` floats at `src` to halves at `dst`.
    public static func convert(_ src: UnsafePointer<Float>, count: Int, into dst: UnsafeMutablePointer<UInt16>) {
        var i = 0
        let raw = UnsafeRawPointer(src)
        while i + 8 <= count {
            let bits = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<UInt32>.self)
            let h = lanes(bits)
            for k in 0..<8 { dst[i + k] = UInt16(truncatingIfNeeded: h[k]) }
            i += 8
        }
        while i < count {
            dst[i] = FloatBits.floatToHalf(src[i])
            i += 1
        }
    }

    @inline(__always)
    static func lanes(_ u: SIMD8<UInt32>) -> SIMD8<UInt32> {
        let sign = u & 0x8000_0000
        let a = u ^ sign
        // normal range: rebias the exponent and round the 13 dropped bits to nearest even
        let odd = (a &>> 13) & 1
        var out = (a &+ 0xC800_0FFF &+ odd) &>> 13  // 0xC8000000 = (15 - 127) << 23, plus 0xFFF for rounding
        // subnormal halves (and zero): let the FPU align the mantissa with a magic add
        let magic: UInt32 = 126 << 23
        let f = unsafeBitCast(a, to: SIMD8<Float>.self) + Float(bitPattern: magic)
        let sub = unsafeBitCast(f, to: SIMD8<UInt32>.self) &- magic
        out.replace(with: sub, where: a .< (113 << 23))
        // too large: infinity; NaN keeps its top mantissa bits (never becoming infinity)
        out.replace(with: 0x7C00, where: a .>= (143 << 23))
        var nan = 0x7C00 &+ ((a & 0x007F_FFFF) &>> 13)
        nan.replace(with: 0x7C01, where: nan .== 0x7C00)
        out.replace(with: nan, where: a .> 0x7F80_0000)
        return out | (sign &>> 16)
    }
}
