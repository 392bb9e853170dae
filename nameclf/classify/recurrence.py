"""One-layer RNN, LSTM and GRU over a packed batch, with backpropagation through time by hand.

The same maths as `nn.RNN/LSTM/GRU` on a PackedSequence, with the same weights, done in fewer
and larger operations, which is what a CPU rewards:

- inputs arrive already projected, `(N, G*H)` for the N real cells: a one-hot row times W_ih is
  a column of W_ih, so the tutorial's one-hot input becomes a row lookup instead of a matmul;
- each step is one matmul and a few elementwise ops, with nothing recorded for autograd;
- the backward pass walks the steps in reverse with one matmul each, and the weight gradient
  is a single (G*H, N) @ (N, H) matmul over every cell at once;
- tanh(x) is computed as 2·sigmoid(2x) − 1, because PyTorch's CPU tanh is about three times
  slower than its sigmoid here (`python bench/kernels.py` measures both).

Rows of a packed batch are time-major and sorted longest-first, so at step t the first
`batch_sizes[t]` names are still running and their previous states are the first rows of
step t − 1. The tests check outputs and gradients against PyTorch's own modules.
"""

import torch

GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # G: gate blocks of H columns in W_ih and W_hh


def offsets(batch_sizes: list[int]) -> list[int]:
    """Row where each step starts in the packed data."""
    out, total = [], 0
    for b in batch_sizes:
        out.append(total)
        total += b
    return out


def last_rows(batch_sizes: list[int]) -> torch.Tensor:
    """Row of each name's last cell, names in packed (longest-first) order (B,)."""
    sizes = torch.tensor(batch_sizes)  # (T,)
    steps = (sizes[None, :] > torch.arange(int(sizes[0]))[:, None]).sum(1)  # (B,) lengths
    starts = torch.cumsum(sizes, 0) - sizes  # (T,) offsets
    return starts[steps - 1] + torch.arange(len(steps))  # name i is row i of its last step


def previous(states: torch.Tensor, batch_sizes: list[int]) -> torch.Tensor:
    """For each cell, the state it started from: zeros at step 0 (N, H)."""
    prev = torch.empty_like(states)
    prev[: batch_sizes[0]] = 0
    offs = offsets(batch_sizes)
    for t in range(1, len(batch_sizes)):
        b = batch_sizes[t]
        prev[offs[t] : offs[t] + b] = states[offs[t - 1] : offs[t - 1] + b]
    return prev


def tanh_(x: torch.Tensor) -> torch.Tensor:
    """tanh in place, as 2·sigmoid(2x) − 1."""
    return x.mul_(2).sigmoid_().mul_(2).sub_(1)


def tanh_grad(grad: torch.Tensor, y: torch.Tensor, out: torch.Tensor | None = None):
    """grad · (1 − y²) for y = tanh(x), in one kernel (into `out` if given)."""
    if out is None:
        return torch.ops.aten.tanh_backward(grad, y)
    return torch.ops.aten.tanh_backward.grad_input(grad, y, grad_input=out)


class PackedRNN(torch.autograd.Function):
    """h_t = tanh(x_t + W_hh h_{t-1}); x holds W_ih x_t + b_ih + b_hh."""

    @staticmethod
    def forward(ctx, x, w_hh, batch_sizes: list[int]):
        h = torch.empty_like(x)  # (N, H): every state
        offs = offsets(batch_sizes)
        for t, (o, b) in enumerate(zip(offs, batch_sizes)):
            h_t = h[o : o + b]
            if t == 0:  # starting from h = 0
                torch.mul(x[o : o + b], 2, out=h_t)
            else:  # 2·(x + W h): the doubled argument of tanh(p) = 2·sigmoid(2p) − 1
                torch.addmm(x[o : o + b], h[offs[t - 1] : offs[t - 1] + b], w_hh.t(),
                            beta=2, alpha=2, out=h_t)
            h_t.sigmoid_().mul_(2).sub_(1)
        ctx.save_for_backward(h, w_hh)
        ctx.batch_sizes = batch_sizes
        return h[last_rows(batch_sizes)]  # (B, H)

    @staticmethod
    def backward(ctx, grad_last):
        h, w_hh = ctx.saved_tensors
        batch_sizes = ctx.batch_sizes
        d_pre = torch.empty_like(h)  # (N, H)
        dh = grad_last.clone()  # (B, H)
        offs = offsets(batch_sizes)
        for t in range(len(batch_sizes) - 1, -1, -1):
            # names b.. end before step t: their rows of dh stay grad_last until the
            # loop reaches their own last step, which is exactly where it flows in
            o, b = offs[t], batch_sizes[t]
            tanh_grad(dh[:b], h[o : o + b], out=d_pre[o : o + b])
            if t:
                torch.mm(d_pre[o : o + b], w_hh, out=dh[:b])
        return d_pre, d_pre.t() @ previous(h, batch_sizes), None


