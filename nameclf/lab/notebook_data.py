"""The data cells of an exported notebook: embedded, fetched by URL, or read from beside it.

Plain text of plain-Python code; nothing here runs it. Both notebooks (classifier and generator)
load names the same way, so their data cells are shared.
"""

IMPORTS = """\
import base64, csv, gzip, hashlib, io, json, math, random, time, unicodedata, urllib.request
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence"""

# the rows as the app read them, gzip-compressed CSV in base64: {payload} is filled in
EMBEDDED = """\
DATA = (
{payload}
)
text = gzip.decompress(base64.b64decode(DATA)).decode("utf-8")
raw_rows = [(name, label) for name, label in csv.reader(io.StringIO(text))]"""

BESIDE = """\
# names.csv sits beside this notebook (unzip the download in one folder)
with open(SETTINGS["data_file"], newline="", encoding="utf-8") as f:
    raw_rows = [(name, label) for name, label in csv.reader(f)]"""

DOWNLOAD = """\
# the tutorial's data: a zip of data/names/<Language>.txt, one surname a line
zip_path = Path(SETTINGS["data_file"])
if not zip_path.exists():
    urllib.request.urlretrieve(SETTINGS["url"], zip_path)
with zipfile.ZipFile(zip_path) as archive:
    members = sorted(m for m in archive.namelist()
                     if m.startswith("data/names/") and m.endswith(".txt"))
    raw_rows = []
    for member in members:
        raw = archive.read(member)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        label = Path(member).stem
        raw_rows += [(line.strip(), label) for line in text.splitlines() if line.strip()]"""

# the app's cleaning (nameclf.data.dataset.clean_rows, drop_rare): idempotent on clean rows
CLEAN = """\
LETTERS = str.maketrans({"ß": "ss", "ẞ": "SS", "Æ": "Ae", "æ": "ae", "Œ": "Oe", "œ": "oe",
                         "Ø": "O", "ø": "o", "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ð": "D",
                         "ð": "d", "Þ": "Th", "þ": "th", "ı": "i", "Ħ": "H", "ħ": "h"})


def normalize(name):
    \"\"\"Collapse whitespace; fold accents to ASCII (NFD, drop the marks) or keep NFC.\"\"\"
    name = " ".join(name.split())
    if not SETTINGS["ascii_fold"]:
        return unicodedata.normalize("NFC", name)
    if name.isascii():
        return name
    decomposed = unicodedata.normalize("NFD", name).translate(LETTERS)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


rows = []
for raw_name, raw_label in raw_rows:
    name, label = normalize(raw_name), " ".join(raw_label.split())
    if name and label and len(name) <= 40 and len(label) <= 40 and any(c.isalpha() for c in name):
        rows.append((name, label))
counts = Counter(label for _, label in rows)
rows = [(n, lab) for n, lab in rows if counts[lab] >= SETTINGS["min_names_per_label"]]
names, labels = [n for n, _ in rows], [lab for _, lab in rows]
digest = hashlib.sha256("".join(f"{n}\\t{lab}\\n" for n, lab in rows).encode()).hexdigest()
assert digest == SETTINGS["rows_sha256"], "these rows differ from the ones the run trained on"
print(f"{len(rows):,} names in {len(set(labels))} labels (checksum {digest[:12]} matches)")
pd.Series(labels).value_counts().rename("names").to_frame().head(10)"""

# the app's split (nameclf.data.splits.make_split): 20% test, seeded
SPLIT = """\
def stratified(groups, frac, rng):
    \"\"\"Send `frac` of each label's items to the second list (at least one if it has two).\"\"\"
    keep, held = [], []
    for label in sorted(groups):
        items = list(groups[label])
        rng.shuffle(items)
        n_held = round(len(items) * frac)
        if frac > 0 and len(items) >= 2:
            n_held = min(max(n_held, 1), len(items) - 1)
        held += items[:n_held]
        keep += items[n_held:]
    return keep, held


rng = random.Random(SETTINGS["seed"])
if SETTINGS["split"] == "rows":  # the tutorial's split: a name may sit on both sides
    by_label = defaultdict(list)
    for i, label in enumerate(labels):
        by_label[label].append(i)
    train_rows, test_rows = map(sorted, stratified(by_label, 0.2, rng))
else:  # leak-free: every row of a name on one side, stratified by its most frequent label
    rows_of = defaultdict(list)
    for i, name in enumerate(names):
        rows_of[name].append(i)
    by_label = defaultdict(list)
    for name, rows_here in rows_of.items():
        by_label[Counter(labels[i] for i in rows_here).most_common(1)[0][0]].append(name)
    train_names, test_names = stratified(by_label, 0.2, rng)
    train_rows = sorted(i for n in train_names for i in rows_of[n])
    test_rows = sorted(i for n in test_names for i in rows_of[n])
print(f"{len(train_rows):,} training rows, {len(test_rows):,} test rows")"""

VOCAB = """\
chars = sorted({c for i in train_rows for c in names[i]})
lookup = {c: i + 2 for i, c in enumerate(chars)}  # 0 = <pad>, 1 = <unk>
classes = sorted(set(labels))


def encode(name):
    \"\"\"Character indices; an unseen character reads in its other case if that was seen.\"\"\"
    out = []
    for c in name:
        other = c.lower() if c != c.lower() else c.upper()
        out.append(lookup.get(c) or (lookup.get(other, 1) if len(other) == 1 else 1))
    return out"""

# The two training loops' batch sampler and learning-rate schedule (nameclf.batching.batches.
# sample_batches, nameclf.classify.train.lr_at), for the notebooks' LOOP cells to include.
BATCHES_AND_SCHEDULE = """\
def sample_batches(lengths, batch_size, sampling, gen):
    \"\"\"Index batches forever: random with replacement, shuffled epochs, or length buckets.\"\"\"
    n = len(lengths)
    batch_size = batch_size if sampling == "random" else min(batch_size, n)
    while True:
        if sampling == "random":  # the tutorial: independent draws with replacement
            yield torch.randint(n, (batch_size,), generator=gen)
            continue
        perm = torch.randperm(n, generator=gen)
        batches = list(perm.split(batch_size))
        if sampling == "bucket":  # sort within chunks of 32 batches: similar lengths together
            batches = []
            for part in perm.split(32 * batch_size):
                part = part[torch.sort(lengths[part], stable=True).indices]
                batches += list(part.split(batch_size))
            order = torch.randperm(len(batches), generator=gen).tolist()
            batches = [batches[i] for i in order]
        yield from batches


def lr_at(step, total):
    \"\"\"Linear warmup, then constant, cosine or linear decay.\"\"\"
    if step < T["warmup"]:
        return T["lr"] * (step + 1) / T["warmup"]
    progress = (step - T["warmup"]) / max(1, total - T["warmup"])
    if T["schedule"] == "cosine":
        return T["lr"] * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
    return T["lr"] if T["schedule"] == "constant" else T["lr"] * max(0.0, 1 - progress)


"""
