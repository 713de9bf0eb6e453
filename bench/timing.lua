-- The benchmarks' timer: runs fn iters times, five rounds, and prints the best round as
-- "name<TAB>microseconds per call" (the format the bench/*.sh scripts join with PyTorch's).
return function(name, fn, iters)
  fn()
  local best = math.huge
  for _ = 1, 5 do
    local t0 = wick.perf_counter()
    for _ = 1, iters do fn() end
    local dt = (wick.perf_counter() - t0) / iters
    if dt < best then best = dt end
  end
  print(("%s\t%.3f"):format(name, best * 1e6))
end
