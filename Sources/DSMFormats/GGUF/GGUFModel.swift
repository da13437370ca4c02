/// A model read from GGUF: one file, or every part of a split one read as llama.cpp's loader reads it (metadata
/// from part 1, the tensors of all parts in order). The parts' names and split keys are checked first
/// (`GGUFSplit.validate`), so a missing, renamed or foreign part is refused before anything is read.
public struct GGUFModel: Sendable {
    /// One file of the model: `name` is the file name the checks and messages use (on disk, or in a manifest),
    /// `path` where its bytes are (the same file, or a store blob).
    public struct Part: Equatable, Sendable {
        public var name: String
        public var path: String
        public init(name: String, path: String) {
            self.name = name
            self.path = path
        }
    }

    /// The files, in part order.
    public let files: [GGUFFile]
    /// Every tensor with the file it is in, in part order.
    public let tensors: [(file: GGUFFile, info: GGUFTensorInfo)]

    /// The keys of part 1, split keys included (a writer drops them: `GGUFSplit.keys`).
    public var kvs: [GGUFKeyValue] { files[0].kvs }

    /// Opens `parts`, in part order (`GGUFSplit.order` for names), and checks them as one model.
    public init(parts: [Part]) throws {
        precondition(!parts.isEmpty)
        let files = try parts.map { part in
            do { return try GGUFFile(path: part.path) } catch let e as GGUFError where parts.count > 1 {
                throw GGUFError(file: part.name, e.detail)  // a stored part's file is a blob: name it as the model does
            }
        }
        let headers = try zip(files, parts).map { try GGUFSplit.Header(kvs: $0.0.kvs, file: $0.1.name) }
        try GGUFSplit.validate(headers: headers, names: parts.map(\.name), tensors: files.map(\.tensors.count))
        var seen: [String: String] = [:]
        for (file, part) in zip(files, parts) {
            for t in file.tensors {
                if let other = seen.updateValue(part.name, forKey: t.name) {
                    throw GGUFSplitError("tensor \(t.name) is in both \(other) and \(part.name); a part is from another model: "
                        + "download the parts again")
                }
            }
        }
        self.init(files)
    }

    /// The model of one opened file (not checked as a split part).
    public init(_ file: GGUFFile) { self.init([file]) }

    private init(_ files: [GGUFFile]) {
        self.files = files
        tensors = files.flatMap { f in f.tensors.map { (file: f, info: $0) } }
    }
}
