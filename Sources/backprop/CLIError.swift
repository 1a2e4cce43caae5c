/// A bad command-line value, reported as one line (`Error: …`) with exit code 1.
/// (ArgumentParser's `ValidationError` would add the usage text after it.)
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
