"""Runs an ONNX model written by `backprop export` with onnxruntime.

Usage: onnx_forward.py MODEL.onnx INPUTS.csv
INPUTS.csv holds encoded, unstandardized inputs (one-hot columns expanded), one sample per line,
no header. Prints the graph's "output", one sample per line, comma-separated. Shares no code
with the Swift side: everything the forward pass needs (standardization, layers, output
activation, target scaling) must be in the graph.
"""
import sys

import numpy as np
import onnxruntime


def main():
    model_path, inputs_path = sys.argv[1], sys.argv[2]
    session = onnxruntime.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    names = ([i.name for i in session.get_inputs()], [o.name for o in session.get_outputs()])
    assert names == (["input"], ["output"]), names
    # float32, or float64 where the graph takes a column's center off in double precision.
    dtype = np.float64 if session.get_inputs()[0].type == "tensor(double)" else np.float32
    x = np.loadtxt(inputs_path, delimiter=",", ndmin=2).astype(dtype)
    (y,) = session.run(["output"], {"input": x})
    for row in y:
        print(",".join(repr(float(v)) for v in row))


main()
