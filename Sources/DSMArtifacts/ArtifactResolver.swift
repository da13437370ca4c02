import DSMRegistry
import DSMStore
import DSMSystem

/// What a SOURCE argument means, worked out in one place for every command that reads a model (convert, quantize,
/// fit, and the commands to come): in this order, a folder, a file, a stored `NAME[@vN|@stable|@canary|@TAG]`,
/// and, where a command allows it, no SOURCE at all for the latest pull. Each command says which forms it accepts.
public struct ArtifactResolver: Sendable {
    /// The source forms a command accepts.
    public struct Forms: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// A stored name with an optional version selector.
        public static let stored = Forms(rawValue: 1)
        /// A checkpoint folder.
        public static let folder = Forms(rawValue: 2)
        /// Any existing file, read as GGUF.
        public static let file = Forms(rawValue: 4)
        /// An existing file whose name ends in `.gguf` (other paths are looked up as names).
        public static let ggufFile = Forms(rawValue: 8)
    }

    public let store: Store

    public init(store: Store) { self.store = store }

    /// The artifact `text` names among `forms`, or nil when it names none of them. A stored name whose selector
    /// names no version throws `ArtifactError` with the registry's reason.
    public func find(_ text: String, among forms: Forms) throws -> Artifact? {
        if forms.contains(.folder), FileSystem.isDirectory(text) {
            return Artifact(location: .folder(Self.trimmed(FileSystem.absolute(text))), store: store)
        }
        let isFile = FileSystem.exists(text) && !FileSystem.isDirectory(text)
        if isFile, forms.contains(.file) || (forms.contains(.ggufFile) && text.hasSuffix(".gguf")) {
            return Artifact(location: .file(FileSystem.absolute(text)), store: store)
        }
        guard forms.contains(.stored) else { return nil }
        do {
            return try Registry(store: store).lookup(text).map { Artifact(location: .stored($0), store: store) }
        } catch let e as ReleaseError {
            throw ArtifactError(e.description)
        }
    }

    /// Like `find`, but an unknown source is an error that lists what the command accepts and how to find models.
    public func resolve(_ text: String, among forms: Forms) throws -> Artifact {
        if let found = try find(text, among: forms) { return found }
        throw ArtifactError("'\(TerminalText.escaped(text))' is neither \(Self.describe(forms, store: store)); "
            + "`dsm list` shows stored models, `dsm pull` fetches one")
    }

    /// `resolve`, where no SOURCE means the most recently pulled checkpoint.
    public func resolve(_ text: String?, among forms: Forms, defaultToLatestPull: Bool) throws -> Artifact {
        if let text { return try resolve(text, among: forms) }
        guard defaultToLatestPull, let latest = try latestPull() else {
            throw ArtifactError("no model given and none pulled yet: run `dsm pull deepseek-r1:7b` first, or name a model or a .gguf file")
        }
        return Artifact(location: .stored(latest), store: store)
    }

    /// The stable version of the checkpoint stored last (by manifest creation time), from the registry's committed state.
    public func latestPull() throws -> ResolvedVersion? {
        let registry = Registry(store: store)
        var best: ResolvedVersion?
        for name in registry.names() {
            guard let v = try? registry.lookup(name, nil), v.manifest.kind == .checkpoint else { continue }
            if best == nil || v.manifest.createdAt > best!.manifest.createdAt { best = v }
        }
        return best
    }

    /// "a file, a folder nor a model in ROOT".
    static func describe(_ forms: Forms, store: Store) -> String {
        var words: [String] = []
        if forms.contains(.file) || forms.contains(.ggufFile) { words.append(forms.contains(.file) ? "a file" : "a .gguf file") }
        if forms.contains(.folder) { words.append("a folder") }
        if forms.contains(.stored) { words.append("a model in \(store.root)") }
        guard words.count > 1 else { return words.first ?? "anything dsm reads" }
        return words.dropLast().joined(separator: ", ") + " nor " + words.last!
    }

    static func trimmed(_ path: String) -> String {
        path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }
}

/// A SOURCE that names nothing a command can read, with what to do instead.
public struct ArtifactError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ message: String) { description = message }
}
