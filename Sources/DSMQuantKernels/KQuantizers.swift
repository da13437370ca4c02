import DSMFormats

/// ggml's reference k-quantizers (`quantize_row_q4_K_ref`, `_q5_K_ref`, `_q6_K_ref`): super-blocks of 256
/// values, scalar, in the C code's operation order. These are the references the lane kernels
/// (`KQuantLanes`) must match byte for byte, and what runs for a tail of fewer than eight blocks.
public enum KQuantizers {
    /// Q4_K: eight sub-blocks of 32 with 6-bit scales and mins, 4-bit levels; 144 bytes per 256 values.
    public static func q4_K(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutableRawPointer) {
        precondition(count % 256 == 0)
        for b in 0..<(count / 256) { qkx(x + b * 256, into: out + b * 144, nmax: 15, rmin: -1, nstep: 20) }
    }

    /// Q5_K: as Q4_K with 5-bit levels (the fifth bits in `qh`); 176 bytes per 256 values.
    public static func q5_K(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutableRawPointer) {
        precondition(count % 256 == 0)
        for b in 0..<(count / 256) { qkx(x + b * 256, into: out + b * 176, nmax: 31, rmin: -0.5, nstep: 15) }
    }

    /// One Q4_K (nmax 15) or Q5_K (nmax 31) super-block.
    static func qkx(_ x: UnsafePointer<Float>, into o: UnsafeMutableRawPointer, nmax: Int32, rmin: Float, nstep: Int) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { lbuf in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 48) { fbuf in
                let L = lbuf.baseAddress!, weights = fbuf.baseAddress!, scales = weights + 32, mins = weights + 40
                for j in 0..<8 {
                    let v = x + 32 * j
                    var sumX2: Float = 0
                    for l in 0..<32 { sumX2 += v[l] * v[l] }
                    let avX = (sumX2 / 32).squareRoot()
                    for l in 0..<32 { weights[l] = avX + abs(v[l]) }
                    (scales[j], mins[j]) = KQuantSearch.qkx2(32, nmax, v, weights, L + 32 * j, rmin: rmin, rdelta: 0.1, nstep: nstep)
                }
                qkxFinish(x, L, scales, mins, nmax: nmax, into: o)
            }
        }
    }

    /// The part of a Q4_K/Q5_K block after the sub-block searches: 6-bit scales and mins, block scales,
    /// final levels, packing. Shared by the scalar reference and the lane kernels.
    static func qkxFinish(_ x: UnsafePointer<Float>, _ L: UnsafeMutablePointer<UInt8>, _ scales: UnsafePointer<Float>,
                          _ mins: UnsafePointer<Float>, nmax: Int32, into o: UnsafeMutableRawPointer) {
        var maxScale: Float = 0, maxMin: Float = 0
        for j in 0..<8 {
            if scales[j] > maxScale { maxScale = scales[j] }
            if mins[j] > maxMin { maxMin = mins[j] }
        }
        let invScale: Float = maxScale > 0 ? 63 / maxScale : 0
        let invMin: Float = maxMin > 0 ? 63 / maxMin : 0
        var six = (UInt64(0), UInt64(0))  // ls[8], lm[8]
        withUnsafeMutableBytes(of: &six) { raw in
            let ls = raw.baseAddress!.assumingMemoryBound(to: UInt8.self), lm = ls + 8
            for j in 0..<8 {
                ls[j] = min(63, UInt8(truncatingIfNeeded: KQuantSearch.nearestInt(invScale * scales[j])))
                lm[j] = min(63, UInt8(truncatingIfNeeded: KQuantSearch.nearestInt(invMin * mins[j])))
            }
            KQuantSearch.packScales(ls, lm, into: (o + 4).assumingMemoryBound(to: UInt8.self))
        }
        let packed = UnsafePointer((o + 4).assumingMemoryBound(to: UInt8.self))
        let d16 = LegacyQuantizers.fp16(maxScale / 63), dmin16 = LegacyQuantizers.fp16(maxMin / 63)
        LegacyQuantizers.store16(d16, o, 0)
        LegacyQuantizers.store16(dmin16, o, 2)
        let d = FloatBits.halfToFloat(d16), dmin = FloatBits.halfToFloat(dmin16)
        for j in 0..<8 {
            let (sc, m) = KQuantSearch.scaleMin(j, packed)
            let dj = d * Float(sc)
            if dj == 0 { continue }
            let dm = dmin * Float(m)
            for i in 0..<32 {
                L[32 * j + i] = UInt8(truncatingIfNeeded: KQuantSearch.clamp(KQuantSearch.nearestInt((x[32 * j + i] + dm) / dj), 0, nmax))
            }
        }
        packLevels(L, into: o, nmax: nmax)
    }

    /// Writes Q4_K `qs` or Q5_K `qh` + `qs` from 256 levels.
    @inline(__always)
    static func packLevels(_ L: UnsafePointer<UInt8>, into o: UnsafeMutableRawPointer, nmax: Int32) {
        let q = o.assumingMemoryBound(to: UInt8.self)
        if nmax == 15 {
            for c in 0..<4 {
                for l in 0..<32 { q[16 + 32 * c + l] = L[64 * c + l] | (L[64 * c + 32 + l] << 4) }
            }
            return
        }
        let qh = q + 16, ql = q + 48
        for j in 0..<32 { qh[j] = 0 }
        for c in 0..<4 {
            let m1 = UInt8(1) << (2 * c), m2 = UInt8(2) << (2 * c)
            for j in 0..<32 {
                var l1 = L[64 * c + j], l2 = L[64 * c + 32 + j]
                if l1 > 15 { l1 -= 16; qh[j] |= m1 }
                if l2 > 15 { l2 -= 16; qh[j] |= m2 }
                ql[32 * c + j] = l1 | (l2 << 4)
            }
        }
    }

    /// Q6_K: sixteen groups of 16 with 8-bit scales, 6-bit levels; 210 bytes per 256 values.
    public static func q6_K(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutableRawPointer) {
        precondition(count % 256 == 0)
        withUnsafeTemporaryAllocation(of: Int8.self, capacity: 256) { lbuf in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { sbuf in
                let L = lbuf.baseAddress!, scales = sbuf.baseAddress!
                for b in 0..<(count / 256) {
                    let v = x + b * 256, o = out + b * 210
                    var maxScale: Float = 0, maxAbsScale: Float = 0
                    for g in 0..<16 {
                        let s = KQuantSearch.qx(16, 32, v + 16 * g, L + 16 * g)
                        scales[g] = s
                        if abs(s) > maxAbsScale { maxAbsScale = abs(s); maxScale = s }
                    }
                    q6KFinish(v, L, scales, maxScale: maxScale, maxAbsScale: maxAbsScale, into: o)
                }
            }
        }
    }

    /// The part of a Q6_K block after the group searches: block scale, final levels, packing.
    @inline(__always)
    static func q6KFinish(_ v: UnsafePointer<Float>, _ L: UnsafeMutablePointer<Int8>, _ scales: UnsafePointer<Float>,
                          maxScale: Float, maxAbsScale: Float, into o: UnsafeMutableRawPointer) {
        let bytes = o.assumingMemoryBound(to: UInt8.self)
        if maxAbsScale < 1e-15 {
            for i in 0..<210 { bytes[i] = 0 }
            return
        }
        let iscale = -128 / maxScale
        let d16 = LegacyQuantizers.fp16(1 / iscale)
        LegacyQuantizers.store16(d16, o, 208)
        let sc = (o + 192).assumingMemoryBound(to: Int8.self)
        for g in 0..<16 { sc[g] = Int8(truncatingIfNeeded: min(127, KQuantSearch.nearestInt(iscale * scales[g]))) }
        let d = FloatBits.halfToFloat(d16)
        for g in 0..<16 {
            let dg = d * Float(sc[g])
            if dg == 0 { continue }
            for i in 0..<16 {
                L[16 * g + i] = Int8(truncatingIfNeeded: KQuantSearch.clamp(KQuantSearch.nearestInt(v[16 * g + i] / dg), -32, 31) + 32)
            }
        }
        packQ6(UnsafeRawPointer(L).assumingMemoryBound(to: UInt8.self), into: bytes)
    }

    /// Q6_K `ql` (low nibbles) and `qh` (high two bits) from 256 levels in 0…63.
    @inline(__always)
    static func packQ6(_ L: UnsafePointer<UInt8>, into o: UnsafeMutablePointer<UInt8>) {
        for h in 0..<2 {
            let ql = o + 64 * h, qh = o + 128 + 32 * h, l0 = L + 128 * h
            for l in 0..<32 {
                ql[l] = (l0[l] & 0xF) | ((l0[l + 64] & 0xF) << 4)
                ql[l + 32] = (l0[l + 32] & 0xF) | ((l0[l + 96] & 0xF) << 4)
                qh[l] = (l0[l] >> 4) | ((l0[l + 32] >> 4) << 2) | ((l0[l + 64] >> 4) << 4) | ((l0[l + 96] >> 4) << 6)
            }
        }
    }
}
