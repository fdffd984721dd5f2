# symml quickstart: a formula, its gradient and Hessian, a Taylor expansion,
# and a compiled numeric evaluation. Run it with:  symml run examples/quickstart.sml

var x, y

# A smooth function of two variables (Rosenbrock's banana, scaled).
f = (1 - x)^2 + 100*(y - x^2)^2
f

# Exact gradient and Hessian
grad(f, [x, y])
hessian(f, [x, y])

# The gradient vanishes at the minimum (1, 1)
subs(grad(f, [x, y]), x = 1, y = 1)

# A multivariate Taylor expansion about (0, 0), terms up to total degree 3
taylor(exp(x)*cos(y), x = 0, y = 0, 3)

# The derivative of the logistic sigmoid, in its familiar form
diff(sigmoid(x), x)

# Compiled numeric evaluation (NumPy): f at x = 0.5, y = 0.25
evaluate(f, x = 0.5, y = 0.25)
