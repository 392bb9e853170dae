"""Generate: a label-conditioned name generator, the output side of batching.

Settings (`config`), the model (`model`), shifted and padded targets (`batches`), the masked
loss (`loss`), training and bits per character (`train`), the Kneser-Ney character n-gram LM
(`ngram`) and its mixture with the network (`mixture`), sampling (`sampling`) and checkpoints
(`checkpoint`). Built beside the classifier and on its pieces: imports `classify` (the sampler,
the schedule, a classifier to judge samples), `batching`, `data` and the leaves, never `lab`,
`serve`, `charts`, `cli` or `ui`.
"""
