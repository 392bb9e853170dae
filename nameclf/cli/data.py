"""The dataset the CLI's data flags describe, with a download bar and the load report."""

import sys
from pathlib import Path


def load_data(args, report: bool = False):
    """The dataset the data flags describe; with `report`, its load report on stderr."""
    from nameclf.data.dataset import LoadOptions, load_dataset

    progress = None
    if args.data == "builtin:pytorch-names" and not Path("data/pytorch-names.zip").exists():
        from tqdm import tqdm

        bar = tqdm(unit="B", unit_scale=True, desc="downloading", file=sys.stderr)

        def progress(done, total):
            bar.total = total
            bar.n = done
            bar.refresh()
    options = LoadOptions(args.name_column, args.label_column, args.min_names_per_label,
                          args.fix_text)
    ds = load_dataset(args.data, ascii_fold=not args.keep_unicode, progress=progress,
                      options=options)
    if report:
        print("\n".join(ds.report.lines()), file=sys.stderr)
    return ds
