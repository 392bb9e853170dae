"""Classify: the surname classifier, from settings to a trained, evaluated, saved run.

Settings (`config`, `presets`), the model with its cell chosen by name (`model`) and the
hand-written packed cells it runs on a CPU (`recurrence`), the training loop (`train`),
evaluation (`evaluate`), the n-gram baseline (`ngram`, fitted by `logistic`), the two mixed
(`mixture`), the whole run (`pipeline`: prepare, fit, predict), checkpoints (`checkpoint`) and
predictions per prefix (`prefix`). Imports `batching`, `data` and the leaves below them, never
`generate`, `lab`, `serve`, `charts`, `cli` or `ui`.
"""
