"""Lab: the experiments the app teaches batching with, above the models they run.

The padding-and-packing walkthrough as data (`packing`), the speed race of per-sample, padded
and packed training (`race`), and their generator counterparts: shifted, masked targets step by
step (`targets`) and the generator's race (`generate_race`); the batching bugs measured bug
against fix (`pitfall_states`, `pitfalls`; their cards' words in `pitfall_cards`), and which
characters decided an answer (`attribution`). The gradient half: the noise of a batch's
gradient against its size (`gradnoise`) and the batch-size race to a target loss
(`batch_race`); and any run taken home as a plain-PyTorch notebook (`notebook`,
`notebook_classify`, `notebook_generate`). Imports `generate`, `classify`, `batching`,
`data` and the leaves; the charts and pages above draw what it returns.
"""
