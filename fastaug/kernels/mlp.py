"""Multi-layer perceptron: ReLU hidden layers, softmax + cross-entropy, plain SGD.

Parameters live in one flat buffer (float32 or float64): layer ``l`` holds ``W`` (shape
``(sizes[l], sizes[l + 1])``, C order) at ``offsets[l]`` followed by ``b``. Gradients use the
same layout, so an SGD update is one pass over the buffer. Matrix products go through
``np.dot`` (BLAS); everything else is fused loops without temporaries.

The loss is the source's ``-sum(t * log(y + 1e-7)) / batch`` with one-hot ``t``. The
gradient applied is the source's ``y - t`` (``SoftmaxCrossEntropy.backward``: a sum over the
batch, not the mean the loss reports) or, with ``mean``, the textbook ``(y - t) / batch``.
"""

import math

import numpy as np

from ._jit import jit


@jit
def _weights(params, offsets, sizes, layer):
    n_in, n_out = sizes[layer], sizes[layer + 1]
    start = offsets[layer]
    w = params[start : start + n_in * n_out].reshape((n_in, n_out))
    b = params[start + n_in * n_out : start + n_in * n_out + n_out]
    return w, b


@jit
def _affine(h, w, b, relu):
    """``h @ w + b`` (then ReLU if ``relu``) into a new array."""
    z = np.dot(h, w)
    for r in range(z.shape[0]):
        for c in range(z.shape[1]):
            v = z[r, c] + b[c]
            z[r, c] = v if not relu or v > 0 else 0.0
    return z


@jit
def mlp_forward(params, offsets, sizes, x):
    """Softmax probabilities ``(batch, sizes[-1])`` for inputs ``x`` ``(batch, sizes[0])``."""
    n_layers = len(sizes) - 1
    h = x
    for layer in range(n_layers):
        w, b = _weights(params, offsets, sizes, layer)
        h = _affine(h, w, b, layer < n_layers - 1)
    _softmax_rows(h)
    return h


@jit
def _softmax_rows(z):
    """In place, as the source: subtract the row max, exponentiate, divide by the sum."""
    for r in range(z.shape[0]):
        top = z[r, 0]
        for c in range(1, z.shape[1]):
            top = max(top, z[r, c])
        total = 0.0
        for c in range(z.shape[1]):
            e = math.exp(z[r, c] - top)
            z[r, c] = e
            total += e
        for c in range(z.shape[1]):
            z[r, c] = z[r, c] / total


@jit
def _loss_grad_tail(params, offsets, sizes, x, z_first, t, mean, grads, first_weight_grad, d_first):
    """Loss and gradients, given the first layer's ``x @ W1`` (``z_first``, overwritten).

    Writes every gradient into ``grads`` except W1's when ``first_weight_grad`` is False, and
    the gradient with respect to the first layer's pre-activation into ``d_first``. ``mean``:
    the gradient of the batch mean (the loss reported), else of the sum (the source's).
    """
    n_layers = len(sizes) - 1
    batch = x.shape[0]
    _, b_first = _weights(params, offsets, sizes, 0)
    relu_first = n_layers > 1
    for r in range(batch):
        for c in range(z_first.shape[1]):
            v = z_first[r, c] + b_first[c]
            z_first[r, c] = v if not relu_first or v > 0 else 0.0
    hs = [x, z_first]
    h = z_first
    for layer in range(1, n_layers):
        w, b = _weights(params, offsets, sizes, layer)
        h = _affine(h, w, b, layer < n_layers - 1)
        hs.append(h)
    y = hs[n_layers]
    _softmax_rows(y)
    loss = 0.0
    for r in range(batch):
        for c in range(y.shape[1]):
            loss += t[r, c] * math.log(y[r, c] + 1e-7)
    loss = -loss / batch
    # d loss / d logits: the source's y - t, or the textbook (y - t) / batch
    d = np.empty_like(y)
    for r in range(batch):
        for c in range(y.shape[1]):
            d[r, c] = (y[r, c] - t[r, c]) / batch if mean else y[r, c] - t[r, c]
    for layer in range(n_layers - 1, -1, -1):
        w, _ = _weights(params, offsets, sizes, layer)
        gw, gb = _weights(grads, offsets, sizes, layer)
        if layer > 0 or first_weight_grad:
            np.dot(hs[layer].T, d, gw)  # straight into the gradient buffer: no temporary
        for c in range(d.shape[1]):
            s = 0.0
            for r in range(batch):
                s += d[r, c]
            gb[c] = s
        if layer > 0:
            dh = np.dot(d, w.T)
            h_prev = hs[layer]
            for r in range(batch):
                for c in range(dh.shape[1]):
                    if h_prev[r, c] <= 0:  # ReLU: no gradient where the unit was off
                        dh[r, c] = 0.0
            d = dh
    for r in range(batch):
        for c in range(d.shape[1]):
            d_first[r, c] = d[r, c]
    return loss


