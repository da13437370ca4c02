import CCPUFeatures
import DSMFormats
import DSMQuantKernels
import DSMQuantKernelsAVX2
import DSMSystem

/// Picks the kernel build for this CPU once: AVX2 where the CPU has it, the baseline x86-64 (or native
/// arm64) build elsewhere. Both give ggml's reference bytes; `DSM_KERNELS=baseline` forces the portable one.
public enum QuantKernels {
    /// "avx2" or "baseline".
    public static let selected: String = {
        if let forced = CurrentProcess.environment("DSM_KERNELS"), forced == "baseline" { return "baseline" }
        return dsm_cpu_has_avx2() != 0 ? "avx2" : "baseline"
    }()

    /// The storage types the kernels write.
    public static var writes: Set<GGMLType> { DSMQuantKernels.BlockQuantizer.targets }

    /// Encodes `count` floats as `type` with the selected build.
    public static let encode: @Sendable (UnsafePointer<Float>, Int, GGMLType, UnsafeMutableRawPointer) -> Void = {
        if selected == "avx2" {
            return { (x: UnsafePointer<Float>, n: Int, t: GGMLType, o: UnsafeMutableRawPointer) in
                DSMQuantKernelsAVX2.BlockQuantizer.quantize(x, count: n, as: t, into: o)
            }
        }
        return { (x: UnsafePointer<Float>, n: Int, t: GGMLType, o: UnsafeMutableRawPointer) in
            DSMQuantKernels.BlockQuantizer.quantize(x, count: n, as: t, into: o)
        }
    }()
}
