"""Tensor operations and loops in ``forward`` (SPEC 8.12, 8.13, 8.16): what consumes each layer's output."""

from __future__ import annotations

from initlint.records import LayerRecord

from .test_torch_source import HEADER, records


def act(rec: LayerRecord) -> str | None:
    return rec.activation.name if rec.activation is not None else None


def test_module_list_indexed_by_a_loop_variable() -> None:
    recs = records(HEADER + """
class Net(nn.Module):
    def __init__(self, n=4):
        super().__init__()
        self.n = n
        self.blocks = nn.ModuleList([nn.Linear(64, 64) for _ in range(n)])
        self.pair = nn.ModuleList([nn.Conv2d(8, 8, 3), nn.Conv2d(8, 8, 3)])
        self.head = nn.Linear(64, 10)

    def forward(self, x, y):
        for i in range(self.n):
            x = F.relu(self.blocks[i](x))
        for j in range(len(self.pair)):
            y = torch.tanh(self.pair[j](y))
        return self.head(x), y
""")
    assert act(recs["Net.blocks[i]"]) == "ReLU"
    assert act(recs["Net.pair[0]"]) == "Tanh" and act(recs["Net.pair[1]"]) == "Tanh"


def test_unknown_index_into_different_layers_is_not_guessed() -> None:
    recs = records(HEADER + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.mix = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8))
        self.head = nn.Linear(8, 2)

    def forward(self, x, k):
        for _ in range(3):
            x = self.mix[k](x)
        return self.head(x)
""")
    assert act(recs["Net.mix[0]"]) is None and recs["Net.mix[0]"].unresolved


def test_comprehensions_loops_over_tensors_and_lists_that_grow() -> None:
    recs = records(HEADER + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(8, 8, k) for k in (1, 3, 5)])
        self.proj = nn.Linear(8, 8)
        self.gate = nn.Linear(8, 8)
        self.out = nn.Conv2d(24, 8, 1)
        self.head = nn.Linear(8, 2)

    def forward(self, x, z):
        feats = [F.gelu(conv(x)) for conv in self.convs]
        h = self.out(torch.cat(feats, dim=1))
        rows = []
        for u in self.proj(z):
            rows.append(torch.sigmoid(u))
        g = sum(F.silu(self.gate(r)) for r in rows)
        return h, self.head(g)
""")
    assert act(recs["Net.convs[i]"]) == "GELU"
    assert act(recs["Net.proj"]) == "Sigmoid"
    assert act(recs["Net.gate"]) == "SiLU"


def test_super_forward_of_torch_subclasses() -> None:
    recs = records(HEADER + """
class GroupNorm32(nn.GroupNorm):
    def forward(self, x):
        return super().forward(x.float()).type_as(x)


class CausalConv1d(nn.Conv1d):
    def forward(self, x):
        x = F.pad(x, (2, 0))
        return super().forward(x)


class Block(nn.Module):
    def __init__(self, c=32):
        super().__init__()
        self.conv = nn.Conv1d(c, c, 3, padding=1)
        self.norm = GroupNorm32(8, c)
        self.pre = nn.Conv1d(c, c, 1)
        self.causal = CausalConv1d(c, c, 3)

    def forward(self, x):
        h = F.silu(self.norm(self.conv(x)))
        return self.causal(self.pre(h).repeat_interleave(2, dim=-1))
""")
    conv = recs["Block.conv"]
    assert act(conv) == "SiLU" and conv.normalized
    assert act(recs["Block.pre"]) == "identity"  # the input of a conv subclass: a weight, no activation


def test_processor_set_to_none_runs_the_default_processor() -> None:
    recs = records(HEADER + """
class AttnProcessor:
    def __call__(self, attn, x):
        q, k, v = attn.to_q(x), attn.to_k(x), attn.to_v(x)
        y = F.scaled_dot_product_attention(q, k, v)
        return attn.to_out(y)


class Attention(nn.Module):
    _default_processor_cls = AttnProcessor

    def __init__(self, dim=64, processor=None):
        super().__init__()
        self.to_q = nn.Linear(dim, dim)
        self.to_k = nn.Linear(dim, dim)
        self.to_v = nn.Linear(dim, dim)
        self.to_out = nn.Linear(dim, dim)
        self.processor = processor

    def forward(self, x):
        return self.processor(self, x)
""")
    assert act(recs["Attention.to_q"]) == "identity"
    assert act(recs["Attention.to_v"]) == "identity"


def test_computed_kernels_and_factories() -> None:
    recs = records(HEADER + """
class ScaledConv(nn.Module):
    def __init__(self, c=16):
        super().__init__()
        self.pre = nn.Conv2d(c, c, 1)
        self.weight = nn.Parameter(torch.randn(c, c, 3, 3))
        self.hyper = nn.Linear(4, c * c * 9)
        self.post = nn.Conv2d(c, c, 1)
        self.scale = 0.1

    def forward(self, x, z):
        h = self.pre(x)
        pad = h.new_zeros(h.shape)
        y = F.conv2d(h + pad, self.weight * self.scale, padding=1)
        k = self.hyper(z).view(16, 16, 3, 3)
        return self.post(F.conv2d(y, k, padding=1))
""")
    assert act(recs["ScaledConv.pre"]) == "identity"
    assert act(recs["ScaledConv.hyper"]) is None  # a kernel made by a layer: not a plain consumer


def test_gating_says_so() -> None:
    recs = records(HEADER + """
class GLU(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(8, 8)
        self.b = nn.Linear(8, 8)

    def forward(self, x):
        return self.a(x) * self.b(x)
""")
    assert recs["GLU.a"].unresolved == "consumer not visible: multiplied with another branch (gating)"


