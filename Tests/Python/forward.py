"""Loads a backprop model with safetensors.numpy and runs its forward pass in NumPy.

Usage: forward.py MODEL INPUTS.csv
INPUTS.csv holds raw (unstandardized) inputs, one sample per line, no header. Prints the
output activations, one sample per line, comma-separated. Shares no code with the Swift side:
the layout (layers.N.weight is [out, in], row-major, like torch.nn.Linear) and the metadata
come from the file alone.
"""
import json
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file


def activate(name, z):
    if name == "identity":
        return z
    if name == "relu":
        return np.maximum(z, 0)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise SystemExit(f"unknown activation {name}")


def main():
    model_path, inputs_path = sys.argv[1], sys.argv[2]
    tensors = load_file(model_path)
    with safe_open(model_path, framework="numpy") as f:
        metadata = f.metadata()
    architecture = json.loads(metadata["architecture"])
    x = np.loadtxt(inputs_path, delimiter=",", ndmin=2).astype(np.float64)
    if "table" in metadata:
        # A CSV model subtracts each numeric column's training mean (its "center") in double
        # precision before the float32 standardization; one-hot inputs have none.
        centers = []
        for column in json.loads(metadata["table"])["columns"]:
            categories = column.get("categories")
            centers += [0.0] * len(categories) if categories is not None else [column.get("center") or 0.0]
        x = x - np.array(centers, dtype=np.float64)
    if "standardization" in metadata:
        s = json.loads(metadata["standardization"])
        x = (x - np.array(s["mean"], dtype=np.float64)) / np.array(s["std"], dtype=np.float64)
    a = x
    for n, activation in enumerate(architecture["activations"]):
        w = tensors[f"layers.{n}.weight"].astype(np.float64)   # [out, in]
        b = tensors[f"layers.{n}.bias"].astype(np.float64)     # [out]
        assert w.shape == (architecture["sizes"][n + 1], architecture["sizes"][n]), w.shape
        a = activate(activation, a @ w.T + b)
    for row in a:
        print(",".join(repr(float(v)) for v in row))


main()
