import Testing
import DSMStore
import Foundation

/// The typed provenance reads and writes the manifest's `source` fields exactly as dsm has always spelled them.
@Suite struct ProvenanceTests {
    @Test func everyKindRoundTripsThroughTheStoredFields() {
        let cases: [(Provenance, Manifest.Source)] = [
            (.pulled(endpoint: "https://hf", repo: "org/m", revision: "main", commit: "abc"),
             .init(endpoint: "https://hf", repo: "org/m", revision: "main", commit: "abc")),
            (.converted(from: "deepseek-r1:7b", outType: "bf16", input: "d1"),
             .init(endpoint: "dsm convert", repo: "deepseek-r1:7b", revision: "outtype=bf16", commit: "d1")),
            (.converted(from: "/models/x", outType: "f16", input: nil),
             .init(endpoint: "dsm convert", repo: "/models/x", revision: "outtype=f16", commit: "local")),
            (.quantized(from: "deepseek-r1:7b", fileType: "Q4_K_M", input: "d2"),
             .init(endpoint: "dsm quantize", repo: "deepseek-r1:7b", revision: "file_type=Q4_K_M", commit: "d2")),
            (.created(path: "/tmp/m.gguf", contentKey: "k"),
             .init(endpoint: "dsm create", repo: "/tmp/m.gguf", revision: "local", commit: "k")),
        ]
        for (p, s) in cases {
            #expect(p.source == s)
            #expect(Provenance(s) == p)
        }
        #expect(Provenance.converted(from: "deepseek-r1:7b", outType: "bf16", input: nil).convertedFromName?.description == "deepseek-r1:7b")
        #expect(Provenance.quantized(from: "deepseek-r1:7b", fileType: "Q8_0", input: nil).convertedFromName == nil)
    }

    @Test func anUnknownKindIsRefusedWithAMessage() throws {
        let json = #"{"created_at":"t","files":[],"kind":"tarball","name":"m:t","schema":1,"source":{"commit":"c","endpoint":"e","repo":"r","revision":"v"},"tool":"t"}"#
        #expect { _ = try Manifest.decode(Array(json.utf8)) } throws: { "\($0)".contains("manifest kind 'tarball'") }
        let ok = json.replacingOccurrences(of: "tarball", with: "gguf")
        #expect(try Manifest.decode(Array(ok.utf8)).kind == .gguf)
        #expect(try Manifest.decode(Array(ok.utf8)).encoded() == Array(ok.utf8) + [0x0A])
    }
}
