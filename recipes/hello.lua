-- The default recipe: fits y = slope * x + intercept by closed-form least squares,
-- w = (X^T X)^-1 X^T y with X = [x, 1], on synthetic data; prints the config and the fit.
return wick.recipe {
  config = "hello.yaml",
  description = "Fits a line by least squares (a smoke test of tensors and configs).",
  main = function(cfg)
    local d, dtype = cfg.data, cfg.dtype
    local x = wick.linspace(-1, 1, d.n, { dtype = dtype })
    local y = x * d.slope + d.intercept + (x * 37.0):sin() * d.noise
    local rows = {}
    for i, xi in ipairs(x:tolist()) do rows[i] = { xi, 1.0 } end
    local X = wick.tensor(rows, { dtype = dtype })              -- [n, 2]
    local a = X:t():matmul(X):tolist()                          -- X^T X, [2, 2]
    local b = X:t():matmul(y:reshape(d.n, 1)):tolist()          -- X^T y, [2, 1]
    local det = a[1][1] * a[2][2] - a[1][2] * a[2][1]
    local slope = (a[2][2] * b[1][1] - a[1][2] * b[2][1]) / det
    local intercept = (a[1][1] * b[2][1] - a[2][1] * b[1][1]) / det
    local resid = y - (x * slope + intercept)
    local mse = resid:dot(resid):item() / d.n
    print(string.format("%s: y = %.4f * x + %.4f fitted on %d points (true: %g * x + %g), mse %.3g",
      cfg.name, slope, intercept, d.n, d.slope, d.intercept, mse))
    return { slope = slope, intercept = intercept, mse = mse }
  end,
}
