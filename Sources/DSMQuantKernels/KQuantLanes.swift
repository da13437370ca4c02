import DSMFormats

/// The k-quant scale searches for eight super-blocks at once, one block per SIMD lane. Each lane runs
/// exactly the scalar sequence of `KQuantSearch` (same operations, same order, branches turned into
/// masked selects), so the bytes equal the scalar reference; only the work across blocks is parallel.
/// The short per-block finish (scale rounding, final levels, packing) stays scalar.
enum KQuantLanes {
    typealias V = SIMD8<Float>
    typealias I = SIMD8<Int32>
    static let lanes = 8

    @inline(__always)
    static func nearestInt(_ f: V) -> I {
        (unsafeBitCast(f + 12582912, to: I.self) & 0x007F_FFFF) &- 0x0040_0000
    }

    @inline(__always)
    static func abs(_ v: V) -> V { unsafeBitCast(unsafeBitCast(v, to: I.self) & 0x7FFF_FFFF, to: V.self) }

    @inline(__always)
    static func clamp(_ v: I, _ lo: Int32, _ hi: Int32) -> I {
        pointwiseMax(I(repeating: lo), pointwiseMin(I(repeating: hi), v))
    }

    /// Copies 8 consecutive blocks of `n` floats into lane order: `t[i][lane] = x[lane·n + i]`.
    @inline(__always)
    static func transpose(_ x: UnsafePointer<Float>, _ n: Int, into t: UnsafeMutablePointer<V>) {
        for i in 0..<n {
            t[i] = V(x[i], x[n + i], x[2 * n + i], x[3 * n + i], x[4 * n + i], x[5 * n + i], x[6 * n + i], x[7 * n + i])
        }
    }

    /// Q4_K (nmax 15) or Q5_K (nmax 31) for a run of blocks: eight at a time in lanes, the rest scalar.
    static func qkx(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutableRawPointer, nmax: Int32, rmin: Float, nstep: Int) {
        let blocks = count / 256, blockBytes = nmax == 15 ? 144 : 176
        let groups = blocks / lanes
        if groups > 0 {
            withUnsafeTemporaryAllocation(of: V.self, capacity: 256 + 32 + 16) { vbuf in
                withUnsafeTemporaryAllocation(of: I.self, capacity: 256 + 32) { ibuf in
                    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { lbuf in
                        withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { sbuf in
                            let xt = vbuf.baseAddress!, w = xt + 256, scales = w + 32, mins = scales + 8
                            let L = ibuf.baseAddress!, laux = L + 256
                            for g in 0..<groups {
                                let x0 = x + g * lanes * 256
                                transpose(x0, 256, into: xt)
                                for j in 0..<8 {
                                    let v = xt + 32 * j
                                    var sumX2 = V.zero
                                    for l in 0..<32 { sumX2 += v[l] * v[l] }
                                    let avX = (sumX2 / 32).squareRoot()
                                    for l in 0..<32 { w[l] = avX + abs(v[l]) }
                                    (scales[j], mins[j]) = qkx2(v, w, L + 32 * j, laux, nmax: nmax, rmin: rmin, rdelta: 0.1, nstep: nstep)
                                }
                                let ls = lbuf.baseAddress!, s = sbuf.baseAddress!
                                for lane in 0..<lanes {
                                    for i in 0..<256 { ls[i] = UInt8(truncatingIfNeeded: L[i][lane]) }
                                    for j in 0..<8 { s[j] = scales[j][lane]; s[8 + j] = mins[j][lane] }
                                    KQuantizers.qkxFinish(x0 + lane * 256, ls, s, s + 8, nmax: nmax,
                                                          into: out + (g * lanes + lane) * blockBytes)
                                }
                            }
                        }
                    }
                }
            }
        }
        for b in (groups * lanes)..<blocks {
            KQuantizers.qkx(x + b * 256, into: out + b * blockBytes, nmax: nmax, rmin: rmin, nstep: nstep)
        }
    }

    /// `make_qkx2_quants` over 32 values in each of eight lanes (see `KQuantSearch.qkx2`).
    @inline(__always)
    static func qkx2(_ x: UnsafePointer<V>, _ weights: UnsafePointer<V>, _ L: UnsafeMutablePointer<I>, _ laux: UnsafeMutablePointer<I>,
                     nmax: Int32, rmin: Float, rdelta: Float, nstep: Int) -> (V, V) {
        var minV = x[0], maxV = x[0]
        var sumW = weights[0]
        var sumX = sumW * x[0]
        for i in 1..<32 {
            minV.replace(with: x[i], where: x[i] .< minV)
            maxV.replace(with: x[i], where: x[i] .> maxV)
            let w = weights[i]
            sumW += w
            sumX += w * x[i]
        }
        minV.replace(with: 0, where: minV .> 0)
        let flat = maxV .== minV
        let flatMin = minV
        let fmax = Float(nmax)
        var iscale = fmax / (maxV - minV)
        var scale = 1 / iscale
        var bestError = V.zero
        for i in 0..<32 {
            let l = clamp(nearestInt(iscale * (x[i] - minV)), 0, nmax)
            L[i] = l
            let diff = scale * V(l) + minV - x[i]
            bestError += weights[i] * (diff * diff)
        }
        for step in 0...nstep {
            iscale = (rmin + rdelta * Float(step) + fmax) / (maxV - minV)  // minV moves when a step wins, as in C
            var sumL = V.zero, sumL2 = V.zero, sumXL = V.zero
            for i in 0..<32 {
                let l = clamp(nearestInt(iscale * (x[i] - minV)), 0, nmax)
                laux[i] = l
                let w = weights[i], fl = V(l)
                sumL += w * fl
                sumL2 += w * fl * fl
                sumXL += w * fl * x[i]
            }
            let D = sumW * sumL2 - sumL * sumL
            let ok = D .> 0
            if !any(ok) { continue }
            var thisScale = (sumW * sumXL - sumX * sumL) / D
            var thisMin = (sumL2 * sumX - sumL * sumXL) / D
            let positive = thisMin .> 0
            thisMin.replace(with: 0, where: positive)
            thisScale.replace(with: sumXL / sumL2, where: positive)
            var cur = V.zero
            for i in 0..<32 {
                let diff = thisScale * V(laux[i]) + thisMin - x[i]
                cur += weights[i] * (diff * diff)
            }
            let take = ok .& (cur .< bestError)
            if !any(take) { continue }
            for i in 0..<32 { L[i].replace(with: laux[i], where: take) }
            bestError.replace(with: cur, where: take)
            scale.replace(with: thisScale, where: take)
            minV.replace(with: thisMin, where: take)
        }
        if any(flat) {
            for i in 0..<32 { L[i].replace(with: 0, where: flat) }
            scale.replace(with: 0, where: flat)
            minV.replace(with: flatMin, where: flat)
        }
        return (scale, -minV)
    }

