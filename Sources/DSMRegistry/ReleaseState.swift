import Foundation

/// One immutable version of a name: its number (v1, v2, …), the digest of its manifest (the manifest bytes are
/// stored as a read-only blob, so the version can never change), and when it was made.
public struct VersionRecord: Codable, Sendable, Equatable {
    public var number: Int
    /// SHA-256 of the version's canonical manifest bytes.
    public var manifest: String
    /// SHA-256 over what the version holds (kind and files): two versions with the same content key are the same
    /// artifact, so re-pulling an unchanged revision adds nothing.
    public var contentKey: String
    public var createdAt: String

    public init(number: Int, manifest: String, contentKey: String, createdAt: String) {
        self.number = number
        self.manifest = manifest
        self.contentKey = contentKey
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey { case number, manifest, contentKey = "content_key", createdAt = "created_at" }
}

/// The release state of one name: its versions and where its channels point. Pure value; every change goes
/// through `ReleaseState.apply`, which validates it and either returns the new state or throws and changes nothing.
public struct ReleaseState: Codable, Sendable, Equatable {
    public static let schema = 1

    public var schema: Int = ReleaseState.schema
    public var name: String
    public var versions: [VersionRecord] = []
    /// The version a request for the name gets when it is not routed to the canary.
    public var stable: Int?
    /// The version under test, and the share of traffic (0–100 %) it gets.
    public var canary: Int?
    public var weight: Int = 0
    /// Free-form tags → version numbers (`prod-candidate` → 3).
    public var tags: [String: Int] = [:]
    /// Earlier stable versions, most recent last: what `rollback` goes back to.
    public var previousStables: [Int] = []
    /// The highest version number ever given (numbers are never reused, even after `rm`).
    public var lastNumber: Int = 0
    /// How many changes have been committed (the sequence number of the newest history entry).
    public var revision: Int = 0

    public init(name: String) { self.name = name }

    enum CodingKeys: String, CodingKey {
        case schema, name, versions, stable, canary, weight, tags, previousStables = "previous_stables", lastNumber = "last_number", revision
    }

    /// Decodes a committed `state.json` (read from `path`, which errors name) and checks its schema.
    public static func decode(_ bytes: [UInt8], path: String) throws -> ReleaseState {
        let state = try JSONDecoder().decode(ReleaseState.self, from: Data(bytes))
        guard state.schema == ReleaseState.schema else {
            throw RegistryError("\(path) has schema \(state.schema); this dsm reads schema \(ReleaseState.schema)")
        }
        // The next version is last_number + 1, which must not overflow (it trapped in `apply(.addVersion)`).
        guard (0..<Int.max).contains(state.lastNumber) else {
            throw RegistryError("\(path) has last_number \(state.lastNumber), outside 0...\(Int.max - 1); the state is corrupted (run `dsm verify`)")
        }
        return state
    }

    /// The next version number (numbers are never reused, even after `rm`).
    public var nextNumber: Int { lastNumber + 1 }

    public func version(_ number: Int) -> VersionRecord? { versions.first { $0.number == number } }

    /// The channels and tags that point at `number`.
    public func references(to number: Int) -> [String] {
        var refs: [String] = []
        if stable == number { refs.append("stable") }
        if canary == number { refs.append("canary") }
        refs += tags.filter { $0.value == number }.map { "tag \($0.key)" }.sorted()
        return refs
    }

    /// Channels and tags, as the history log records them before and after a change.
    public var summary: ChannelSummary {
        ChannelSummary(stable: stable, canary: canary, weight: canary == nil ? 0 : weight, tags: tags, versions: versions.map(\.number))
    }

    /// What `dsm serve` routes by.
    public var routing: Routing { Routing(stable: stable, canary: canary, weight: canary == nil ? 0 : weight) }
}

/// A name's current routing: the stable version, the canary and its weight in percent.
public struct Routing: Codable, Sendable, Equatable {
    public var stable: Int?
    public var canary: Int?
    public var weight: Int

    public init(stable: Int?, canary: Int?, weight: Int) {
        self.stable = stable
        self.canary = canary
        self.weight = max(0, min(100, weight))
    }
}

/// The part of a state a history entry records.
public struct ChannelSummary: Codable, Sendable, Equatable {
    public var stable: Int?
    public var canary: Int?
    public var weight: Int
    public var tags: [String: Int]
    public var versions: [Int]
}

/// One committed change: when, who, the command line, what it did, and the channels before and after.
public struct HistoryEntry: Codable, Sendable, Equatable {
    public var sequence: Int
    public var time: String
    public var user: String
    public var command: String
    public var verb: String
    public var version: Int?
    public var before: ChannelSummary
    public var after: ChannelSummary
}
