/// libFuzzer target: the safetensors container and the model file on top of it. Whatever
/// parses must survive writing and reading back unchanged.
func fuzzSafetensors(_ bytes: [UInt8]) {
    if let container = try? Safetensors.parse(bytes, file: "fuzz.safetensors") {
        guard let written = try? container.serialized() else { preconditionFailure("a parsed container does not serialize") }
        precondition((try? Safetensors.parse(written, file: "again")) == container, "container round trip")
    }
    if let model = try? ModelFile.parse(bytes, file: "fuzz.safetensors") {
        guard let written = try? model.serialized() else { preconditionFailure("a parsed model does not serialize") }
        precondition((try? ModelFile.parse(written, file: "again")) == model, "model round trip")
    }
}
