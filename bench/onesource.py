"""Precision and recall of one-source detection by name, and its speed, on a generated pair of datasets.

    .venv/bin/python -m bench.onesource [--size 5000] [--shared 0.8] [--seed 1]

Dataset A holds `size` companies; dataset B holds `shared`·size of them, each written the way another
department writes it (有限公司→公司, spaces, full-width brackets and letters, a look-alike character,
or a typo and a shorter legal form together), plus as many other companies again, drawn from the same
districts, brands and industries (so near-misses such as 华兴 / 华星 exist). For each scorer and cutoff it
prints precision and recall over (A record, B record) pairs and the time `overlap.fuzzy_matches` took.
Exact detection through the blind index is measured by tests/exchange/test_overlap.py (IDs written with
spaces, lower case x, full-width digits: all found, none wrong)."""

from __future__ import annotations

import argparse
import os
import random
import time
from collections import Counter

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharehub.settings")

import django

django.setup()

from rapidfuzz import fuzz  # noqa: E402

from sharehub.demo.names import company_names, written_differently  # noqa: E402
from sharehub.exchange.overlap import NAME_CUTOFF, fuzzy_matches  # noqa: E402


def make_pair(
    size: int, shared: float, seed: int, *, how: dict[int, str] | None = None
) -> tuple[list[str], list[str], dict[int, int], Counter]:
    """(names of A, names of B, {A index: B index} of the same companies, how the shared ones differ);
    `how`, when given, is filled with how each shared A record is written in B."""
    rng = random.Random(seed)
    names = company_names(rng, size * 2)
    ours = names[:size]
    same = sorted(rng.sample(range(size), round(size * shared)))
    theirs: list[str] = []
    truth: dict[int, int] = {}
    kinds: Counter = Counter()
    for i in same:
        if rng.random() < 0.5:
            text, kind = ours[i], "identical"
        else:
            text, kind = written_differently(rng, ours[i])
        kinds[kind] += 1
        if how is not None:
            how[i] = kind
        truth[i] = len(theirs)
        theirs.append(text)
    theirs.extend(names[size : size + size - len(same)])
    order = list(range(len(theirs)))
    rng.shuffle(order)
    where = {old: new for new, old in enumerate(order)}
    theirs = [theirs[old] for old in order]
    return ours, theirs, {i: where[j] for i, j in truth.items()}, kinds


def score(found: dict[int, tuple[int, float]], truth: dict[int, int]) -> tuple[float, float]:
    right = sum(1 for i, (j, _s) in found.items() if truth.get(i) == j)
    precision = right / len(found) if found else 1.0
    recall = right / len(truth) if truth else 1.0
    return precision, recall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--shared", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    how: dict[int, str] = {}
    ours, theirs, truth, kinds = make_pair(args.size, args.shared, args.seed, how=how)
    print(f"A {len(ours)} names, B {len(theirs)} names, {len(truth)} the same companies: {dict(kinds)}")
    print(f"{'scorer':<18}{'cutoff':>7}{'precision':>11}{'recall':>8}{'seconds':>9}")
    for scorer in (fuzz.ratio, fuzz.token_sort_ratio, fuzz.WRatio):
        for cutoff in (80, NAME_CUTOFF, 90, 95):
            started = time.perf_counter()
            found = fuzzy_matches(ours, theirs, cutoff=cutoff, scorer=scorer)
            elapsed = time.perf_counter() - started
            precision, recall = score(found, truth)
            print(f"{scorer.__name__:<18}{cutoff:>7}{precision:>11.3f}{recall:>8.3f}{elapsed:>9.2f}")
    found = fuzzy_matches(ours, theirs)
    print(f"recall by how the name differs, ratio at {NAME_CUTOFF}:")
    for kind in sorted(kinds):
        shared = [i for i in truth if how[i] == kind]
        hits = sum(1 for i in shared if found.get(i, (None,))[0] == truth[i])
        print(f"  {kind:<16}{hits / len(shared):>6.3f}  ({len(shared)})")


if __name__ == "__main__":
    main()
