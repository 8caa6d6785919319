"""References for fastaug.mlp: the source script's own classes (``gradient="sum"``), verbatim
from ../shared/docs/source_script.md, and the textbook's layer classes with
``SoftmaxWithLoss`` (``gradient="mean"``)."""

from collections import OrderedDict

import numpy as np


def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def cross_entropy_error(y, t):
    batch_size = y.shape[0]
    return -np.sum(t * np.log(y + 1e-7)) / batch_size


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        return dout


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return dx


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        self.loss = cross_entropy_error(self.y, self.t)
        return self.loss

    def backward(self, dout=1):
        return (self.y - self.t) / self.t.shape[0]


class MultiLayerNet:
    """784-200-200-10 by default; weights ``0.01 * randn`` from the global state, W1 first."""

    def __init__(self, sizes=(784, 200, 200, 10), weight_init_std=0.01):
        self.params = {}
        for i in range(1, len(sizes)):
            self.params[f"W{i}"] = weight_init_std * np.random.randn(sizes[i - 1], sizes[i])
            self.params[f"b{i}"] = np.zeros(sizes[i])
        self.n = len(sizes) - 1
        self.layers = OrderedDict()
        for i in range(1, self.n + 1):
            self.layers[f"Affine{i}"] = Affine(self.params[f"W{i}"], self.params[f"b{i}"])
            if i < self.n:
                self.layers[f"Relu{i}"] = Relu()
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        return {k: getattr(self.layers[f"Affine{k[1:]}"], "d" + k[0]) for k in self.params}

    def train(self, x, t, steps, lr):
        """The source loop: gradient, SGD update, record the loss."""
        losses = []
        for _ in range(steps):
            grads = self.gradient(x, t)
            for key in self.params:
                self.params[key] -= lr * grads[key]
            losses.append(self.last_layer.loss)
        return losses


# ---------------------------------------------------------------- the source's own classes
# As published (shared/docs/source_script.md); only the training loop is wrapped in train().


class ReLU:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = x <= 0
        out = np.maximum(0, x)
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        dx = dout
        return dx


class SourceAffine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None
        self.dW = None
        self.db = None

    def forward(self, x):
        self.x = x
        out = np.dot(x, self.W) + self.b
        return out

    def backward(self, dout):
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        dx = np.dot(dout, self.W.T)
        return dx


class SoftmaxCrossEntropy:
    def __init__(self):
        self.output = None
        self.grad_input = None

    def forward(self, logits):
        exp_values = np.exp(logits - np.max(logits, axis=1, keepdims=True))
        self.output = exp_values / np.sum(exp_values, axis=1, keepdims=True)
        return self.output

    def backward(self, y_true):
        self.grad_input = self.output - y_true  # NOT divided by the batch size
        return self.grad_input


def source_cross_entropy_error(y, t):
    delta = 1e-7
    return -np.sum(t * np.log(y + delta)) / y.shape[0]


class NeuralNetwork:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {}
        self.params["W1"] = weight_init_std * np.random.randn(input_size, hidden_size)
        self.params["b1"] = np.zeros(hidden_size)
        self.params["W2"] = weight_init_std * np.random.randn(hidden_size, hidden_size)
        self.params["b2"] = np.zeros(hidden_size)
        self.params["W3"] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params["b3"] = np.zeros(output_size)
        self.layers = [
            SourceAffine(self.params["W1"], self.params["b1"]),
            ReLU(),
            SourceAffine(self.params["W2"], self.params["b2"]),
            ReLU(),
            SourceAffine(self.params["W3"], self.params["b3"]),
        ]
        self.loss_layer = SoftmaxCrossEntropy()

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def compute_loss(self, x, y_true):
        logits = self.forward(x)
        loss = source_cross_entropy_error(self.loss_layer.forward(logits), y_true)
        return loss

    def backward(self, y_true):
        dout = self.loss_layer.backward(y_true)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)

    def update(self, lr):
        for layer in self.layers:
            if isinstance(layer, SourceAffine):
                layer.W -= lr * layer.dW
                layer.b -= lr * layer.db

    def train(self, x, t, steps, lr):
        """The source's loop: loss, backward, update; the loss recorded before the update."""
        losses = []
        for _ in range(steps):
            losses.append(self.compute_loss(x, t))
            self.backward(t)
            self.update(lr)
        return losses
