/// Every kernel of `Kernels/*.cl` the backend launches, by its name in the `.cl` source.
/// `init` builds each one, so a kernel renamed in a `.cl` file fails at startup, not mid-run.
enum Kernel: String, CaseIterable {
    // elementwise.cl
    case scale, axpy, hadamard
    case addBias = "add_bias"
    // activations.cl
    case identityForward = "identity_forward", sigmoidForward = "sigmoid_forward"
    case reluForward = "relu_forward", tanhForward = "tanh_forward", softmaxForward = "softmax_forward"
    case identityBackward = "identity_backward", sigmoidBackward = "sigmoid_backward"
    case reluBackward = "relu_backward", tanhBackward = "tanh_backward"
    // reduce.cl
    case sumColumns = "sum_columns", countCorrect = "count_correct"
    // loss.cl
    case squaredError = "squared_error", softmaxCrossEntropy = "softmax_cross_entropy"
    case binaryCrossEntropy = "binary_cross_entropy", outputLoss = "output_loss"
    // optimizers.cl
    case sgdStep = "sgd_step", momentumStep = "momentum_step", adamStep = "adam_step"
    // data.cl
    case gatherColumns = "gather_columns"
    // gemm.cl is built once per tiling: see `OpenCLBackend.tilings`.
}
