import Foundation
import Testing
@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropExplain
@testable import BackpropOpenCL

/// One bad input given to the `backprop` command: the files it finds in its folder, its
/// arguments (`$DIR` stands for that folder), the fragment its one-line error must contain
/// (`$DIR` substituted too) and its exit status.
struct BadInput: Sendable, CustomTestStringConvertible {
    var name: String
    var files: [String: [UInt8]]
    var arguments: [String]
    var message: String
    var status: Int32 = 1
    /// When set, the error must also start by naming this file (`$DIR` substituted).
    var file: String? = nil
    var testDescription: String { name }
}

/// An MNIST folder of two 2×2 images per split, with `replacing` files swapped in.
func idxFolder(replacing: [String: [UInt8]]) -> [String: [UInt8]] {
    var files = ["train-images-idx3-ubyte": idx([2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7]),
                 "train-labels-idx1-ubyte": idx([2], [0, 1]),
                 "t10k-images-idx3-ubyte": idx([2, 2, 2], [7, 6, 5, 4, 3, 2, 1, 0]),
                 "t10k-labels-idx1-ubyte": idx([2], [1, 0])]
    files.merge(replacing) { $1 }
    return files
}

func csv(_ text: String) -> [String: [UInt8]] { ["t.csv": Array(text.utf8)] }

/// A valid 2-input, 2-class model (all weights zero) and a 3-feature CSV that does not fit it.
let fitting: [String: [UInt8]] = [
    "m.safetensors": safetensorsBytes("{\(validMetadata),\(validTensors)}"),
    "three.csv": Array("a,b,c,label\n1,2,3,0\n4,5,6,1\n7,8,9,0\n1,1,1,1\n".utf8),
    "classes.csv": Array("a,b,label\n1,2,0\n3,4,1\n5,6,2\n".utf8),
    "holes.csv": Array("a,b,label\n1,2,0\n3,,1\n".utf8),
]

let trainArgs = ["train", "--epochs", "1", "--hidden", "4"]

