/// A change to a name's release state. Each one is validated by `ReleaseState.apply`.
public enum ReleaseCommand: Sendable, Equatable {
    /// A new version (from pull, convert, quantize, create). The first version of a name becomes stable. A version
    /// whose content key equals an existing version's adds nothing.
    case addVersion(manifest: String, contentKey: String, createdAt: String)
    /// Start or change a canary: `canary` (nil keeps the current one) gets `weight` percent (nil keeps the weight).
    case release(canary: Int?, weight: Int?)
    /// The canary becomes stable (the old stable is remembered for rollback); the canary is cleared.
    case promote
    /// Stable goes back to the previous stable (or to `to`); any canary is cleared.
    case rollback(to: Int?)
    /// Point `tag` at `version` (moving it if it exists).
    case tag(String, version: Int)
    /// Remove a tag.
    case untag(String)
    /// Delete a version. Refused while a channel or tag points at it, unless `force` (which clears those pointers;
    /// deleting the stable version with `force` leaves the name without a stable until a release or rollback).
    case remove(version: Int, force: Bool)

    /// The verb recorded in the history log.
    public var verb: String {
        switch self {
        case .addVersion: return "add"
        case .release: return "release"
        case .promote: return "promote"
        case .rollback: return "rollback"
        case .tag: return "tag"
        case .untag: return "untag"
        case .remove: return "rm"
        }
    }
}

/// Why a release command was refused; the state is unchanged.
public struct ReleaseError: Error, Equatable, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ message: String) { description = message }
}

extension ReleaseState {
    /// Applies `command`, returning the new state, or throws and changes nothing.
    public func apply(_ command: ReleaseCommand) throws(ReleaseError) -> ReleaseState {
        var s = self
        func require(_ n: Int) throws(ReleaseError) {
            guard version(n) != nil else {
                let known = versions.map { "v\($0.number)" }.joined(separator: ", ")
                throw ReleaseError("\(name) has no version v\(n)" + (known.isEmpty ? " (it has no versions)" : "; it has \(known)"))
            }
        }
        switch command {
        case .addVersion(let manifest, let key, let createdAt):
            if versions.contains(where: { $0.contentKey == key }) { return self }
            let n = nextNumber
            s.lastNumber = n
            s.versions.append(VersionRecord(number: n, manifest: manifest, contentKey: key, createdAt: createdAt))
            if s.stable == nil && versions.isEmpty { s.stable = n }
        case .release(let canary, let weight):
            if let w = weight, !(0...100).contains(w) { throw ReleaseError("the weight must be 0 to 100 (percent of requests), not \(w)") }
            guard let target = canary ?? self.canary else {
                throw ReleaseError("\(name) has no canary to adjust; name one: --canary vN")
            }
            try require(target)
            guard target != stable else { throw ReleaseError("v\(target) is already the stable version of \(name)") }
            s.canary = target
            s.weight = weight ?? (canary != nil && canary != self.canary ? 0 : self.weight)
        case .promote:
            guard let c = canary else { throw ReleaseError("\(name) has no canary to promote; start one with `dsm release \(name) --canary vN`") }
            if let old = stable { s.previousStables.append(old) }
            s.stable = c
            s.canary = nil
            s.weight = 0
        case .rollback(let to):
            if let to {
                try require(to)
                guard to != stable else { throw ReleaseError("v\(to) is already the stable version of \(name)") }
                if let old = stable { s.previousStables.append(old) }
                s.stable = to
            } else {
                var history = previousStables
                while let last = history.last, version(last) == nil || last == stable { history.removeLast() }
                guard let previous = history.popLast() else {
                    throw ReleaseError("\(name) has no previous stable version to roll back to; use --to vN")
                }
                s.previousStables = history
                s.stable = previous
            }
            s.canary = nil
            s.weight = 0
        case .tag(let tag, let n):
            guard ReleaseState.isTagName(tag) else {
                throw ReleaseError("'\(tag)' is not a valid tag: 1-64 letters, digits, '-', '_' or '.', starting with a letter (and not 'stable', 'canary', 'latest' or vN)")
            }
            try require(n)
            s.tags[tag] = n
        case .untag(let tag):
            guard tags[tag] != nil else { throw ReleaseError("\(name) has no tag '\(tag)'") }
            s.tags[tag] = nil
        case .remove(let n, let force):
            try require(n)
            let refs = references(to: n)
            if !refs.isEmpty && !force {
                throw ReleaseError("v\(n) of \(name) is in use (\(refs.joined(separator: ", "))); move those first, or pass --force")
            }
            s.versions.removeAll { $0.number == n }
            if s.stable == n { s.stable = nil }
            if s.canary == n { s.canary = nil; s.weight = 0 }
            s.tags = s.tags.filter { $0.value != n }
            s.previousStables.removeAll { $0 == n }
        }
        return s
    }

    /// Applies `commands` in order, all or none: the steps that changed something (each command with the state before
    /// and after it; the last `after` is the final state), or the first refusal, in which case nothing applies.
    /// Commands that change nothing are left out, so they are not recorded.
    public func applying(_ commands: [ReleaseCommand]) throws(ReleaseError) -> [(command: ReleaseCommand, before: ReleaseState, after: ReleaseState)] {
        var steps: [(command: ReleaseCommand, before: ReleaseState, after: ReleaseState)] = []
        var current = self
        for command in commands {
            let next = try current.apply(command)
            if next != current { steps.append((command, current, next)) }
            current = next
        }
        return steps
    }

    /// Tags: 1–64 characters from letters, digits, `-`, `_`, `.`, starting with a letter; not a channel name and
    /// not `v<digits>` (which would read as a version).
    public static func isTagName(_ t: String) -> Bool {
        guard (1...64).contains(t.count), let first = t.unicodeScalars.first, ("a"..."z").contains(first) || ("A"..."Z").contains(first) else { return false }
        guard t.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0) }) else { return false }
        if ["stable", "canary", "latest"].contains(t) { return false }
        return !(t.hasPrefix("v") && t.count > 1 && t.dropFirst().allSatisfy(\.isNumber))
    }
}
