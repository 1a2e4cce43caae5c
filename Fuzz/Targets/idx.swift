/// libFuzzer target: the IDX reader, then pairing the tensor as MNIST images and labels.
func fuzzIDX(_ bytes: [UInt8]) {
    // Both halves as an image file and a label file, as MNIST pairs them.
    let half = bytes.count / 2
    if let images = try? IDXTensor.parse(Array(bytes[..<half]), file: "images"),
       let labels = try? IDXTensor.parse(Array(bytes[half...]), file: "labels") {
        _ = try? MNIST.dataset(images: images, imagesFile: "images", labels: labels, labelsFile: "labels")
    }
    guard let tensor = try? IDXTensor.parse(bytes, file: "fuzz.idx") else { return }
    // A tensor that parses holds exactly the bytes its dimensions promise.
    precondition(tensor.dimensions.reduce(1, *) == tensor.bytes.count)
    _ = try? MNIST.dataset(images: tensor, imagesFile: "images", labels: tensor, labelsFile: "labels")
}