let commandInputs: [BadInput] = [
    // IDX
    BadInput(name: "IDX wrong magic", files: idxFolder(replacing: ["train-images-idx3-ubyte": [0x12, 0x34, 8, 1, 0, 0, 0, 1, 9]]),
             arguments: trainArgs + ["--data", "$DIR"], message: "$DIR/train-images-idx3-ubyte: wrong magic number 0x12340801"),
    BadInput(name: "IDX truncated data", files: idxFolder(replacing: ["t10k-images-idx3-ubyte": idx([2, 2, 2], [1, 2, 3, 4, 5])]),
             arguments: trainArgs + ["--data", "$DIR"], message: "$DIR/t10k-images-idx3-ubyte: truncated: dimensions 2×2×2 need 8 bytes of data, found 5"),
    BadInput(name: "IDX dimensions overflow", files: idxFolder(replacing: ["train-images-idx3-ubyte": idx([0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], [])]),
             arguments: trainArgs + ["--data", "$DIR"], message: "$DIR/train-images-idx3-ubyte: dimensions 4294967295×4294967295×4294967295 need more bytes than the file's 16"),
    BadInput(name: "IDX dimensions exceed the file", files: idxFolder(replacing: ["train-images-idx3-ubyte": idx([60000, 28, 28], [1, 2, 3])]),
             arguments: trainArgs + ["--data", "$DIR"], message: "need more bytes than the file's 19"),
    BadInput(name: "IDX image and label counts differ", files: idxFolder(replacing: ["train-labels-idx1-ubyte": idx([3], [0, 1, 2])]),
             arguments: trainArgs + ["--data", "$DIR"], message: "$DIR/train-labels-idx1-ubyte: 3 labels for the 2 images of $DIR/train-images-idx3-ubyte"),
    BadInput(name: "IDX label not a digit", files: idxFolder(replacing: ["t10k-labels-idx1-ubyte": idx([2], [1, 12])]),
             arguments: trainArgs + ["--data", "$DIR"], message: "label 12 found: expected digits 0 to 9"),
    BadInput(name: "IDX folder missing", files: [:], arguments: trainArgs + ["--data", "$DIR/nowhere"],
             message: "cannot read $DIR/nowhere: no such file or folder"),

    // CSV
    BadInput(name: "CSV empty", files: csv(""), arguments: trainArgs + ["--data", "$DIR/t.csv"], message: "$DIR/t.csv: empty file"),
    BadInput(name: "CSV header only", files: csv("a,label\n"), arguments: trainArgs + ["--data", "$DIR/t.csv"], message: "$DIR/t.csv: no data rows"),
    BadInput(name: "CSV ragged", files: csv("a,label\n1,0\n2,1,5\n"), arguments: trainArgs + ["--data", "$DIR/t.csv"],
             message: "$DIR/t.csv: line 3: 3 fields, expected 2"),
    BadInput(name: "CSV missing value", files: csv("a,label\n1,0\n,1\n"), arguments: trainArgs + ["--data", "$DIR/t.csv"],
             message: "$DIR/t.csv: line 3, column 1 (\"a\"): missing value (empty, NA, N/A, NaN, ?, NULL); choose --missing drop or --missing mean"),
    BadInput(name: "CSV no label column", files: csv("a,b\n1,2\n"), arguments: trainArgs + ["--data", "$DIR/t.csv"],
             message: "$DIR/t.csv: line 1: no label column \"label\""),
    BadInput(name: "CSV integer labels that look like a quantity", files: csv("a,label\n0,0\n1,1\n2,2\n3,3\n4,4\n5,5\n6,6\n7,7\n8,8\n9,9\n10,10\n11,11\n12,12\n13,13\n14,14\n15,15\n16,16\n17,17\n18,18\n19,19\n20,20\n21,21\n22,22\n23,23\n24,24\n25,25\n26,26\n27,27\n28,28\n29,29\n30,30\n31,31\n32,32\n33,33\n34,34\n35,35\n36,36\n37,37\n38,38\n39,39\n40,40\n41,41\n42,42\n43,43\n44,44\n45,45\n46,46\n47,47\n48,48\n49,49\n50,50\n51,51\n52,52\n53,53\n54,54\n55,55\n56,56\n57,57\n58,58\n59,59\n"), arguments: trainArgs + ["--data", "$DIR/t.csv"],
             message: "$DIR/t.csv: column 2 (\"label\") holds 60 distinct integers in 60 rows: is it classes or a quantity? say --task classification or --task regression"),
    BadInput(name: "CSV regression on strings", files: csv("a,label\n1,x\n2,y\n"), arguments: trainArgs + ["--data", "$DIR/t.csv", "--task", "regression"],
             message: "$DIR/t.csv: line 2, column 2 (\"label\"): \"x\" is not a number: a regression target must be numeric"),
    BadInput(name: "CSV NaN", files: csv("a,label\n1,0\nNaN,1\n"), arguments: trainArgs + ["--data", "$DIR/t.csv"],
             message: "line 3, column 1 (\"a\"): missing value"),
    BadInput(name: "CSV Inf", files: csv("a,label\n-inf,0\n"), arguments: trainArgs + ["--data", "$DIR/t.csv"],
             message: "line 2, column 1 (\"a\"): \"-inf\" is not a finite number"),
    BadInput(name: "CSV number beyond float32", files: csv("a,label\n1e39,0\n2,1\n"), arguments: trainArgs + ["--data", "$DIR/t.csv"],
             message: "line 2, column 1 (\"a\"): \"1e39\" is beyond float32's range (±3.4e38), in which backprop computes; scale the column down"),
    BadInput(name: "CSV one class", files: csv("a,label\n1,0\n2,0\n"), arguments: trainArgs + ["--data", "$DIR/t.csv"],
             message: "every label in column \"label\" is \"0\": a classifier needs at least two classes"),
    BadInput(name: "CSV constant regression target", files: csv("a,label\n1,2.5\n2,\n3,2.50\n"),
             arguments: trainArgs + ["--data", "$DIR/t.csv", "--missing", "drop"],
             message: "every value in column \"label\" is 2.5: a regression target must vary (there is nothing to learn)"),
    BadInput(name: "CSV constant second target", files: csv("a,y,z\n1,1,7\n2,2,7\n3,3,7\n"),
             arguments: trainArgs + ["--data", "$DIR/t.csv", "--label", "y,z"],
             message: "every value in column \"z\" is 7: a regression target must vary"),
    BadInput(name: "CSV unclosed quote", files: csv("a,label\n1,0\n\"2,1\n"), arguments: trainArgs + ["--data", "$DIR/t.csv"],
             message: "$DIR/t.csv: line 3, column 1: a quoted field is never closed"),
    BadInput(name: "CSV --features names no column", files: csv("a,b,label\n1,2,0\n2,3,1\n"),
             arguments: trainArgs + ["--data", "$DIR/t.csv", "--features", "a,c"], message: "$DIR/t.csv: line 1: no column \"c\" in the header"),
    BadInput(name: "CSV --ignore names no column", files: csv("a,b,label\n1,2,0\n2,3,1\n"),
             arguments: trainArgs + ["--data", "$DIR/t.csv", "--ignore", "id"], message: "$DIR/t.csv: line 1: no column \"id\" in the header"),
    BadInput(name: "CSV bad delimiter", files: csv("a,label\n1,0\n"), arguments: trainArgs + ["--data", "$DIR/t.csv", "--delimiter", ":"],
             message: "--delimiter \":\" is not valid: expected one of , ; | tab"),
    BadInput(name: "CSV bad comment", files: csv("a,label\n1,0\n"), arguments: trainArgs + ["--data", "$DIR/t.csv", "--comment", "//"],
             message: "--comment takes one ASCII character"),
    BadInput(name: "CSV wrong delimiter", files: csv("a;label\n1;0\n2;1\n"), arguments: trainArgs + ["--data", "$DIR/t.csv", "--delimiter", ",", "--label", "label"],
             message: "no label column \"label\""),
    BadInput(name: "CSV regression with a classification loss", files: csv("a,y\n1,0.5\n2,1.5\n3,2.5\n4,3.5\n5,1.1\n"),
             arguments: trainArgs + ["--data", "$DIR/t.csv", "--label", "y", "--loss", "cross-entropy"],
             message: "--loss cross-entropy is for classification; regression trains with --loss mse"),
    BadInput(name: "CSV options on MNIST", files: [:], arguments: trainArgs + ["--task", "regression"],
             message: "--task applies to CSV data, not to mnist"),
    BadInput(name: "evaluate --rows test on another file", files: fitting,
             arguments: ["evaluate", "--model", "$DIR/m.safetensors", "--data", "$DIR/classes.csv", "--rows", "test"],
             message: "--rows test needs the file $DIR/m.safetensors was trained on; $DIR/classes.csv is not that file (the model records no split)"),
    BadInput(name: "CSV --label names no column", files: csv("a,label\n1,0\n2,1\n"),
             arguments: trainArgs + ["--data", "$DIR/t.csv", "--label", "kind"], message: "no label column \"kind\""),
    BadInput(name: "CSV not UTF-8", files: ["t.csv": [0x61, 0x2C, 0xFF, 0xFE, 0x0A]], arguments: trainArgs + ["--data", "$DIR/t.csv"],
             message: "$DIR/t.csv: line 1, column 2: not UTF-8 text (byte 0xFF)"),
    BadInput(name: "CSV in Windows-1252", files: ["t.csv": Array("a,label\n1,caf".utf8) + [0xE9, 0x0A] + Array("2,tea\n".utf8)],
             arguments: trainArgs + ["--data", "$DIR/t.csv"],
             message: "$DIR/t.csv: line 2, column 2: not UTF-8 text (byte 0xE9); if the file is Latin-1 or Windows-1252 (Excel's CSV on Windows), convert it, e.g. iconv -f WINDOWS-1252 -t UTF-8 $DIR/t.csv > fixed.csv"),
    BadInput(name: "CSV in UTF-16", files: ["t.csv": [0xFF, 0xFE] + "a,label\n1,0\n2,1\n".utf8.flatMap { [$0, 0] }],
             arguments: trainArgs + ["--data", "$DIR/t.csv"],
             message: "$DIR/t.csv: line 1: UTF-16 text (it starts with the byte-order mark FF FE), not UTF-8; convert it, e.g. iconv -f UTF-16LE -t UTF-8 $DIR/t.csv > fixed.csv"),
    // Excel and PowerShell end lines with CRLF: UTF-16 puts a 0 between CR and LF, no classic-Mac error.
    BadInput(name: "CSV in UTF-16LE with CRLF", files: ["t.csv": [0xFF, 0xFE] + "a,label\r\n1,0\r\n2,1\r\n".utf8.flatMap { [$0, 0] }],
             arguments: trainArgs + ["--data", "$DIR/t.csv"],
             message: "$DIR/t.csv: line 1: UTF-16 text (it starts with the byte-order mark FF FE), not UTF-8; convert it, e.g. iconv -f UTF-16LE"),
    BadInput(name: "CSV in UTF-16BE with CRLF", files: ["t.csv": [0xFE, 0xFF] + "a,label\r\n1,0\r\n2,1\r\n".utf8.flatMap { [0, $0] }],
             arguments: trainArgs + ["--data", "$DIR/t.csv"],
             message: "$DIR/t.csv: line 1: UTF-16 text (it starts with the byte-order mark FE FF), not UTF-8; convert it, e.g. iconv -f UTF-16BE"),
    BadInput(name: "CSV in UTF-16 without a byte-order mark", files: ["t.csv": "a,label\r\n1,0\r\n2,1\r\n".utf8.flatMap { [$0, 0] }],
             arguments: trainArgs + ["--data", "$DIR/t.csv"],
             message: "$DIR/t.csv: line 1: a NUL byte in the header: UTF-16LE text or a binary file, not UTF-8; convert it, e.g. iconv -f UTF-16LE"),
    BadInput(name: "a workbook, not CSV", files: ["t.csv": [0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00] + Array("[Content_Types].xml".utf8)],
             arguments: trainArgs + ["--data", "$DIR/t.csv"],
             message: "$DIR/t.csv: line 1: a ZIP archive, not text (an .xlsx or .ods workbook?); save the sheet as CSV"),

    // CLI values
    BadInput(name: "batch size 0", files: [:], arguments: ["train", "--batch-size", "0"], message: "--batch-size must be at least 1, got 0"),
    BadInput(name: "negative learning rate", files: [:], arguments: ["train", "--lr", "-0.5"], message: "--lr must be a positive number, got -0.5"),
    BadInput(name: "NaN learning rate", files: [:], arguments: ["train", "--lr", "nan"], message: "--lr must be a positive number, got nan"),
    BadInput(name: "test split 1.5", files: [:], arguments: ["train", "--test-split", "1.5"],
             message: "--test-split must be between 0 and 1 (exclusive), got 1.5"),
    BadInput(name: "test split 0", files: [:], arguments: ["train", "--test-split", "0"], message: "--test-split must be between 0 and 1"),
    BadInput(name: "zero epochs", files: [:], arguments: ["train", "--epochs", "0"], message: "--epochs must be at least 1, got 0"),
    BadInput(name: "layer size 0", files: [:], arguments: ["train", "--hidden", "64,0"], message: "--hidden takes positive layer sizes"),
    BadInput(name: "layer size not a number", files: [:], arguments: ["train", "--hidden", "64,big"], message: "--hidden takes positive layer sizes"),
    BadInput(name: "negative weight decay", files: [:], arguments: ["train", "--weight-decay=-1"], message: "--weight-decay must be zero or positive"),
    BadInput(name: "batch size not a number", files: [:], arguments: ["train", "--batch-size", "many"],
             message: "The value 'many' is invalid for '--batch-size <batch-size>'", status: 64),
    BadInput(name: "unknown activation", files: [:], arguments: ["train", "--activation", "swish"],
             message: "The value 'swish' is invalid for '--activation <activation>'", status: 64),
    BadInput(name: "resumed layer sizes do not match the data", files: fitting,
             arguments: trainArgs + ["--data", "$DIR/three.csv", "--resume", "$DIR/m.safetensors"],
             message: "$DIR/three.csv: 3 features, but the model $DIR/m.safetensors expects 2 inputs"),
    BadInput(name: "evaluated model does not match the data", files: fitting,
             arguments: ["evaluate", "--model", "$DIR/m.safetensors", "--data", "$DIR/three.csv"],
             message: "$DIR/three.csv: 3 features, but the model $DIR/m.safetensors expects 2 inputs"),
    BadInput(name: "a column named twice", files: csv("a,b,label\n1,2,0\n2,3,1\n"),
             arguments: trainArgs + ["--data", "$DIR/t.csv", "--features", "a,a"], message: "--features names \"a\" twice"),
    BadInput(name: "the label ignored", files: csv("a,b,label\n1,2,0\n2,3,1\n"),
             arguments: trainArgs + ["--data", "$DIR/t.csv", "--ignore", "label"],
             message: "--ignore names \"label\", which is the label column (--label names another)"),
    BadInput(name: "save to a path that names a folder to be", files: csv("a,label\n1,0\n2,1\n3,0\n4,1\n5,0\n"),
             arguments: trainArgs + ["--data", "$DIR/t.csv", "--save", "$DIR/new/"],
             message: "$DIR/new/: it ends with /, so it names a folder; name a file in it"),
    BadInput(name: "evaluated rows with a missing value, model trained with --missing error", files: fitting,
             arguments: ["evaluate", "--model", "$DIR/m.safetensors", "--data", "$DIR/holes.csv"],
             message: "the model was trained with --missing error, so it has no value to fill in; give the cell a value or leave the row out"),
    BadInput(name: "evaluated labels beyond the model's classes", files: fitting,
             arguments: ["evaluate", "--model", "$DIR/m.safetensors", "--data", "$DIR/classes.csv"],
             message: "$DIR/classes.csv: line 4, column 3 (\"label\"): label \"2\" is not one of the model's classes (0, 1)"),
    BadInput(name: "predicted inputs do not match the model", files: fitting,
             arguments: ["predict", "--model", "$DIR/m.safetensors", "--input", "$DIR/three.csv"],
             message: "$DIR/three.csv: 3 features, but the model $DIR/m.safetensors expects 2 inputs"),
    BadInput(name: "model file missing", files: [:], arguments: ["evaluate", "--model", "$DIR/none.safetensors"],
             message: "cannot read $DIR/none.safetensors: no such file"),
    BadInput(name: "resume from a file that is not a model", files: csv("a,label\n1,0\n2,1\n"),
             arguments: trainArgs + ["--data", "$DIR/t.csv", "--resume", "$DIR/t.csv"],
             message: "$DIR/t.csv: header length"),
    BadInput(name: "resume from a JSON file", files: ["j.json": Array("{\"model\": 1}".utf8), "t.csv": Array("a,label\n1,0\n2,1\n".utf8)],
             arguments: trainArgs + ["--data", "$DIR/t.csv", "--resume", "$DIR/j.json"], message: "it starts like JSON: not a safetensors file"),
    BadInput(name: "predict output into a missing folder", files: fitting,
             arguments: ["predict", "--model", "$DIR/m.safetensors", "--input", "$DIR/classes.csv", "--output", "$DIR/no/p.csv"],
             message: "cannot write $DIR/no/p.csv: cannot create a temporary file in $DIR/no"),
    // A negative number is the option's value, not an unknown flag: the value's own check answers.
    BadInput(name: "a negative batch size", files: csv("a,label\n1,0\n2,1\n"),
             arguments: trainArgs + ["--data", "$DIR/t.csv", "--batch-size", "-1"], message: "--batch-size must be at least 1, got -1"),
    // No machine holds these (3·10¹³ floats), and m·n overflows Int in the last one.
    BadInput(name: "a GEMM too large for memory", files: [:], arguments: ["bench", "--gemm", "3000000x3000000x3000000", "--repetitions", "1"],
             message: "gemm 3000000x3000000x3000000 needs 216000.0 GB for A, B and C and their host copies"),
    BadInput(name: "a GEMM whose size overflows", files: [:], arguments: ["bench", "--gemm", "4294967296x4294967296x1", "--repetitions", "1"],
             message: "gemm 4294967296x4294967296x1 needs"),
    // No output may replace what the command reads.
    BadInput(name: "predictions over their own input", files: fitting,
             arguments: ["predict", "--model", "$DIR/m.safetensors", "--input", "$DIR/classes.csv", "--output", "$DIR/classes.csv"],
             message: "--output $DIR/classes.csv is the file --input reads"),
    BadInput(name: "predictions over the model", files: fitting,
             arguments: ["predict", "--model", "$DIR/m.safetensors", "--input", "$DIR/classes.csv", "--output", "$DIR/./m.safetensors"],
             message: "--output $DIR/./m.safetensors is the file --model reads"),
    BadInput(name: "a model saved over the training data", files: csv("a,label\n1,0\n2,1\n"),
             arguments: trainArgs + ["--data", "$DIR/t.csv", "--save", "$DIR/t.csv"],
             message: "--save $DIR/t.csv is the file --data reads"),
    BadInput(name: "a plot over the resumed model", files: fitting,
             arguments: trainArgs + ["--data", "$DIR/classes.csv", "--resume", "$DIR/m.safetensors", "--plot", "$DIR/m.safetensors"],
             message: "--plot $DIR/m.safetensors is the file --resume reads"),
    // Checked before training; the message names the user's path, not the probe written beside it.
    BadInput(name: "save into a missing folder", files: csv("a,label\n1,0\n2,1\n"),
             arguments: trainArgs + ["--data", "$DIR/t.csv", "--save", "$DIR/no/m.safetensors"],
             message: "--save $DIR/no/m.safetensors: cannot write $DIR/no/m.safetensors: cannot create a temporary file in $DIR/no"),
]

