"""What a race's speeds mean: speed-ups between its modes (pure Python, no torch).

Both races (the classifier's `race`, the generator's `generate_race`) report names per second
per mode; the CLI, the charts and the pages turn them into ratios here, so a chart can show a
race's result without importing the code that ran it.
"""


def ratios(speeds: dict[str, float]) -> dict[str, float]:
    """Speed-ups over per-sample, packed over padded and over PyTorch's cell, where measured."""
    out = {}
    base = speeds.get("per-sample")
    for mode in ("padded", "packed"):
        if base and mode in speeds:
            out[f"{mode}_over_per_sample"] = speeds[mode] / base
    if speeds.get("padded") and "packed" in speeds:
        out["packed_over_padded"] = speeds["packed"] / speeds["padded"]
    if speeds.get("packed-torch") and "packed" in speeds:
        out["packed_over_packed_torch"] = speeds["packed"] / speeds["packed-torch"]
    return out
