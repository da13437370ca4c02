import DSMSystem

extension Manifest {
    /// What a version holds. Stored as its raw value in the manifest's `kind` field.
    public enum Kind: String, Codable, Equatable, Sendable, CaseIterable {
        /// A Hugging Face checkpoint folder (config.json, tokenizer, safetensors…), pulled or created from a folder.
        case checkpoint = "hf-snapshot"
        /// One GGUF file, `model.gguf` (converted, quantized, or created from a file).
        case gguf

        /// Decodes the field, refusing a kind this dsm does not know with a message that says what to do.
        public init(from decoder: any Decoder) throws {
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let kind = Kind(rawValue: text) else {
                throw StoreError(message: "manifest kind '\(TerminalText.escaped(text))' is not one this dsm knows "
                    + "(\(Kind.allCases.map(\.rawValue).joined(separator: ", "))); upgrade dsm")
            }
            self = kind
        }
    }
}
