"""Reference timing for bench/gate.ts: scikit-learn TfidfVectorizer(ngram_range=(1,2)) + MultinomialNB.

Usage: python3 bench/sklearn_gate.py TRAIN.csv QUERIES.txt  -> one JSON line {trainSeconds, cpuSeconds, p50us, p99us, n}
       python3 bench/sklearn_gate.py fit TRAIN.csv MODEL.pkl    (a whole process: read, fit, save)
       python3 bench/sklearn_gate.py predict MODEL.pkl DATA.csv (a whole process: load, read, predict every row)
"""
import csv
import json
import pickle
import sys
import time

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["label"] for r in rows]


def fit(train_path, model_path) -> None:
    texts, labels = read(train_path)
    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), MultinomialNB(alpha=0.1))
    model.fit(texts, labels)
    with open(model_path, "wb") as f:
        pickle.dump(model, f)


def predict(model_path, data_path) -> None:
    with open(model_path, "rb") as f:
        model = pickle.load(f)
    texts, labels = read(data_path)
    probs = model.predict_proba(texts)
    right = sum(1 for p, y in zip(probs.argmax(axis=1), labels) if model.classes_[p] == y)
    print(json.dumps({"n": len(texts), "accuracy": right / max(1, len(texts))}))


def main() -> None:
    if sys.argv[1] == "fit":
        return fit(sys.argv[2], sys.argv[3])
    if sys.argv[1] == "predict":
        return predict(sys.argv[2], sys.argv[3])
    with open(sys.argv[1], newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    texts = [r["text"] for r in rows]
    labels = [r["label"] for r in rows]
    with open(sys.argv[2], encoding="utf-8") as f:
        queries = [line.rstrip("\n") for line in f if line.strip()]

    # Best of a few runs, as for our gate: the machine is shared.
    runs = 2 if len(rows) >= 50000 else 3
    train_seconds = cpu_seconds = float("inf")
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), MultinomialNB(alpha=0.1))
        model.fit(texts, labels)
        wall = time.perf_counter() - start
        if wall < train_seconds:
            train_seconds, cpu_seconds = wall, time.process_time() - cpu

    for q in queries[:50]:
        model.predict([q])
    times = []
    for q in queries:
        t = time.perf_counter()
        model.predict_proba([q])
        times.append((time.perf_counter() - t) * 1e6)
    times.sort()
    pick = lambda p: times[min(len(times) - 1, int(p * len(times)))]
    print(json.dumps({"trainSeconds": train_seconds, "cpuSeconds": cpu_seconds, "p50us": pick(0.5), "p99us": pick(0.99), "n": len(rows)}))


if __name__ == "__main__":
    main()
