"""About how long a training job will take, so visitors queued behind it can be told."""

from nameclf.classify.config import total_steps
from nameclf.ui.cache import training_speeds

NGRAM_FIT_S = 15.0  # the n-gram fit on 20,000 names on a 2-core CPU (it reports no speed)


def _speed_key(model_cfg, train_cfg) -> tuple:
    return (model_cfg.cell, model_cfg.hidden_size, model_cfg.embedding_dim,
            model_cfg.num_layers, model_cfg.bidirectional, train_cfg.batching,
            train_cfg.batch_size)


def learned_speed(model_cfg, train_cfg, names_per_second: float) -> None:
    """Remember how fast this kind of model trains on this server (for queue estimates)."""
    speeds = training_speeds()
    speeds[_speed_key(model_cfg, train_cfg)] = speeds["any"] = names_per_second


def expected_seconds(model_cfgs, train_cfg, n_train: int) -> float | None:
    """About how long a job will hold its slot, so the visitors queued behind it can be told:
    its time limit, else its names to train over the speed such a model trained at here
    (any model's, if this kind has not trained yet); None before anything has trained."""
    if train_cfg.time_budget:
        return train_cfg.time_budget * len(model_cfgs)
    speeds, total = training_speeds(), 0.0
    for model_cfg in model_cfgs:
        if model_cfg.cell == "ngram":
            total += NGRAM_FIT_S
            continue
        speed = speeds.get(_speed_key(model_cfg, train_cfg), speeds.get("any"))
        if not speed:
            return None
        steps = total_steps(n_train, train_cfg.batch_size, train_cfg.steps, train_cfg.epochs,
                            train_cfg.max_names)  # as training caps them
        total += 1.1 * steps * train_cfg.batch_size / speed  # + about a tenth evaluating
    return total
