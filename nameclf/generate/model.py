"""A conditional character-level name generator; the cell (RNN, LSTM, GRU) chosen by name.

Conditioning: the label's embedding is concatenated to every input character's embedding,
so the label is in front of the cell at each step (it does not fade as the state is
rewritten, and the LSTM's (h, c) pair needs no special case, unlike an initial state).
"""

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence

from nameclf.generate.config import GeneratorConfig

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class NameGenerator(nn.Module):
    """(<sos> + characters so far, label) in, logits over the next token out."""

    def __init__(self, config: GeneratorConfig):
        super().__init__()
        config.validate()
        self.config = config
        self.embed = nn.Embedding(config.n_inputs, config.embedding_dim, padding_idx=0)
        self.label_embed = nn.Embedding(config.n_labels, config.label_dim)
        self.rnn = CELLS[config.cell](
            config.embedding_dim + config.label_dim, config.hidden_size, config.num_layers,
            dropout=config.dropout if config.num_layers > 1 else 0.0)
        self.drop = nn.Dropout(config.dropout)
        self.out = nn.Linear(config.hidden_size, config.n_outputs)

    def step_inputs(self, idx: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Character and label embeddings side by side (..., E + L); shapes of idx and
        labels match, or labels broadcast over idx's leading (time) dimension."""
        lab = self.label_embed(labels)  # (..., L)
        return torch.cat([self.embed(idx), lab.expand(*idx.shape, lab.size(-1))], dim=-1)

    def forward(self, inputs: torch.Tensor, labels: torch.Tensor, state=None):
        """Logits (T, B, V_out) of the next token at every cell of padded inputs (T, B).

        A one-way net reads left to right, so the outputs at real cells are exact whatever
        padding follows; those at padded cells are computed too, and must not be scored.
        """
        out, state = self.rnn(self.drop(self.step_inputs(inputs, labels)), state)  # (T, B, H)
        return self.out(self.drop(out)), state

    def forward_packed(self, inputs: torch.Tensor, lengths: torch.Tensor,
                       labels: torch.Tensor) -> tuple[torch.Tensor, PackedSequence]:
        """Logits (N_real, V_out) of the real cells only, in packed (time-major) order.

        Also returns the packed inputs, whose sorted order the targets must be packed in.
        """
        steps = inputs.size(0)
        packed = pack_padded_sequence(inputs, lengths.cpu(), enforce_sorted=False)
        grid = labels.view(1, -1).expand(steps, -1)  # (T, B): each cell's label
        packed_labels = pack_padded_sequence(grid, lengths.cpu(), enforce_sorted=False).data
        x = self.drop(self.step_inputs(packed.data, packed_labels))  # (N, E + L)
        out, _ = self.rnn(packed._replace(data=x))  # out.data: (N, H)
        return self.out(self.drop(out.data)), packed

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())
