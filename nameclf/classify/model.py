"""One character-level recurrent classifier; the cell (RNN, LSTM, GRU) chosen by name."""

import torch
import torch.nn.functional as F
from torch import nn

from nameclf.batching.encoding import one_hot_table, pack
from nameclf.classify.config import BATCHING, KERNELS, RECURRENT, ModelConfig
from nameclf.classify.recurrence import packed_final_states, reverse_padded
from nameclf.errors import ConfigError

CELLS = dict(zip(RECURRENT, (nn.RNN, nn.LSTM, nn.GRU), strict=True))


class NameClassifier(nn.Module):
    """Characters in, log-probabilities over labels out."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        config.validate()
        if config.cell not in CELLS:
            raise ConfigError(f"{config.cell!r} is not a recurrent cell: fit the n-gram baseline "
                              "with nameclf.fit")
        self.config = config
        if config.embedding_dim:
            self.embed = nn.Embedding(config.vocab_size, config.embedding_dim, padding_idx=0)
            input_size = config.embedding_dim
        else:
            self.embed = None
            self.register_buffer("one_hot", one_hot_table(config.vocab_size), persistent=False)
            input_size = config.vocab_size
        self.rnn = CELLS[config.cell](
            input_size, config.hidden_size, config.num_layers,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            bidirectional=config.bidirectional,
        )
        self.drop = nn.Dropout(config.dropout)
        self.kernel = "auto"  # which code runs a packed batch: same weights, same maths
        n_dirs = 2 if config.bidirectional else 1
        self.h2o = nn.Linear(n_dirs * config.hidden_size, config.n_classes)

    def inputs(self, idx: torch.Tensor) -> torch.Tensor:
        """Indices (any shape) to input vectors (..., D): one-hot rows or embeddings."""
        return self.embed(idx) if self.embed is not None else self.one_hot[idx]

    def hand_written(self, idx: torch.Tensor) -> bool:
        """Whether nameclf.classify.recurrence runs this batch: one layer, on the CPU."""
        if self.kernel not in KERNELS:
            raise ConfigError(f"unknown kernel {self.kernel!r}; choose one of {', '.join(KERNELS)}")
        return (self.kernel == "auto" and self.config.num_layers == 1
                and idx.device.type == "cpu")  # on a GPU, cuDNN's fused kernels win

    def direction(self, idx: torch.Tensor, lengths: torch.Tensor, suffix: str) -> torch.Tensor:
        """Final states (B, H) of one direction's weights (suffix "_l0" or "_l0_reverse")."""
        packed = pack(idx, lengths)
        w_ih, w_hh, b_ih, b_hh = (getattr(self.rnn, f"{name}{suffix}") for name in
                                  ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
        bias = b_ih if self.config.cell == "gru" else b_ih + b_hh  # the GRU keeps b_hn inside
        if self.embed is None:  # a one-hot row times W_ih is a column of W_ih: look it up
            x = F.embedding(packed.data, w_ih.t() + bias)  # (N, G*H)
        else:
            x = F.linear(self.embed(packed.data), w_ih, bias)  # (N, G*H)
        h = packed_final_states(self.config.cell, x, w_hh, b_hh, packed.batch_sizes.tolist())
        return h[packed.unsorted_indices]  # (B, H), back in batch order

    def features(self, idx: torch.Tensor, lengths: torch.Tensor,
                 batching: str = "packed") -> torch.Tensor:
        """The final hidden state of each name (B, dirs * H), read per `batching`."""
        if batching == "packed" and self.hand_written(idx):
            h = [self.direction(idx, lengths, "_l0")]
            if self.config.bidirectional:  # right to left: the same run over reversed names
                h.append(self.direction(reverse_padded(idx, lengths), lengths, "_l0_reverse"))
            return torch.cat(h, dim=1)  # (B, dirs * H)
        if batching == "packed":  # pack the indices, then look up only the real cells
            packed = pack(idx, lengths)
            _, h_n = self.rnn(packed._replace(data=self.inputs(packed.data)))  # data: (N, D)
        elif batching in ("padded", "naive"):
            out, h_n = self.rnn(self.inputs(idx))  # out: (T, B, dirs * H)
        else:
            raise ConfigError(f"unknown batching {batching!r}; choose one of {', '.join(BATCHING)}")
        h_n = h_n[0] if isinstance(h_n, tuple) else h_n  # the LSTM's (h, c): keep h
        if batching == "padded":
            if self.config.bidirectional:
                raise ConfigError("padded batching is exact only for one-directional models")
            last = (lengths - 1).to(out.device).view(1, -1, 1).expand(1, -1, out.size(2))
            return out.gather(0, last).squeeze(0)  # (B, H): the state at each last character
        n_dirs = 2 if self.config.bidirectional else 1
        h_n = h_n.view(self.config.num_layers, n_dirs, *h_n.shape[1:])[-1]  # (dirs, B, H)
        return torch.cat(list(h_n), dim=1)  # (B, dirs * H)

    def forward(self, idx: torch.Tensor, lengths: torch.Tensor,
                batching: str = "packed") -> torch.Tensor:
        """Log-probabilities (B, n_classes) for padded indices (T, B)."""
        h = self.drop(self.features(idx, lengths, batching))
        return F.log_softmax(self.h2o(h), dim=1)

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())
