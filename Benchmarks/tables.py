"""Public tables through `backprop train` with no tuning flags, beside scikit-learn on the same rows.

Usage: python3 Benchmarks/tables.py [--backprop PATH] [--seeds 5] [--markdown]
Needs: pip install scikit-learn palmerpenguins (both ship their tables; nothing is downloaded).

Each table is written to CSV as a user would have it (string labels, string columns, missing
values), trained by `backprop train --data T.csv --label L --seed S --save m.safetensors` for
each seed, and scored by `backprop evaluate --json` on its held-out rows, whose indices the JSON
lists. scikit-learn's `MLPClassifier()` (classification) or `LinearRegression()` (regression),
with its defaults, is fitted on the other rows of the same file and scored on the same held-out
rows, with the same preparation: one-hot string columns, standardized numbers, rows with a
missing value dropped.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import warnings

import pandas as pd
from palmerpenguins import load_penguins
from sklearn import datasets
from sklearn.linear_model import LinearRegression
from sklearn.metrics import accuracy_score, r2_score
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler


def tables():
    """(name, frame, label column, backprop flags the table needs, task)."""
    penguins = load_penguins()                       # string labels, 2 string columns, missing values
    iris = datasets.load_iris(as_frame=True).frame
    iris["target"] = iris["target"].map(dict(enumerate(datasets.load_iris().target_names)))
    wine = datasets.load_wine(as_frame=True).frame
    cancer = datasets.load_breast_cancer(as_frame=True).frame
    cancer["target"] = cancer["target"].map({0: "malignant", 1: "benign"})
    diabetes = datasets.load_diabetes(as_frame=True, scaled=False).frame
    return [
        ("palmerpenguins", penguins, "species", ["--missing", "drop"], "classification"),
        ("iris", iris, "target", [], "classification"),
        ("wine", wine, "target", [], "classification"),
        ("breast_cancer", cancer, "target", [], "classification"),
        ("diabetes", diabetes, "target", ["--task", "regression"], "regression"),
    ]


def backprop(binary, *arguments):
    done = subprocess.run([binary, *arguments], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"backprop {' '.join(arguments)} failed: {done.stderr.strip()}")
    return done.stdout


def sklearn_score(frame, label, task, train_rows, test_rows, seed):
    """Fits scikit-learn on `train_rows` of `frame` and scores `test_rows`, prepared as ours."""
    frame = frame.reset_index(drop=True)
    used = frame.dropna()                            # --missing drop
    features = pd.get_dummies(used.drop(columns=[label]), dtype=float)
    x_train, x_test = features.loc[train_rows], features.loc[test_rows]
    scaler = StandardScaler().fit(x_train)
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    y_train, y_test = used[label].loc[train_rows], used[label].loc[test_rows]
    if task == "regression":
        return r2_score(y_test, LinearRegression().fit(x_train, y_train).predict(x_test))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")              # MLPClassifier's "not converged" on small tables
        model = MLPClassifier(random_state=seed).fit(x_train, y_train)
    return accuracy_score(y_test, model.predict(x_test))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--backprop", default=".build/release/backprop")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, frame, label, flags, task in tables():
            path = os.path.join(folder, f"{name}.csv")
            frame.to_csv(path, index=False)
            model = os.path.join(folder, "m.safetensors")
            ours, theirs = [], []
            for seed in range(1, args.seeds + 1):
                backprop(args.backprop, "train", "--data", path, "--label", label, "--seed", str(seed),
                         "--save", model, *flags)
                scored = json.loads(backprop(args.backprop, "evaluate", "--model", model, "--data", path, "--json"))
                train = json.loads(backprop(args.backprop, "evaluate", "--model", model, "--data", path,
                                            "--rows", "train", "--json"))
                ours.append(scored["r2"] if task == "regression" else scored["accuracy"])
                theirs.append(sklearn_score(frame, label, task, train["rows"], scored["rows"], seed))
            metric = "R²" if task == "regression" else "accuracy"
            rows.append((name, len(frame), task, metric, ours, theirs))
            print(f"{name}: ours {statistics.mean(ours):.4f}, scikit-learn {statistics.mean(theirs):.4f}", file=sys.stderr)
    peer = "MLPClassifier() / LinearRegression()"
    print(f"| table | rows | task | test metric | backprop train (defaults) | scikit-learn {peer} |")
    print("|---|---|---|---|---|---|")
    for name, count, task, metric, ours, theirs in rows:
        def cell(values):
            return f"{statistics.mean(values):.3f} (±{statistics.stdev(values):.3f})" if len(values) > 1 else f"{values[0]:.3f}"
        print(f"| {name} | {count} | {task} | {metric} | {cell(ours)} | {cell(theirs)} |")


main()