@jit
def mlp_loss_grad(params, offsets, sizes, x, t, mean, grads):
    """Cross-entropy loss of the batch; its gradient w.r.t. ``params`` goes into ``grads``."""
    w_first, _ = _weights(params, offsets, sizes, 0)
    d_first = np.empty((x.shape[0], sizes[1]), params.dtype)
    return _loss_grad_tail(
        params, offsets, sizes, x, np.dot(x, w_first), t, mean, grads, True, d_first
    )


@jit
def mlp_sgd_steps(params, offsets, sizes, x, t, mean, lr, losses, grads):
    """``len(losses)`` full-batch SGD steps on ``(x, t)``; ``losses[k]`` is the loss before
    step ``k``'s update (as the source loop records it)."""
    for step in range(losses.shape[0]):
        losses[step] = mlp_loss_grad(params, offsets, sizes, x, t, mean, grads)
        for i in range(params.shape[0]):
            params[i] -= lr * grads[i]


@jit
def mlp_carried_step(
    params, offsets, sizes, x, t, mean, lr, gram, carried, lr_d_sum, d_first, grads
):
    """One full-batch SGD step on a batch much smaller than the input, W1's update held back.

    Every update of W1 is ``-lr * x.T @ d`` for the fixed ``x``, so ``x @ W1`` moves by
    ``-lr * (x @ x.T) @ d``: ``carried`` (``x @ W1``) follows through the small ``gram``
    (``x @ x.T``) instead of re-multiplying the large W1, and ``lr * d`` adds up in
    ``lr_d_sum`` until :func:`mlp_apply_carried` applies it to W1. Same maths as
    :func:`mlp_sgd_steps`; rounding differs at the 1e-15 level. Returns the loss before the
    update.
    """
    rest = offsets[0] + sizes[0] * sizes[1]  # b1 onward: updated every step as usual
    loss = _loss_grad_tail(
        params, offsets, sizes, x, carried.copy(), t, mean, grads, False, d_first
    )
    for i in range(rest, params.shape[0]):
        params[i] -= lr * grads[i]
    moved = np.dot(gram, d_first)
    for r in range(carried.shape[0]):
        for c in range(carried.shape[1]):
            carried[r, c] -= lr * moved[r, c]
            lr_d_sum[r, c] += lr * d_first[r, c]
    return loss


@jit
def mlp_apply_carried(params, offsets, sizes, x, lr_d_sum):
    """W1 -= x.T @ lr_d_sum: the updates :func:`mlp_carried_step` held back."""
    w_first, _ = _weights(params, offsets, sizes, 0)
    total = np.dot(x.T, lr_d_sum)
    for i in range(w_first.shape[0]):
        for j in range(w_first.shape[1]):
            w_first[i, j] -= total[i, j]
    lr_d_sum[...] = 0.0


@jit
def mlp_sgd_steps_fixed_batch(params, offsets, sizes, x, t, mean, lr, losses, grads):
    """The same steps as :func:`mlp_sgd_steps`, through :func:`mlp_carried_step`."""
    w_first, _ = _weights(params, offsets, sizes, 0)
    batch, width = x.shape[0], sizes[1]
    gram = np.dot(x, x.T)
    carried = np.dot(x, w_first)
    lr_d_sum = np.zeros((batch, width), params.dtype)
    d_first = np.empty((batch, width), params.dtype)
    for step in range(losses.shape[0]):
        losses[step] = mlp_carried_step(
            params, offsets, sizes, x, t, mean, lr, gram, carried, lr_d_sum, d_first, grads
        )
    mlp_apply_carried(params, offsets, sizes, x, lr_d_sum)


@jit
def mlp_sgd_epoch(params, offsets, sizes, x, t, mean, order, batch_size, lr, losses, grads):
    """One epoch of mini-batch SGD: batches of ``batch_size`` rows taken in ``order``;
    ``losses[k]`` is batch ``k``'s loss before its update."""
    n = order.shape[0]
    for k in range(losses.shape[0]):
        rows = order[k * batch_size : min((k + 1) * batch_size, n)]
        xb = np.empty((rows.shape[0], x.shape[1]), x.dtype)
        tb = np.empty((rows.shape[0], t.shape[1]), t.dtype)
        for r in range(rows.shape[0]):
            for c in range(x.shape[1]):
                xb[r, c] = x[rows[r], c]
            for c in range(t.shape[1]):
                tb[r, c] = t[rows[r], c]
        losses[k] = mlp_loss_grad(params, offsets, sizes, xb, tb, mean, grads)
        for i in range(params.shape[0]):
            params[i] -= lr * grads[i]