    /// Q6_K for a run of blocks: the sixteen group searches of eight blocks in lanes, the finish scalar.
    static func q6_K(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutableRawPointer) {
        let blocks = count / 256
        let groups = blocks / lanes
        if groups > 0 {
            withUnsafeTemporaryAllocation(of: V.self, capacity: 256 + 16) { vbuf in
                withUnsafeTemporaryAllocation(of: I.self, capacity: 256) { ibuf in
                    withUnsafeTemporaryAllocation(of: Int8.self, capacity: 256) { lbuf in
                        withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { sbuf in
                            let xt = vbuf.baseAddress!, scales = xt + 256, L = ibuf.baseAddress!
                            for g in 0..<groups {
                                let x0 = x + g * lanes * 256
                                transpose(x0, 256, into: xt)
                                for grp in 0..<16 { scales[grp] = qx(xt + 16 * grp, L + 16 * grp, nmax: 32) }
                                let ls = lbuf.baseAddress!, s = sbuf.baseAddress!
                                for lane in 0..<lanes {
                                    for i in 0..<256 { ls[i] = Int8(truncatingIfNeeded: L[i][lane]) }
                                    var maxScale: Float = 0, maxAbsScale: Float = 0
                                    for grp in 0..<16 {
                                        let v = scales[grp][lane]
                                        s[grp] = v
                                        if Swift.abs(v) > maxAbsScale { maxAbsScale = Swift.abs(v); maxScale = v }
                                    }
                                    KQuantizers.q6KFinish(x0 + lane * 256, ls, s, maxScale: maxScale, maxAbsScale: maxAbsScale,
                                                          into: out + (g * lanes + lane) * 210)
                                }
                            }
                        }
                    }
                }
            }
        }
        if blocks > groups * lanes {
            KQuantizers.q6_K(x + groups * lanes * 256, count: (blocks - groups * lanes) * 256, into: out + groups * lanes * 210)
        }
    }

    /// `make_qx_quants(16, nmax, x, L, rmse_type: 1)` in each of eight lanes (see `KQuantSearch.qx`).
    @inline(__always)
    static func qx(_ x: UnsafePointer<V>, _ L: UnsafeMutablePointer<I>, nmax: Int32) -> V {
        let n = 16
        var maxV = V.zero, amax = V.zero
        for i in 0..<n {
            let ax = abs(x[i])
            let bigger = ax .> amax
            amax.replace(with: ax, where: bigger)
            maxV.replace(with: x[i], where: bigger)
        }
        let zero = amax .< 1e-15
        let fmax = Float(nmax)
        var iscale = -fmax / maxV
        var sumLX = V.zero, sumL2 = V.zero
        for i in 0..<n {
            let l = clamp(nearestInt(iscale * x[i]), -nmax, nmax - 1)
            L[i] = l &+ nmax
            let w = x[i] * x[i], fl = V(l)
            sumLX += w * x[i] * fl
            sumL2 += w * fl * fl
        }
        var scale = (sumLX / sumL2).replacing(with: 0, where: sumL2 .== 0)
        var best = scale * sumLX
        for step in -9...9 where step != 0 {
            iscale = -(fmax + 0.1 * Float(step)) / maxV
            sumLX = .zero
            sumL2 = .zero
            for i in 0..<n {
                let l = clamp(nearestInt(iscale * x[i]), -nmax, nmax - 1)
                let w = x[i] * x[i], fl = V(l)
                sumLX += w * x[i] * fl
                sumL2 += w * fl * fl
            }
            let take = (sumL2 .> 0) .& (sumLX * sumLX .> best * sumL2)
            if !any(take) { continue }
            for i in 0..<n { L[i].replace(with: clamp(nearestInt(iscale * x[i]), -nmax, nmax - 1) &+ nmax, where: take) }
            scale.replace(with: sumLX / sumL2, where: take)
            best.replace(with: scale * sumLX, where: take)
        }
        if any(zero) {
            for i in 0..<n { L[i].replace(with: 0, where: zero) }
            scale.replace(with: 0, where: zero)
        }
        return scale
    }
}
