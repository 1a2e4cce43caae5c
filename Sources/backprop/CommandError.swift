/// A bad command-line value or a failed run, printed as one line (`Error: …`) before exiting
/// with status 1. (ArgumentParser's `ValidationError` would add the usage text after it.)
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
