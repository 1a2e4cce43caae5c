import Backprop

/// A bad command-line value or a failed run, printed as one line (`Error: …`) before exiting
/// with status 1. (ArgumentParser's `ValidationError` would add the usage text after it.)
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Refuses an output that is one of the files the command reads (by inode or resolved path,
/// ``sameFile(_:_:)``): writing it would destroy its own input.
func refuseOverwriting(_ option: String, _ path: String, inputs: [(option: String, path: String?)]) throws {
    for input in inputs {
        if let read = input.path, sameFile(path, read) {
            throw CommandError("\(option) \(path) is the file \(input.option) reads; write to another file")
        }
    }
}
