import DSMFormats
import Foundation
import Testing

/// `CheckpointFiles`: one value for "where are this checkpoint's files", a folder or a stored version's blobs.
@Suite struct CheckpointFilesTests {
    func scratch() throws -> String {
        let d = NSTemporaryDirectory() + "dsm-ckpt-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    @Test func aFolderFindsOnlyFilesThatExist() throws {
        let d = try scratch()
        defer { try? FileManager.default.removeItem(atPath: d) }
        try Data("{}".utf8).write(to: URL(fileURLWithPath: d + "/config.json"))
        let files = CheckpointFiles.folder(d + "/")
        #expect(files.path("config.json") == d + "/config.json")
        #expect(files.path("tokenizer.json") == nil)
        #expect(files.contents("config.json") == Data("{}".utf8))
        #expect(files.folderName == (d as NSString).lastPathComponent)
        #expect(files.label == d + "/")
    }

    @Test func aStoredVersionReadsOnlyItsManifestsFiles() throws {
        let d = try scratch()
        defer { try? FileManager.default.removeItem(atPath: d) }
        try Data("blob".utf8).write(to: URL(fileURLWithPath: d + "/abc"))
        // A file of the same name beside the blobs (or in the working folder) must not be read.
        try Data("other".utf8).write(to: URL(fileURLWithPath: d + "/tokenizer.json"))
        let files = CheckpointFiles.stored(label: "deepseek-r1:7b@v1", repoName: "DeepSeek-R1-Distill-Qwen-7B",
                                           files: ["config.json": d + "/abc", "model.safetensors": d + "/missing"])
        #expect(files.path("config.json") == d + "/abc")
        #expect(files.path("tokenizer.json") == nil)
        #expect(files.path("model.safetensors") == nil, "a blob that is gone is not there")
        #expect(files.folderName == "DeepSeek-R1-Distill-Qwen-7B")
        #expect(files.label == "deepseek-r1:7b@v1")
    }

    @Test func aMissingCheckpointNamesWhatIsMissing() throws {
        let files = CheckpointFiles.stored(label: "x@v1", repoName: "x", files: [:])
        #expect { _ = try SafetensorsCheckpoint(files: files) } throws: { e in
            let e = e as? SafetensorsError
            return e?.kind == .missingTensor && "\(e!)".contains("x@v1")
        }
    }
}
