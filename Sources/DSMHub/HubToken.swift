/// Where the Hugging Face token comes from, in huggingface_hub's order: `HF_TOKEN`
/// (or the legacy `HUGGING_FACE_HUB_TOKEN`), then the file at `HF_TOKEN_PATH`, else `$HF_HOME/token`,
/// else `$XDG_CACHE_HOME/huggingface/token`, else `~/.cache/huggingface/token`.
///
/// The token value is kept only in memory and never printed; `source` says where it came from.
public struct HubToken: Sendable {
    public let value: String
    /// A description safe to show, e.g. `HF_TOKEN` or `/root/.cache/huggingface/token`.
    public let source: String

    public init(value: String, source: String) {
        self.value = value
        self.source = source
    }

    /// The token file path for this environment.
    public static func tokenPath(environment env: [String: String]) -> String {
        if let path = env["HF_TOKEN_PATH"], !path.isEmpty { return path }
        return hfHome(environment: env) + "/token"
    }

    /// `HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`.
    public static func hfHome(environment env: [String: String]) -> String {
        if let home = env["HF_HOME"], !home.isEmpty { return home }
        if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/huggingface" }
        return (env["HOME"] ?? "") + "/.cache/huggingface"
    }

    /// Finds the token; `readFile` returns a file's text or nil when it does not exist.
    public static func resolve(environment env: [String: String], readFile: (String) -> String?) -> HubToken? {
        for name in ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"] {
            if let value = env[name]?.trimmingSpaces(), !value.isEmpty { return HubToken(value: value, source: name) }
        }
        if env["HF_HUB_DISABLE_IMPLICIT_TOKEN"].map({ ["1", "true", "yes", "on"].contains($0.lowercased()) }) == true {
            return nil
        }
        let path = tokenPath(environment: env)
        if let text = readFile(path) {
            let value = text.trimmingSpaces().trimmingNewlines()
            if !value.isEmpty { return HubToken(value: value, source: path) }
        }
        return nil
    }

    /// Replaces every occurrence of the token in `text` with `***`, as a last line of defence
    /// for messages that quote server output.
    public func redact(_ text: String) -> String {
        guard !value.isEmpty else { return text }
        return text.replacingAll(value, with: "***")
    }
}

extension String {
    func trimmingNewlines() -> String {
        var s = self
        while s.hasSuffix("\n") || s.hasSuffix("\r") { s.removeLast() }
        return s
    }

    func replacingAll(_ needle: String, with replacement: String) -> String {
        guard !needle.isEmpty else { return self }
        var out = ""
        var rest = self[...]
        while let range = String(rest).firstRange(of: needle) {
            let r = String(rest)
            out += r[..<range.lowerBound] + replacement
            rest = r[range.upperBound...]
        }
        return out + rest
    }
}
