# A 2-4-1 multilayer perceptron for one row, written in the symml language: layers are
# matrices of parameters, tanh hidden units, a sigmoid output and the cross-entropy loss.
# Backpropagation is written out layer by layer (the delta terms); the outputs at the end
# check it against the exact per-parameter gradient (each prints 0). Run it with
#   symml run examples/mlp.sml
# (tests/test_ml_mlp.py checks the same program against central finite differences and
#  against symml.ml.MLP, which trains this network.)

param W1[4, 2], b1[4], w2[4], b2
data x[2], y

u = W1 @ x + b1                # hidden pre-activations
h = tanh(u)                    # hidden activations
z = dot(w2, h) + b2            # output pre-activation (the logit)
p = sigmoid(z)                 # predicted probability of class 1
loss = softplus(z) - y*z       # -(y log p + (1 - y) log(1 - p)), written stably

# backpropagation, layer by layer
delta_o = p - y                          # dL/dz
gw2 = delta_o * h                        # dL/dw2
gb2 = delta_o                            # dL/db2
delta_h = (w2 * delta_o) * (1 - h * h)   # dL/du: the delta of the hidden layer
gW1 = outer(delta_h, x)                  # dL/dW1
gb1 = delta_h                            # dL/db1

# the deltas agree with the exact gradient, entry by entry
expand(diff(loss, b2) - gb2)
expand(grad(loss, w2) - gw2)
expand(grad(loss, b1) - gb1)
expand(diff(loss, W1[0, 0]) - gW1[0, 0])
expand(diff(loss, W1[2, 1]) - gW1[2, 1])