class PackedLSTM(torch.autograd.Function):
    """The LSTM with gates i, f, g, o; x holds W_ih x_t + b_ih + b_hh (N, 4H)."""

    @staticmethod
    def forward(ctx, x, w_hh, batch_sizes: list[int]):
        H = w_hh.shape[1]
        s = torch.empty_like(x)  # (N, 4H): sigmoid of every gate, of 2p for g
        c = x.new_empty(len(x), H)  # (N, H) cell states
        tc = torch.empty_like(c)  # (N, H) tanh of the cell states
        h = torch.empty_like(c)  # (N, H) hidden states
        offs = offsets(batch_sizes)
        for t, (o, b) in enumerate(zip(offs, batch_sizes)):
            s_t, prev = s[o : o + b], slice(offs[t - 1], offs[t - 1] + b)
            if t == 0:  # starting from h = c = 0
                s_t.copy_(x[o : o + b])
            else:
                torch.addmm(x[o : o + b], h[prev], w_hh.t(), out=s_t)
            s_t[:, 2 * H : 3 * H].mul_(2)  # g = tanh(p) = 2·sigmoid(2p) − 1: one sigmoid
            s_t.sigmoid_()
            i, f, g, og = s_t.chunk(4, 1)
            g = g.mul(2).sub_(1)
            c_t = c[o : o + b]
            if t == 0:
                torch.mul(i, g, out=c_t)
            else:
                torch.mul(f, c[prev], out=c_t).addcmul_(i, g)
            tanh_(tc[o : o + b].copy_(c_t))
            torch.mul(og, tc[o : o + b], out=h[o : o + b])
        ctx.save_for_backward(s, c, tc, h, w_hh)
        ctx.batch_sizes = batch_sizes
        return h[last_rows(batch_sizes)]  # (B, H)

    @staticmethod
    def backward(ctx, grad_last):
        s, c, tc, h, w_hh = ctx.saved_tensors
        batch_sizes = ctx.batch_sizes
        offs = offsets(batch_sizes)
        d_pre = torch.empty_like(s)  # (N, 4H), gradient of the gates' pre-activations
        dh = grad_last.clone()  # (B, H)
        dc = torch.zeros_like(dh)  # (B, H)
        for t in range(len(batch_sizes) - 1, -1, -1):
            o, b = offs[t], batch_sizes[t]
            i, f, g, og = s[o : o + b].chunk(4, 1)
            d_t = d_pre[o : o + b]
            di, df, dg, do = d_t.chunk(4, 1)
            dh_t, dc_t, tc_t = dh[:b], dc[:b], tc[o : o + b]
            torch.mul(dh_t, tc_t, out=do)
            dc_t.add_(tanh_grad(dh_t * og, tc_t))
            torch.mul(dc_t, g.mul(2).sub_(1), out=di)
            torch.mul(dc_t, i, out=dg).mul_(4)  # g = 2·sigmoid(2p) − 1: dg/ds = 2, ds/dp ·2
            if t:
                torch.mul(dc_t, c[offs[t - 1] : offs[t - 1] + b], out=df)
            else:
                df.zero_()
            torch.ops.aten.sigmoid_backward.grad_input(d_t, s[o : o + b], grad_input=d_t)
            dc_t.mul_(f)
            if t:
                torch.mm(d_t, w_hh, out=dh_t)
        return d_pre, d_pre.t() @ previous(h, batch_sizes), None