def test_slices_and_pairs_of_module_lists() -> None:
    recs = records(HEADER + """
class Net(nn.Module):
    def __init__(self, depth=3):
        super().__init__()
        self.layers = nn.ModuleList([])
        for _ in range(depth):
            self.layers.append(nn.ModuleList([nn.Linear(8, 8), nn.Sequential(nn.Linear(8, 32), nn.GELU(), nn.Linear(32, 8))]))
        self.stack = nn.Sequential(nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 2))

    def forward(self, x):
        for proj, ff in self.layers[0:2]:
            x = F.relu(proj(x))
            x = ff(x) + x
        return self.stack[:-1](x)
""")
    assert act(recs["Net.layers[i][0]"]) == "ReLU"
    assert act(recs["Net.layers[i][1][0]"]) == "GELU"
    assert act(recs["Net.stack[2]"]) == "Tanh"


def test_zip_in_comprehensions_and_class_flags() -> None:
    recs = records(HEADER + """
class Mixin:
    fused = False


class Net(nn.Module, Mixin):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Conv2d(8, 8, 1), nn.Conv2d(8, 8, 1)])
        self.q = nn.Linear(8, 8)

    def forward(self, xs, h, scales=(0.5, 1.0)):
        outs = tuple(blk(x) for x, blk in zip(xs, self.blocks))
        outs = [F.relu(o * s) for o, s in zip(outs, scales)]
        if self.fused:
            q = self.qkv(h)
        else:
            q = torch.tanh(self.q(h))
        return outs, q
""")
    assert act(recs["Net.blocks[0]"]) == "ReLU" and act(recs["Net.blocks[1]"]) == "ReLU"
    assert act(recs["Net.q"]) == "Tanh"


def test_first_block_then_the_loop_built_rest() -> None:
    recs = records(HEADER + """
class Down(nn.Module):
    def __init__(self, n=3):
        super().__init__()
        convs = [nn.Conv2d(3, 8, 3)]
        for _ in range(n - 1):
            convs.append(nn.Conv2d(8, 8, 3))
        self.convs = nn.ModuleList(convs)

    def forward(self, x):
        x = F.relu(self.convs[0](x))
        for conv in self.convs[1:]:
            x = F.leaky_relu(conv(x), 0.2)
        return x
""")
    assert act(recs["Down.convs[0]"]) == "ReLU"
    assert act(recs["Down.convs[i]"]) == "LeakyReLU"


def test_every_argument_of_a_child_module_is_followed() -> None:
    recs = records(HEADER + """
class Block(nn.Module):
    def __init__(self, c=16, t=32):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        self.emb = nn.Linear(t, c)

    def forward(self, x, temb=None):
        return F.silu(self.conv(x) + self.emb(F.silu(temb))[:, :, None, None])


class Net(nn.Module):
    def __init__(self, t=32):
        super().__init__()
        self.time = nn.Linear(1, t)
        self.cond = nn.Linear(8, t)
        self.blocks = nn.ModuleList([Block(), Block()])

    def forward(self, x, t, c):
        temb = self.time(t)
        for block in self.blocks:
            x = block(x, temb=temb)
        return x, self.blocks[0](x, self.cond(c))
""")
    assert act(recs["Net.time"]) == "SiLU"
    assert act(recs["Net.cond"]) == "SiLU"


def test_a_gate_on_computed_data_is_gating() -> None:
    recs = records(HEADER + """
class GatedAttention(nn.Module):
    def __init__(self, dim=64):
        super().__init__()
        self.qkv = nn.Linear(dim, 3 * dim)
        self.to_g = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)
        self.store = nn.Conv2d(4, 4, 1)

    def forward(self, x, y):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        o = F.scaled_dot_product_attention(q, k, v) * torch.sigmoid(self.to_g(x))
        cache = {}
        h = self.store(y)
        cache["h"] = h
        return self.out(o), cache, F.relu(h)
""")
    assert act(recs["GatedAttention.to_g"]) is None
    assert "transformed further" in recs["GatedAttention.to_g"].unresolved
    assert act(recs["GatedAttention.store"]) is None  # also stored where the analysis does not look


def test_a_function_defined_in_forward_is_run_where_it_is_called() -> None:
    recs = records(HEADER + """
class Rotary(nn.Module):
    def __init__(self, dim=64):
        super().__init__()
        self.to_q = nn.Linear(dim, dim)
        self.to_k = nn.Linear(dim, dim)
        self.to_v = nn.Linear(dim, dim)

    def forward(self, x, cos, sin):
        def rotate(h):
            x1, x2 = h.unflatten(-1, (-1, 2)).unbind(-1)
            out = torch.empty_like(h)
            out[..., 0::2] = x1 * cos - x2 * sin
            out[..., 1::2] = x1 * sin + x2 * cos
            return out.type_as(h)

        q, k = rotate(self.to_q(x)), rotate(self.to_k(x))
        return F.scaled_dot_product_attention(q, k, self.to_v(x))
""")
    assert act(recs["Rotary.to_q"]) == "identity" and act(recs["Rotary.to_k"]) == "identity"


def test_a_list_grown_on_one_branch_keeps_its_tensors() -> None:
    recs = records(HEADER + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(8, 8)
        self.b = nn.Linear(8, 8)
        self.c = nn.Linear(8, 8)

    def forward(self, x, flag):
        feats = [self.a(x)]
        if flag:
            feats.append(self.b(x))
        feats.append(self.c(x))
        return torch.tanh(torch.cat(feats, dim=-1))
""")
    assert act(recs["Net.a"]) == "Tanh" and act(recs["Net.b"]) == "Tanh" and act(recs["Net.c"]) == "Tanh"
