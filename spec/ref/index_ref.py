#!/usr/bin/env python3
"""Reference values for spec/index_spec.lua, computed with PyTorch (run with Debian's
/usr/bin/python3, torch 1.13). Prints Lua tables; they replace the lines between the
"BEGIN generated" and "END generated" markers of the spec.
Each entry is {shape = {...}, dtype = "...", values = {flattened row-major}}."""
import torch

DT = {torch.int64: "i64", torch.int32: "i32", torch.float32: "f32", torch.float64: "f64",
      torch.bool: "bool", torch.uint8: "u8", torch.float16: "f16", torch.bfloat16: "bf16"}


def lua(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def entry(name, t):
    vals = t.flatten().tolist()
    shape = ", ".join(str(s) for s in t.shape)
    print(f"  {name} = {{shape = {{{shape}}}, dtype = \"{DT[t.dtype]}\", "
          f"values = {{{', '.join(lua(v) for v in vals)}}}}},")


x = torch.arange(24).view(2, 3, 4)
g2 = torch.tensor([[[3, 0], [1, 1], [2, 0]], [[0, 0], [3, 2], [1, 3]]])
g0 = torch.tensor([[[1, 0, 1, 0], [0, 0, 1, 1], [1, 1, 1, 0]]])
g1 = torch.tensor([[[2, 0, 1], [0, 2, 2]], [[1, 1, 0], [2, 0, 1]]])
xt = x.transpose(0, 2)  # [4, 3, 2], non-contiguous

print("local ref = {")
entry("index_select_1", x.index_select(1, torch.tensor([2, 0, 2])))
entry("index_select_2", x.index_select(2, torch.tensor([3, 3, 0])))
entry("index_select_perm", x.permute(2, 0, 1).index_select(0, torch.tensor([3, 1])))
entry("index_select_t1", xt.index_select(1, torch.tensor([1, 2])))
entry("gather_2", x.gather(2, g2))
entry("gather_0", x.gather(0, g0))
entry("gather_1", x.gather(1, g1))
entry("gather_t", xt.gather(2, torch.tensor([[[1], [0], [1]], [[0], [0], [1]]])))
entry("scatter_1", torch.zeros(2, 3, 4, dtype=torch.long).scatter(1, g1, x[:, :2, :3] + 100))
entry("scatter_2_value", x.scatter(2, g2, -5))
entry("scatter_add_2", torch.zeros(2, 3, 4).scatter_add(2, g2, torch.ones(2, 3, 2)))
entry("scatter_add_0", torch.zeros(3, 4).scatter_add(0, torch.tensor([[0, 1, 2, 0], [0, 0, 0, 2]]),
                                                  torch.arange(1.0, 9.0).view(2, 4)))
entry("scatter_t", xt.scatter(0, torch.tensor([[[3, 0]], [[1, 2]]]), torch.full((2, 1, 2), 99)))
entry("index_add_1", torch.ones(2, 3, 4).index_add(1, torch.tensor([0, 2, 0]),
                                                  torch.arange(24.0).view(2, 3, 4), alpha=2))
entry("index_copy_2", x.index_copy(2, torch.tensor([3, 0]), torch.arange(12).view(2, 3, 2) * -1))
entry("index_fill_0", x.index_fill(1, torch.tensor([1]), 7))
# advanced indexing
ia, ib = torch.tensor([1, 0, 1]), torch.tensor([3, -1, 0])
entry("adv_nonadjacent", x[ia, :, ib])
entry("adv_adjacent", x[:, torch.tensor([2, 0]), torch.tensor([[1], [3]])])
entry("adv_2d", x[:, torch.tensor([[0, 2], [1, 1]])])
entry("adv_mask", x[x % 5 == 0])
entry("adv_mask2", x[torch.tensor([[True, False, True], [False, False, True]])])
entry("adv_mask_dim1", x[:, torch.tensor([False, True, True])])
entry("adv_int_then", x[0, :, torch.tensor([0, 3])])
entry("adv_slice", x[torch.tensor([1, 1]), 1:3])
entry("adv_ellipsis", x[..., torch.tensor([2])])
entry("adv_t", xt[torch.tensor([0, 3]), :, 1])
entry("basic_mix", x[1, None, ::2, -1])
entry("basic_slices", x[:, -2:, 1:4:2])
y = x.clone(); y[:, torch.tensor([2, 0])] = torch.tensor([-1, -2, -3, -4]); entry("put_row", y)
y = x.clone(); y[x > 17] = 0; entry("put_mask", y)
y = x.clone(); y[torch.tensor([0, 1]), :, torch.tensor([1, 2])] = torch.tensor([10, 20, 30]); entry("put_nonadj", y)
y = x.clone(); y[1, 1:, ::3] = torch.tensor([[7, 8], [9, 10]]); entry("put_basic", y)
y = x.clone().transpose(0, 2); y[torch.tensor([3, 0]), 1] = 50; entry("put_t", y)
# masks, nonzero
entry("masked_fill_b", x.masked_fill(torch.tensor([True, False, False, True]), -1))
entry("masked_select_b", x.masked_select(torch.tensor([[True], [False], [True]])))
entry("masked_fill_f", torch.arange(6.0).view(2, 3).masked_fill(torch.tensor([[True], [False]]), 2.5))
entry("nonzero_3d", (x % 7 == 3).nonzero())
entry("nonzero_f", torch.tensor([[0.0, -0.0, 1.5], [float("nan"), 0.0, -2.0]]).nonzero())
# cat / stack
entry("cat_i64_f32", torch.cat([torch.tensor([[1, 2]]), torch.tensor([[0.5, 1.5]])], 0))
entry("cat_bool_u8", torch.cat([torch.tensor([True, False]), torch.tensor([7], dtype=torch.uint8)]))
entry("cat_i32_i64", torch.cat([torch.tensor([1], dtype=torch.int32), torch.tensor([2])]))
entry("cat_f16_bf16", torch.cat([torch.tensor([1.5], dtype=torch.float16),
                                 torch.tensor([2.5], dtype=torch.bfloat16)]))
entry("cat_t", torch.cat([xt, xt[:, :1]], 1))
entry("cat_neg", torch.cat([x, x[..., :1]], -1))
entry("stack_1", torch.stack([x[0], x[1] * 10], 1))
entry("stack_neg", torch.stack([x[0, 0], x[1, 2]], -1))
print("}")
# chunk / split sizes
print("local chunk_sizes = {")
for n, c in [(6, 4), (5, 2), (10, 3), (3, 5), (7, 7), (1, 3)]:
    sizes = [t.shape[0] for t in torch.arange(n).chunk(c)]
    print(f"  {{{n}, {c}, {{{', '.join(map(str, sizes))}}}}},")
print("}")
