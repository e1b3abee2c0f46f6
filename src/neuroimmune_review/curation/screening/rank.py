"""Ranking the screening queue: which unscreened record is most likely relevant.

The model is ASReview's classic default for active-learning screening: TF-IDF features of title
and abstract and a multinomial naive Bayes classifier (alpha 3.822, ASReview's tuned value),
retrained on every decision made so far, with the works already in references.bib as relevant
examples. Class priors are not fitted: the bibliography makes relevant examples far outnumber
the exclusions, and a fitted prior would drown the evidence of the words (ASReview rebalances
the training set for the same reason). On the shipped fixture naive Bayes also beat logistic
regression clearly (see benchmarks/screening-ranking.md).
Until the first exclusion there is nothing to contrast with, so records are ranked by cosine
similarity to the bibliography instead.

ASReview itself is not used: version 3 needs pandas < 3 (the review pins pandas 3) and brings a
Flask web application, SQLAlchemy, gevent and dataset downloaders that a ranking of a few hundred
records does not need. scikit-learn gives the same model offline, with nothing to download.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ... import paths
from .core import DECISIONS, QUEUE, latest_decisions, read_table


def record_text(row: dict[str, str]) -> str:
    return " ".join(filter(None, [row.get("title", ""), row.get("abstract", "")]))


def _vectorizer():
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        sublinear_tf=True,
        ngram_range=(1, 2),
        min_df=1,
        stop_words="english",
        token_pattern=r"(?u)\b[\w-]{2,}\b",
    )


def scores(candidates: list[str], positives: list[str], negatives: list[str]) -> np.ndarray:
    """Relevance score of each candidate text, learnt from relevant and irrelevant texts."""
    if not candidates:
        return np.zeros(0)
    vectorizer = _vectorizer().fit(candidates + positives + negatives)
    x = vectorizer.transform(candidates)
    if not positives:
        return np.zeros(len(candidates))
    pos = vectorizer.transform(positives)
    if not negatives:
        centroid = np.asarray(pos.mean(axis=0))
        norm = np.linalg.norm(centroid) or 1.0
        return np.asarray(x @ (centroid / norm).T).ravel()
    from sklearn.naive_bayes import MultinomialNB

    train = vectorizer.transform(positives + negatives)
    labels = np.array([1] * len(positives) + [0] * len(negatives))
    model = MultinomialNB(alpha=3.822, fit_prior=False).fit(train, labels)
    return model.predict_proba(x)[:, 1]


def bibliography_texts(root: Path) -> list[str]:
    from ...bib import SOURCE_ARTICLE_KEY, load_bibliography

    bib_file = paths.bib_path(root)
    if not bib_file.is_file():
        return []
    entries = load_bibliography(bib_file).entries
    return [record_text(fields) for key, fields in entries.items() if key != SOURCE_ARTICLE_KEY]


@dataclass
class Ranked:
    row: dict[str, str]
    score: float


def ranked_queue(root: Path | None = None) -> list[Ranked]:
    """Unscreened records, most likely relevant first."""
    root = Path(root or paths.find_root()).resolve()
    queue = [row for row in read_table(root, QUEUE) if not row["duplicate_of"]]
    decided = latest_decisions(read_table(root, DECISIONS))
    by_id = {row["record_id"]: row for row in queue}
    positives = bibliography_texts(root) + [
        record_text(by_id[r])
        for r, d in decided.items()
        if d["decision"] == "include" and r in by_id
    ]
    negatives = [
        record_text(by_id[r])
        for r, d in decided.items()
        if d["decision"] == "exclude" and r in by_id
    ]
    todo = [row for row in queue if row["record_id"] not in decided]
    values = scores([record_text(r) for r in todo], positives, negatives)
    order = sorted(range(len(todo)), key=lambda i: (-values[i], todo[i]["record_id"]))
    return [Ranked(todo[i], float(values[i])) for i in order]


# ---------------------------------------------------------------------------
# Evaluation: a simulated screening of a labelled export


def simulate(texts: list[str], relevant: list[bool], prior: list[str]) -> list[int]:
    """Screening order when a curator always takes the top-ranked record and the model is retrained
    after each decision (ASReview's simulation mode)."""
    remaining = list(range(len(texts)))
    order: list[int] = []
    while remaining:
        pos = prior + [texts[i] for i in order if relevant[i]]
        neg = [texts[i] for i in order if not relevant[i]]
        values = scores([texts[i] for i in remaining], pos, neg)
        best = max(range(len(remaining)), key=lambda j: (values[j], -remaining[j]))
        order.append(remaining.pop(best))
    return order


def recall_at(order: list[int], relevant: list[bool], k: int) -> float:
    total = sum(relevant)
    return sum(relevant[i] for i in order[:k]) / total if total else 0.0


def wss(order: list[int], relevant: list[bool], level: float = 0.95) -> float:
    """Work saved over sampling at *level* recall: share of records left unread, minus (1 - level)."""
    total = sum(relevant)
    needed = int(np.ceil(level * total))
    found = 0
    for read, i in enumerate(order, start=1):
        found += relevant[i]
        if found >= needed:
            return (len(order) - read) / len(order) - (1 - level)
    return 0.0


def evaluate(
    texts: list[str],
    relevant: list[bool],
    prior: list[str],
    ks=(3, 5, 8),
    runs: int = 1000,
    seed: int = 20261201,
) -> dict:
    """Recall in the top k and WSS@95 of the model's order, against the mean of random orders."""
    order = simulate(texts, relevant, prior)
    rng = random.Random(seed)
    randoms = []
    for _ in range(runs):
        shuffled = list(range(len(texts)))
        rng.shuffle(shuffled)
        randoms.append(shuffled)
    result = {
        "records": len(texts),
        "relevant": sum(relevant),
        "prior_relevant": len(prior),
        "random_runs": runs,
        "model": {f"recall@{k}": round(recall_at(order, relevant, k), 3) for k in ks},
        "random": {
            f"recall@{k}": round(float(np.mean([recall_at(o, relevant, k) for o in randoms])), 3)
            for k in ks
        },
    }
    result["model"]["wss@95"] = round(wss(order, relevant), 3)
    result["random"]["wss@95"] = round(float(np.mean([wss(o, relevant) for o in randoms])), 3)
    reads = next(
        n for n in range(1, len(order) + 1) if sum(relevant[i] for i in order[:n]) == sum(relevant)
    )
    result["model"]["records read to find all relevant"] = reads
    result["order"] = ["R" if relevant[i] else "-" for i in order]
    return result


def benchmark(root: Path, export: Path, labels: Path) -> dict:
    """Evaluate the ranking on a labelled export, as an import would see it (bibliography
    duplicates removed, the bibliography as prior knowledge)."""
    import csv

    from ...bib import load_bibliography
    from .core import DuplicateIndex, read_export

    answer = {
        row["doi"].lower(): row["relevant"] == "yes"
        for row in csv.DictReader(labels.open(encoding="utf-8"))
    }
    index = DuplicateIndex()
    for key, fields in load_bibliography(paths.bib_path(root)).entries.items():
        index.add(key, fields.get("doi", ""), fields.get("pmid", ""), fields.get("title", ""))
    texts, relevant = [], []
    for item in read_export(export):
        f = item.fields
        if index.find(f.get("doi", ""), f.get("pmid", ""), f.get("title", "")):
            continue
        texts.append(record_text({**f, "abstract": item.abstract}))
        relevant.append(answer[f["doi"].lower()])
    result = evaluate(texts, relevant, bibliography_texts(root))
    result["export"] = export.name
    return result
