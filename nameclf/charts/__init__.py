"""Charts: pure functions from numbers to pictures, plotly figures or plain HTML.

General figures (`figures`: curves, confusion, counts), the speed race (`race`), the packing
walkthrough (`packing`), the generator's pages (`generate`), the JavaScript-free HTML
charts and token grids (`html`, `token_grid`), and a name's attribution strip
(`attribution`). Charts read results; they never train: they may import `lab.packing`, `data`
and the leaves, and import-linter forbids every trainer, `serve`, `cli` and `ui`.
"""
