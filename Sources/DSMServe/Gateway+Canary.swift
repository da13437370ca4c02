import DSMRegistry
import DSMServeCore
import DSMStore
import Foundation

extension Gateway {
    /// The canary watch: records one answer of `name`@`version`; when the canary failed more than
    /// `--auto-rollback-error-rate` of the last `--auto-rollback-window` answers, its weight goes to 0.
    func watchCanary(_ name: String, version: Int, failed: Bool) {
        guard let threshold = options.autoRollbackErrorRate,
              let split = fleet.split(of: name), split.canary == version, split.weight > 0 else { return }
        let window = options.autoRollbackWindow
        let trip: Double? = lock.withLock {
            var o = canaryOutcomes["\(name)@\(version)", default: []]
            o.append(failed)
            if o.count > window { o.removeFirst(o.count - window) }
            canaryOutcomes["\(name)@\(version)"] = o
            let rate = Double(o.filter { $0 }.count) / Double(o.count)
            guard o.count >= window, rate > threshold else { return nil }
            canaryOutcomes["\(name)@\(version)"] = []
            return rate
        }
        guard let rate = trip, let model = try? ModelName(parsing: name) else { return }
        let why = "dsm serve: automatic rollback: canary v\(version) failed \(Int(rate * 100))% of the last \(window) requests (threshold \(Int(threshold * 100))%)"
        do {
            try fleet.registry.change(model, .release(canary: nil, weight: 0), command: why)
            log(why + "; its weight is now 0")
        } catch {
            log("automatic rollback of \(name) failed: \(error)")
        }
    }
}
