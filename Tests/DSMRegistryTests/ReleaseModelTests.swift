import Testing
import Foundation
import DSMRegistry

/// Property-style check: thousands of random command sequences, each command applied both to the real state
/// machine and to a deliberately naive model of what the issue says must happen; after every step both must agree
/// on whether the command was refused and on the resulting routing, tags and versions. Refused commands must leave
/// the state exactly as it was.
@Suite struct ReleaseModelTests {
    struct Model {
        var versions: [Int] = []
        var next = 1
        var stable: Int?
        var canary: Int?
        var weight = 0
        var tags: [String: Int] = [:]
        var stack: [Int] = []

        /// Returns false when the command must be refused (and then changes nothing).
        mutating func apply(_ c: ReleaseCommand) -> Bool {
            let copy = self
            let ok = step(c)
            if !ok { self = copy }
            return ok
        }

        mutating func step(_ c: ReleaseCommand) -> Bool {
            switch c {
            case .addVersion:
                if versions.isEmpty { stable = next }
                versions.append(next)
                next += 1
                return true
            case .release(let v, let w):
                if let w, w < 0 || w > 100 { return false }
                guard let target = v ?? canary, versions.contains(target), target != stable else { return false }
                weight = w ?? (v != nil && v != canary ? 0 : weight)
                canary = target
                return true
            case .promote:
                guard let c = canary else { return false }
                if let s = stable { stack.append(s) }
                stable = c; canary = nil; weight = 0
                return true
            case .rollback(let to):
                if let to {
                    guard versions.contains(to), to != stable else { return false }
                    if let s = stable { stack.append(s) }
                    stable = to
                } else {
                    stack = stack.filter { versions.contains($0) }
                    while stack.last == stable, stable != nil { stack.removeLast() }
                    guard let p = stack.popLast() else { return false }
                    stable = p
                }
                canary = nil; weight = 0
                return true
            case .tag(let t, let v):
                guard versions.contains(v), ReleaseState.isTagName(t) else { return false }
                tags[t] = v
                return true
            case .untag(let t):
                guard tags[t] != nil else { return false }
                tags[t] = nil
                return true
            case .remove(let v, let force):
                guard versions.contains(v) else { return false }
                let used = stable == v || canary == v || tags.values.contains(v)
                if used && !force { return false }
                versions.removeAll { $0 == v }
                if stable == v { stable = nil }
                if canary == v { canary = nil; weight = 0 }
                tags = tags.filter { $0.value != v }
                stack.removeAll { $0 == v }
                return true
            }
        }
    }

    @Test func randomSequencesAgreeWithTheModel() {
        var rng = SystemRandomNumberGenerator()
        var seed = UInt64.random(in: 0...UInt64.max, using: &rng)
        let initialSeed = seed
        func next(_ n: Int) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int((seed >> 33) % UInt64(n))
        }
        for run in 0..<400 {
            var state = ReleaseState(name: "m:t")
            var model = Model()
            for step in 0..<60 {
                let v = next(8)
                let command: ReleaseCommand
                switch next(9) {
                case 0, 1: command = .addVersion(manifest: "m\(run).\(step)", contentKey: "k\(run).\(step)", createdAt: "")
                case 2: command = .release(canary: next(3) == 0 ? nil : v, weight: next(4) == 0 ? nil : next(120) - 10)
                case 3: command = .promote
                case 4: command = .rollback(to: next(2) == 0 ? nil : v)
                case 5: command = .tag(["a", "prod", "v2", "stable", "x.y"][next(5)], version: v)
                case 6: command = .untag(["a", "prod", "zz"][next(3)])
                default: command = .remove(version: v, force: next(2) == 0)
                }
                let before = state
                let modelOK = model.apply(command)
                do {
                    state = try state.apply(command)
                    #expect(modelOK, "seed \(initialSeed) run \(run) step \(step): \(command) accepted, the model refuses it")
                } catch {
                    #expect(!modelOK, "seed \(initialSeed) run \(run) step \(step): \(command) refused (\(error)), the model accepts it")
                    #expect(state == before)
                }
                #expect(state.versions.map(\.number) == model.versions && state.stable == model.stable && state.canary == model.canary
                        && state.routing.weight == model.weight && state.tags == model.tags,
                        "seed \(initialSeed) run \(run) step \(step) after \(command)")
                // invariants
                #expect(state.canary == nil || state.canary != state.stable)
                #expect((0...100).contains(state.weight))
                if !(state.versions.map(\.number) == model.versions && state.stable == model.stable) { return }
            }
        }
    }
}