/// Every malformed model file, through the command that reads models.
let modelInputs: [BadInput] = malformedModels.map { model in
    BadInput(name: "model: \(model.name)",
             files: ["m.safetensors": model.bytes, "t.csv": Array("a,b,label\n1,2,0\n3,4,1\n".utf8)],
             arguments: ["evaluate", "--model", "$DIR/m.safetensors", "--data", "$DIR/t.csv"],
             message: model.message, file: "$DIR/m.safetensors")
}

let badInputs = commandInputs + modelInputs

@Suite("Bad input: the command fails with a one-line error naming the problem")
struct BadInputTests {
    /// 200 000 columns over 200 000 blank lines: reserving columns × lines floats would ask
    /// for 160 GB before the first row is read.
    @Test("a wide header over many blank lines is an error, not a huge allocation")
    func wideEmptyCSV() {
        let header = (0..<200_000).map { "c\($0)," }.joined() + "label"
        let text = header + String(repeating: "\n", count: 200_000) + "1,0\n"
        let error = errorText { _ = try RawTable.parse(text, file: "wide.csv") }
        #expect(error?.contains("wide.csv: line 200001: 2 fields, expected 200001") == true, "got \(error ?? "no error")")
    }

    @Test("each bad input gives its error and exit status, and no crash", arguments: badInputs)
    func badInput(_ input: BadInput) throws {
        let dir = try temporaryDirectory()
        for (name, bytes) in input.files { try Data(bytes).write(to: dir.appendingPathComponent(name)) }
        let result = try backprop(input.arguments.map { $0.replacingOccurrences(of: "$DIR", with: dir.path) }, in: dir)
        let message = input.message.replacingOccurrences(of: "$DIR", with: dir.path)
        #expect(result.status == input.status, "\(input.name): exit \(result.status); stderr: \(result.stderr)")
        let firstLine = result.stderr.split(separator: "\n").first.map(String.init) ?? ""
        #expect(firstLine.hasPrefix("Error: ") && firstLine.contains(message),
                "\(input.name): expected \"\(message)\" in the first line of: \(result.stderr)")
        if let file = input.file?.replacingOccurrences(of: "$DIR", with: dir.path) {
            #expect(firstLine.hasPrefix("Error: \(file): "), "\(input.name): the error does not name \(file): \(result.stderr)")
        }
        if input.status == 1 {
            #expect(result.stderr.split(separator: "\n").count == 1, "\(input.name): more than one line: \(result.stderr)")
        }
        // A command that fails changes none of the files it was given, and leaves no other.
        for (name, bytes) in input.files {
            #expect(try Array(Data(contentsOf: dir.appendingPathComponent(name))) == bytes, "\(input.name): \(name) changed")
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !input.files.keys.contains($0) }
        #expect(left.isEmpty, "\(input.name): left \(left)")
    }
}
