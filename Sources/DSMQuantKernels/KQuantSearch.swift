/// The scale searches behind ggml's k-quants (`nearest_int`, `make_qkx2_quants`, `make_qx_quants` in
/// ggml-quants.c), in float32, in the C code's exact operation order, never fused. Sums run from index 0.
enum KQuantSearch {
    /// `nearest_int`: add 1.5·2²³ and read the low mantissa bits; round half to even for |f| ≤ 4194303.
    /// Reproduces C's bits for every input, NaN and huge values included.
    @inline(__always)
    static func nearestInt(_ f: Float) -> Int32 {
        Int32(bitPattern: (f + 12582912).bitPattern & 0x007F_FFFF) &- 0x0040_0000
    }

    /// `MAX(lo, MIN(hi, v))`.
    @inline(__always)
    static func clamp(_ v: Int32, _ lo: Int32, _ hi: Int32) -> Int32 { max(lo, min(hi, v)) }

    /// `make_qkx2_quants(n, nmax, x, weights, L, &the_min, Laux, rmin, rdelta, nstep, use_mad: false)`.
    /// Returns the scale and `-min`; levels go to `levels`.
    static func qkx2(_ n: Int, _ nmax: Int32, _ x: UnsafePointer<Float>, _ weights: UnsafePointer<Float>,
                     _ levels: UnsafeMutablePointer<UInt8>, rmin: Float, rdelta: Float, nstep: Int) -> (scale: Float, theMin: Float) {
        var minV = x[0], maxV = x[0]
        var sumW = weights[0]
        var sumX = sumW * x[0]
        for i in 1..<n {
            if x[i] < minV { minV = x[i] }
            if x[i] > maxV { maxV = x[i] }
            let w = weights[i]
            sumW += w
            sumX += w * x[i]
        }
        if minV > 0 { minV = 0 }
        if maxV == minV {
            for i in 0..<n { levels[i] = 0 }
            return (0, -minV)
        }
        let fmax = Float(nmax)
        var iscale = fmax / (maxV - minV)
        var scale = 1 / iscale
        var bestError: Float = 0
        for i in 0..<n {
            let l = clamp(nearestInt(iscale * (x[i] - minV)), 0, nmax)
            levels[i] = UInt8(truncatingIfNeeded: l)
            let diff = scale * Float(l) + minV - x[i]
            bestError += weights[i] * (diff * diff)
        }
        var aux = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))  // 32 bytes of scratch levels
        return withUnsafeMutableBytes(of: &aux) { raw in
            let laux = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            for step in 0...nstep {
                iscale = (rmin + rdelta * Float(step) + fmax) / (maxV - minV)
                var sumL: Float = 0, sumL2: Float = 0, sumXL: Float = 0
                for i in 0..<n {
                    let l = clamp(nearestInt(iscale * (x[i] - minV)), 0, nmax)
                    laux[i] = UInt8(truncatingIfNeeded: l)
                    let w = weights[i], fl = Float(l)
                    sumL += w * fl
                    sumL2 += w * fl * fl
                    sumXL += w * fl * x[i]
                }
                let D = sumW * sumL2 - sumL * sumL
                if D > 0 {
                    var thisScale = (sumW * sumXL - sumX * sumL) / D
                    var thisMin = (sumL2 * sumX - sumL * sumXL) / D
                    if thisMin > 0 {
                        thisMin = 0
                        thisScale = sumXL / sumL2
                    }
                    var cur: Float = 0
                    for i in 0..<n {
                        let diff = thisScale * Float(laux[i]) + thisMin - x[i]
                        cur += weights[i] * (diff * diff)
                    }
                    if cur < bestError {
                        for i in 0..<n { levels[i] = laux[i] }
                        bestError = cur
                        scale = thisScale
                        minV = thisMin
                    }
                }
            }
            return (scale, -minV)
        }
    }

    /// `make_qx_quants(n, nmax, x, L, rmse_type: 1, qw: NULL)`: symmetric levels `l + nmax` in `levels`; returns the scale.
    static func qx(_ n: Int, _ nmax: Int32, _ x: UnsafePointer<Float>, _ levels: UnsafeMutablePointer<Int8>) -> Float {
        var maxV: Float = 0, amax: Float = 0
        for i in 0..<n {
            let ax = abs(x[i])
            if ax > amax { amax = ax; maxV = x[i] }
        }
        if amax < 1e-15 {
            for i in 0..<n { levels[i] = 0 }
            return 0
        }
        let fmax = Float(nmax)
        var iscale = -fmax / maxV
        var sumLX: Float = 0, sumL2: Float = 0
        for i in 0..<n {
            let l = clamp(nearestInt(iscale * x[i]), -nmax, nmax - 1)
            levels[i] = Int8(truncatingIfNeeded: l + nmax)
            let w = x[i] * x[i], fl = Float(l)
            sumLX += w * x[i] * fl
            sumL2 += w * fl * fl
        }
        var scale: Float = sumL2 != 0 ? sumLX / sumL2 : 0
        var best = scale * sumLX
        for step in -9...9 where step != 0 {
            iscale = -(fmax + 0.1 * Float(step)) / maxV
            sumLX = 0
            sumL2 = 0
            for i in 0..<n {
                let l = clamp(nearestInt(iscale * x[i]), -nmax, nmax - 1)
                let w = x[i] * x[i], fl = Float(l)
                sumLX += w * x[i] * fl
                sumL2 += w * fl * fl
            }
            if sumL2 > 0 && sumLX * sumLX > best * sumL2 {
                for i in 0..<n {
                    levels[i] = Int8(truncatingIfNeeded: nmax + clamp(nearestInt(iscale * x[i]), -nmax, nmax - 1))
                }
                scale = sumLX / sumL2
                best = scale * sumLX
            }
        }
        return scale
    }

    /// Packs eight 6-bit scales and mins into the 12-byte k-quant layout.
    @inline(__always)
    static func packScales(_ ls: UnsafePointer<UInt8>, _ lm: UnsafePointer<UInt8>, into s: UnsafeMutablePointer<UInt8>) {
        for j in 0..<12 { s[j] = 0 }
        for j in 0..<8 {
            if j < 4 {
                s[j] = ls[j]
                s[j + 4] = lm[j]
            } else {
                s[j + 4] = (ls[j] & 0xF) | ((lm[j] & 0xF) << 4)
                s[j - 4] |= (ls[j] >> 4) << 6
                s[j] |= (lm[j] >> 4) << 6
            }
        }
    }

    /// `get_scale_min_k4`: the j-th 6-bit scale and min back out of the packed bytes.
    @inline(__always)
    static func scaleMin(_ j: Int, _ q: UnsafePointer<UInt8>) -> (UInt8, UInt8) {
        if j < 4 { return (q[j] & 63, q[j + 4] & 63) }
        return ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4))
    }
}
