"""`python -m nameclf notebook`: a run's settings as a plain-PyTorch notebook, or a zip of it.

The same notebook the app's *Download as a notebook* gives for the same settings.
"""

import json
import sys
from pathlib import Path

from nameclf.errors import NameclfError

SUFFIXES = (".ipynb", ".zip")


def checkpoint_settings(path: Path):
    """(model config, train config, info) of a saved classifier run."""
    from nameclf.classify.checkpoint import load

    run = load(path)
    return run.model_config, run.train_config, dict(run.info, status=run.status)


def run_data(info: dict, args):
    """The dataset a saved run trained on, if it loads here; else one clear line."""
    from nameclf.data.dataset import BUILTINS, LoadOptions, load_dataset

    source = str(info.get("data", ""))
    if source not in BUILTINS and not Path(source).exists():
        raise NameclfError(f"the run trained on {source or 'data it did not record'}, which "
                           "is not here: train with --data FILE and the same flags instead")
    return load_dataset(source, ascii_fold=info.get("ascii_fold", True),
                        options=LoadOptions(min_names_per_label=args.min_names_per_label))


def write(out: Path, nb, spec) -> list[Path]:
    """Write the notebook as --out says: a zip, or the .ipynb with any data file beside it."""
    from nameclf.lab.notebook import DATA_FILE, notebook_bytes, package

    beside = out.parent / DATA_FILE  # where the notebook of a file reads its rows
    if out.suffix == ".ipynb" and spec.kind == "beside" and beside.exists() \
            and beside.read_bytes() != spec.beside:
        raise NameclfError(f"{beside} exists and holds other rows; the notebook would read "
                           "them: choose another folder, or --out FILE.zip")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".zip":
        out.write_bytes(package(nb, spec, zipped=True)[1])
        return [out]
    out.write_bytes(notebook_bytes(nb))
    if spec.kind != "beside":
        return [out]
    beside.write_bytes(spec.beside)
    return [out, beside]


def cmd_notebook(args) -> int:
    from nameclf.cli.classify import train_configs
    from nameclf.cli.data import load_data
    from nameclf.lab.notebook import data_spec
    from nameclf.lab.notebook_classify import check_exportable, classifier_notebook, run_notebook

    if args.out.suffix not in SUFFIXES:
        raise NameclfError(f"--out must end in .ipynb or .zip, not {args.out.name!r}")
    if args.task == "generate":
        from nameclf.cli.generate import gen_configs
        from nameclf.lab.notebook_generate import generator_notebook

        if args.checkpoint is not None:
            raise NameclfError("--checkpoint exports a classifier run; for a generator, give "
                               "its train flags with --task generate")
        model_cfg, train_cfg, seed = gen_configs(args)
        spec = data_spec(load_data(args, report=True), args.data)
        nb = generator_notebook(model_cfg, train_cfg, args.split or "names", spec, seed)
    elif args.checkpoint is not None:
        model_cfg, train_cfg, info = checkpoint_settings(args.checkpoint)
        check_exportable(model_cfg, train_cfg, info)
        nb, spec = run_notebook(model_cfg, train_cfg, info, run_data(info, args))
    else:
        model_cfg, train_cfg, split, seed = train_configs(args)
        check_exportable(model_cfg)
        ds = load_data(args, report=True)
        spec = data_spec(ds, args.data)
        nb = classifier_notebook(model_cfg, train_cfg, split, spec, seed)
    paths = write(args.out, nb, spec)
    print(json.dumps({"notebook": str(paths[0]), "files": [str(p) for p in paths],
                      "data": spec.kind, "bytes": paths[0].stat().st_size}))
    if len(paths) > 1:
        print(f"the notebook reads {paths[1].name} from its folder: keep the two together",
              file=sys.stderr)
    return 0
