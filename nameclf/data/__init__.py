"""Data: names and their labels, from any source to a split and a vocabulary.

Loading a file, zip, folder or built-in dataset (`dataset`, `columns`, `builtin`, `textfix`),
what was kept and why (`report`), the on-disk cache of built rows (`rows_cache`), leak-free
splits (`splits`), the character vocabulary (`vocab`) and the word-frequency lexicon the n-gram
model reads (`lexicon`). The bottom floor above `nameclf.errors`: it imports nothing else of
nameclf, and no torch.
"""
