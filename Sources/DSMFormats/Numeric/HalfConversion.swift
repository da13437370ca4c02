/// float32 → IEEE half for whole runs, bit-identical to `FloatBits.floatToHalf` (round to nearest even,
/// overflow to infinity, subnormals, numpy's NaN rule) but with integer-only rounding (F. Giesen's
/// method), so it needs no F16C instructions: about 1.7 G values/s on one baseline x86-64 core, against
/// 70 M/s for `Float16(x)`, which calls a runtime routine there. (A `SIMD8` formulation measured 57 M/s:
/// the plain loop is what the compiler vectorizes well.)
public enum HalfConversion {
    /// Converts `count` floats at `src` to halves at `dst`.
    public static func convert(_ src: UnsafePointer<Float>, count: Int, into dst: UnsafeMutablePointer<UInt16>) {
        for i in 0..<count { dst[i] = bits(src[i]) }
    }

    @inline(__always)
    public static func bits(_ f: Float) -> UInt16 {
        let u = f.bitPattern
        let sign = u & 0x8000_0000
        let a = u ^ sign
        var o: UInt32
        if a >= 143 << 23 {  // ≥ 65536 before rounding: infinity, or NaN keeping its top mantissa bits
            if a > 0x7F80_0000 {
                o = 0x7C00 &+ ((a & 0x007F_FFFF) >> 13)
                if o == 0x7C00 { o = 0x7C01 }
            } else {
                o = 0x7C00
            }
        } else if a < 113 << 23 {  // subnormal half or zero: let the FPU align the mantissa with a magic add
            let magic: UInt32 = 126 << 23
            o = (Float(bitPattern: a) + Float(bitPattern: magic)).bitPattern &- magic
        } else {  // normal: rebias the exponent ((15 - 127) << 23) and round the 13 dropped bits to even
            o = (a &+ 0xC800_0FFF &+ ((a >> 13) & 1)) >> 13
        }
        return UInt16(truncatingIfNeeded: o | (sign >> 16))
    }
}
