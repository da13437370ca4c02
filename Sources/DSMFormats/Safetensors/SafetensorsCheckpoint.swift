import Foundation
import DSMSystem

/// All safetensors shards of a Hugging Face checkpoint folder: `model.safetensors`, or the shards named
/// by `model.safetensors.index.json` (whose `weight_map` must agree with the shards' own headers).
/// Tensors are listed in the order llama.cpp's converter visits them: shards by file name, then names
/// sorted within each shard.
public final class SafetensorsCheckpoint: @unchecked Sendable {
    public struct Entry: Sendable {
        public var tensor: SafetensorsHeader.Tensor
        public var shard: Int
    }

    /// Where the files are.
    public let files: CheckpointFiles
    public let shards: [SafetensorsFile]
    /// Every tensor, in converter order.
    public let entries: [Entry]
    private let byName: [String: Int]

    /// Opens the checkpoint in the folder `directory`.
    public convenience init(directory: String) throws {
        try self.init(files: .folder(directory))
    }

    /// Opens the checkpoint whose files `files` locates (a folder, or a stored version's blobs).
    public init(files checkpointFiles: CheckpointFiles) throws {
        self.files = checkpointFiles
        let indexName = "model.safetensors.index.json"
        var shardNames: [String]
        var weightMap: [String: String]?
        if let indexPath = checkpointFiles.path(indexName) {
            let index = try SafetensorsIndex.parse(try Data(contentsOf: URL(fileURLWithPath: indexPath)), file: indexName)
            weightMap = index.weightMap
            shardNames = index.shardNames
        } else if checkpointFiles.path("model.safetensors") != nil {
            shardNames = ["model.safetensors"]
        } else {
            throw SafetensorsError(.missingTensor, file: checkpointFiles.label, "no model.safetensors or model.safetensors.index.json")
        }
        var files: [SafetensorsFile] = []
        for name in shardNames {
            guard let shardPath = checkpointFiles.path(name) else {
                throw SafetensorsError(.missingTensor, file: name, "the index names this shard but it is missing")
            }
            files.append(try SafetensorsFile(path: shardPath))
        }
        var entries: [Entry] = []
        var index: [String: Int] = [:]
        for (shard, file) in files.enumerated() {
            for tensor in file.header.tensors {
                if let first = index[tensor.name] {
                    throw SafetensorsError(.indexMismatch, file: shardNames[shard],
                                           "tensor '\(tensor.name)' is also in \(shardNames[entries[first].shard])")
                }
                if let weightMap, weightMap[tensor.name] != shardNames[shard] {
                    throw SafetensorsError(.indexMismatch, file: shardNames[shard],
                                           "tensor '\(tensor.name)' is not where model.safetensors.index.json says (\(weightMap[tensor.name] ?? "absent"))")
                }
                index[tensor.name] = entries.count
                entries.append(Entry(tensor: tensor, shard: shard))
            }
        }
        if let weightMap {
            for (name, shard) in weightMap.sorted(by: { $0.key < $1.key }) where index[name] == nil {
                throw SafetensorsError(.missingTensor, file: shard, "tensor '\(name)' is named in the index but missing from the shard")
            }
        }
        shards = files
        self.entries = entries
        byName = index
    }

    /// Looks a tensor up by name.
    public func entry(_ name: String) -> Entry? { byName[name].map { entries[$0] } }

    /// The bytes of a tensor.
    public func data(_ entry: Entry) -> UnsafeRawBufferPointer { shards[entry.shard].data(entry.tensor) }
}

/// `model.safetensors.index.json`: which shard file holds each tensor (`weight_map`). Shard names must be plain
/// file names, so an index cannot point outside the checkpoint's folder.
public struct SafetensorsIndex: Sendable, Equatable {
    /// Tensor name → shard file name.
    public var weightMap: [String: String]
    /// The distinct shard file names, sorted.
    public var shardNames: [String]

    /// Parses the index file's bytes; `file` names it in errors.
    public static func parse(_ data: Data, file: String) throws(SafetensorsError) -> SafetensorsIndex {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let map = object["weight_map"] as? [String: String] else {
            throw SafetensorsError(.indexMismatch, file: file, "weight_map is missing or not an object of tensor → file")
        }
        let shardNames = Array(Set(map.values)).sorted()
        for name in shardNames where RepoRelative.problem(name) != nil {
            throw SafetensorsError(.indexMismatch, file: file, "shard name '\(name)' is not a plain file name")
        }
        return SafetensorsIndex(weightMap: map, shardNames: shardNames)
    }
}

/// File-name safety for names taken from an index.
enum RepoRelative {
    static func problem(_ name: String) -> String? {
        if name.isEmpty || name.contains("/") || name == "." || name == ".." || name.contains("\0") { return "unsafe" }
        return nil
    }
}
