# Logistic regression: the negative log-likelihood of one row, its gradient and Hessian.
#   >>> import symml as sm
#   >>> prog = sm.load("examples/logistic.sml")
#   >>> sm.grad(prog["loss"], prog.params)

param w[3] = 0, b = 0          # weights and intercept
data x[3], y                   # one row: 3 features and a 0/1 label

z = dot(w, x) + b              # the linear score
p = sigmoid(z)                 # predicted probability

# negative log-likelihood of one row (numerically safe once compiled)
loss = -(y*log(p) + (1 - y)*log(1 - p))

# the same model as a likelihood statement, for symml fit
y ~ Bernoulli(sigmoid(dot(w, x) + b))

simplify(diff(loss, w[0]))