class PackedGRU(torch.autograd.Function):
    """PyTorch's GRU: r, z gates and n = tanh(x_n + r·(W_hn h + b_hn)); x holds W_ih x + b_ih."""

    @staticmethod
    def forward(ctx, x, w_hh, b_hh, batch_sizes: list[int]):
        H = w_hh.shape[1]
        hh = torch.empty_like(x)  # (N, 3H): W_hh h + b_hh
        rz = x.new_empty(len(x), 2 * H)  # (N, 2H): reset and update gates
        n = x.new_empty(len(x), H)  # (N, H): candidate states
        h = torch.empty_like(n)  # (N, H)
        offs = offsets(batch_sizes)
        for t, (o, b) in enumerate(zip(offs, batch_sizes)):
            h_prev = h[offs[t - 1] : offs[t - 1] + b]
            if t == 0:  # starting from h = 0
                hh[o : o + b] = b_hh
            else:
                torch.addmm(b_hh, h_prev, w_hh.t(), out=hh[o : o + b])
            x_t, hh_t = x[o : o + b], hh[o : o + b]
            torch.add(x_t[:, : 2 * H], hh_t[:, : 2 * H], out=rz[o : o + b]).sigmoid_()
            r, z = rz[o : o + b].chunk(2, 1)
            n_t = tanh_(torch.addcmul(x_t[:, 2 * H :], r, hh_t[:, 2 * H :], out=n[o : o + b]))
            if t == 0:
                torch.addcmul(n_t, z, n_t, value=-1, out=h[o : o + b])  # h_prev = 0
            else:
                torch.addcmul(n_t, z, h_prev - n_t, out=h[o : o + b])
        ctx.save_for_backward(hh, rz, n, h, w_hh)
        ctx.batch_sizes = batch_sizes
        return h[last_rows(batch_sizes)]  # (B, H)

    @staticmethod
    def backward(ctx, grad_last):
        hh, rz, n, h, w_hh = ctx.saved_tensors
        H = w_hh.shape[1]
        batch_sizes = ctx.batch_sizes
        offs = offsets(batch_sizes)
        prev = previous(h, batch_sizes)  # (N, H)
        d_x = torch.empty_like(hh)  # (N, 3H)
        d_hh = torch.empty_like(hh)  # (N, 3H)
        dh = grad_last.clone()  # (B, H)
        for t in range(len(batch_sizes) - 1, -1, -1):
            o, b = offs[t], batch_sizes[t]
            r, z = rz[o : o + b].chunk(2, 1)
            n_t, dh_t = n[o : o + b], dh[:b]
            d_n = tanh_grad(dh_t - dh_t * z, n_t)  # through h = (1 − z)·n + z·h_prev
            d_rz = d_x[o : o + b, : 2 * H]
            dr, dz = d_rz.chunk(2, 1)
            torch.mul(d_n, hh[o : o + b, 2 * H :], out=dr)
            torch.mul(dh_t, prev[o : o + b] - n_t, out=dz)
            torch.ops.aten.sigmoid_backward.grad_input(d_rz, rz[o : o + b], grad_input=d_rz)
            d_x[o : o + b, 2 * H :] = d_n
            d_hh[o : o + b, : 2 * H] = d_rz
            torch.mul(d_n, r, out=d_hh[o : o + b, 2 * H :])
            if t:
                dh_t.mul_(z).addmm_(d_hh[o : o + b], w_hh)
        return d_x, d_hh.t() @ prev, d_hh.sum(0), None


def reverse_padded(idx: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Each name's characters in reverse order, padding kept at the end (T, B)."""
    t = torch.arange(idx.shape[0])[:, None]  # (T, 1)
    src = (lengths[None, :] - 1 - t).clamp(min=0).to(idx.device)  # (T, B)
    return idx.gather(0, src).masked_fill_((t >= lengths[None, :]).to(idx.device), 0)


def packed_final_states(cell: str, x: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor,
                        batch_sizes: list[int]) -> torch.Tensor:
    """Final hidden states (B, H), packed order, from projected inputs x (N, G*H)."""
    if cell not in GATES:
        raise ValueError(f"unknown cell {cell!r}; choose one of {', '.join(GATES)}")
    if cell == "gru":
        return PackedGRU.apply(x, w_hh, b_hh, batch_sizes)
    fn = PackedLSTM if cell == "lstm" else PackedRNN
    return fn.apply(x, w_hh, batch_sizes)  # b_hh is already in x
