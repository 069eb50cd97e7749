#!/usr/bin/env python3
"""Independent NumPy reference forward pass for hafen-engine's architectures.

Reads a GGUF file with its own parser, dequantizes every weight type with
its own NumPy code (from the ggml block layouts), and computes logits for
every position in float64, from the model definitions (llama.cpp's graphs):
RMSNorm, RoPE NORM/NEOX, GQA causal attention, q/k norms, q/k/v biases,
softmax top-k MoE routing with or without renormalization, the sigmoid-gated
shared expert, SwiGLU.  It shares no code with the C engine.

usage: ref_forward.py MODEL.gguf 1,2,3 OUT.bin   (float32 [n_tokens][n_vocab])
"""
import struct
import sys

import numpy as np

# ---- GGUF ----
SCALAR = {0: '<B', 1: '<b', 2: '<H', 3: '<h', 4: '<I', 5: '<i', 6: '<f', 7: '<?', 10: '<Q', 11: '<q', 12: '<d'}


class Reader:
    def __init__(self, buf):
        self.b = buf
        self.p = 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.b, self.p)[0]
        self.p += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take('<Q')
        s = self.b[self.p:self.p + n]
        self.p += n
        return s.decode('utf-8', 'replace')

    def value(self, t):
        if t == 8:
            return self.string()
        if t == 9:
            et = self.take('<I')
            n = self.take('<Q')
            return [self.value(et) for _ in range(n)]
        return self.take(SCALAR[t])


def load_gguf(path):
    buf = open(path, 'rb').read()
    r = Reader(buf)
    assert buf[:4] == b'GGUF'
    r.p = 4
    assert r.take('<I') == 3
    n_t = r.take('<Q')
    n_kv = r.take('<Q')
    kv = {}
    for _ in range(n_kv):
        k = r.string()
        t = r.take('<I')
        if k.startswith('tokenizer.'):  # skip big arrays quickly
            kv[k] = skip_value(r, t)
        else:
            kv[k] = r.value(t)
    infos = []
    for _ in range(n_t):
        name = r.string()
        nd = r.take('<I')
        ne = [r.take('<Q') for _ in range(nd)]
        typ = r.take('<I')
        off = r.take('<Q')
        infos.append((name, ne, typ, off))
    align = kv.get('general.alignment', 32)
    data = (r.p + align - 1) // align * align
    tensors = {}
    for name, ne, typ, off in infos:
        n = int(np.prod(ne))
        vals = dequant(typ, buf, data + off, n)
        # ne[0] is contiguous: numpy shape is reversed
        tensors[name] = vals.reshape(list(reversed(ne)))
    return kv, tensors


def skip_value(r, t):
    if t == 9:
        et = r.take('<I')
        n = r.take('<Q')
        for _ in range(n):
            skip_value(r, et)
        return None
    return r.value(t)


# ---- weight types (ggml-common.h block layouts) ----
def blocks(buf, off, n, per, dtype):
    return np.frombuffer(buf, dtype=dtype, count=n // per, offset=off)


def dequant(typ, buf, off, n):
    f16 = np.dtype('<f2')
    if typ == 0:
        return np.frombuffer(buf, '<f4', n, off).astype(np.float64)
    if typ == 1:
        return np.frombuffer(buf, '<f2', n, off).astype(np.float64)
    if typ == 30:
        u = np.frombuffer(buf, '<u2', n, off).astype(np.uint32) << 16
        return u.view('<f4').astype(np.float64)
    if typ == 8:  # Q8_0: d, int8[32]
        b = blocks(buf, off, n, 32, np.dtype([('d', f16), ('q', 'i1', 32)]))
        return (b['d'].astype(np.float64)[:, None] * b['q']).reshape(-1)
    if typ == 2:  # Q4_0: d, 16 bytes; low nibbles first half, high second
        b = blocks(buf, off, n, 32, np.dtype([('d', f16), ('q', 'u1', 16)]))
        q = np.concatenate([b['q'] & 15, b['q'] >> 4], axis=1).astype(np.float64) - 8
        return (b['d'].astype(np.float64)[:, None] * q).reshape(-1)
    if typ == 6:  # Q5_0: d, qh (u32), 16 bytes
        b = blocks(buf, off, n, 32, np.dtype([('d', f16), ('qh', '<u4'), ('q', 'u1', 16)]))
        bits = (b['qh'][:, None] >> np.arange(32, dtype=np.uint32)) & 1
        lo = (b['q'] & 15) | (bits[:, :16] << 4)
        hi = (b['q'] >> 4) | (bits[:, 16:] << 4)
        q = np.concatenate([lo, hi], axis=1).astype(np.float64) - 16
        return (b['d'].astype(np.float64)[:, None] * q).reshape(-1)
    if typ == 12:  # Q4_K: d, dmin, 12 bytes of 6-bit scales/mins, 128 bytes
        b = blocks(buf, off, n, 256, np.dtype([('d', f16), ('dmin', f16), ('s', 'u1', 12), ('q', 'u1', 128)]))
        s = b['s'].astype(np.int64)
        sc = np.zeros((len(b), 8), np.int64)
        mn = np.zeros((len(b), 8), np.int64)
        sc[:, :4] = s[:, 0:4] & 63
        mn[:, :4] = s[:, 4:8] & 63
        sc[:, 4:] = (s[:, 8:12] & 15) | ((s[:, 0:4] >> 6) << 4)
        mn[:, 4:] = (s[:, 8:12] >> 4) | ((s[:, 4:8] >> 6) << 4)
        q = b['q'].reshape(-1, 4, 32)
        vals = np.stack([q & 15, q >> 4], axis=2).reshape(-1, 8, 32).astype(np.float64)  # sub-block j
        d = b['d'].astype(np.float64)[:, None, None]
        dm = b['dmin'].astype(np.float64)[:, None, None]
        return (d * sc[:, :, None] * vals - dm * mn[:, :, None]).reshape(-1)
    if typ == 14:  # Q6_K: ql[128], qh[64], int8 scales[16], d
        b = blocks(buf, off, n, 256, np.dtype([('ql', 'u1', 128), ('qh', 'u1', 64), ('s', 'i1', 16), ('d', f16)]))
        out = np.zeros((len(b), 256), np.float64)
        for half in range(2):
            ql = b['ql'][:, 64 * half:64 * half + 64].astype(np.int64)
            qh = b['qh'][:, 32 * half:32 * half + 32].astype(np.int64)
            parts = [
                (ql[:, :32] & 15) | (((qh >> 0) & 3) << 4),
                (ql[:, 32:] & 15) | (((qh >> 2) & 3) << 4),
                (ql[:, :32] >> 4) | (((qh >> 4) & 3) << 4),
                (ql[:, 32:] >> 4) | (((qh >> 6) & 3) << 4),
            ]
            for k, p in enumerate(parts):
                idx = 128 * half + 32 * k + np.arange(32)
                # 16 values share a scale: value i of this part has scale (idx // 16)
                out[:, idx] = (p - 32) * b['s'][:, idx // 16].astype(np.float64)
        return (out * b['d'].astype(np.float64)[:, None]).reshape(-1)
    raise SystemExit('ref_forward: unsupported tensor type %d' % typ)


# ---- architectures ----
ARCH = {
    #  name:      (rope,   bias,  qk_norm, renorm, shared expert, expert width key)
    'llama': ('norm', False, None, True, False, 'feed_forward_length'),
    'qwen2': ('neox', True, None, False, False, None),
    'qwen2moe': ('neox', True, None, False, True, 'expert_feed_forward_length'),
    'qwen3': ('neox', False, 'head', False, False, None),
    'qwen3moe': ('neox', False, 'head', True, False, 'expert_feed_forward_length'),
    'olmoe': ('neox', False, 'full', False, False, 'feed_forward_length'),
}


def rmsnorm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rope(x, pos, n_rot, base, kind):
    # x: (T, H, D)
    half = n_rot // 2
    inv = base ** (-2.0 * np.arange(half) / n_rot)
    ang = pos[:, None] * inv[None, :]  # (T, half)
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    y = x.copy()
    if kind == 'norm':
        a, b = x[..., 0:n_rot:2], x[..., 1:n_rot:2]
        y[..., 0:n_rot:2] = a * c - b * s
        y[..., 1:n_rot:2] = a * s + b * c
    else:
        a, b = x[..., :half], x[..., half:n_rot]
        y[..., :half] = a * c - b * s
        y[..., half:n_rot] = a * s + b * c
    return y


def silu(x):
    return x / (1 + np.exp(-x))


def forward(kv, W, tokens):
    arch = kv['general.architecture']
    rope_kind, bias, qk_norm, renorm, shexp, ffkey = ARCH[arch]
    g = lambda k, d=None: kv.get('%s.%s' % (arch, k), d)
    E = g('embedding_length')
    L = g('block_count')
    H = g('attention.head_count')
    Hkv = g('attention.head_count_kv', H)
    D = g('attention.key_length', E // H)
    Dv = g('attention.value_length', D)
    n_rot = g('rope.dimension_count', D)
    eps = g('attention.layer_norm_rms_epsilon', 1e-6)
    base = g('rope.freq_base', 10000.0)
    n_exp = g('expert_count', 0) if arch not in ('qwen2', 'qwen3') else 0
    K = g('expert_used_count', 0)
    T = len(tokens)
    pos = np.arange(T, dtype=np.float64)
    x = W['token_embd.weight'][tokens]
    mask = np.triu(np.full((T, T), -np.inf), 1)
    for il in range(L):
        p = 'blk.%d.' % il
        h = rmsnorm(x, W[p + 'attn_norm.weight'], eps)
        q = h @ W[p + 'attn_q.weight'].T
        k = h @ W[p + 'attn_k.weight'].T
        v = h @ W[p + 'attn_v.weight'].T
        if bias:
            q = q + W[p + 'attn_q.bias']
            k = k + W[p + 'attn_k.bias']
            v = v + W[p + 'attn_v.bias']
        if qk_norm == 'full':
            q = rmsnorm(q, W[p + 'attn_q_norm.weight'], eps)
            k = rmsnorm(k, W[p + 'attn_k_norm.weight'], eps)
        q = q.reshape(T, H, D)
        k = k.reshape(T, Hkv, D)
        v = v.reshape(T, Hkv, Dv)
        if qk_norm == 'head':
            q = rmsnorm(q, W[p + 'attn_q_norm.weight'], eps)
            k = rmsnorm(k, W[p + 'attn_k_norm.weight'], eps)
        q = rope(q, pos, n_rot, base, rope_kind)
        k = rope(k, pos, n_rot, base, rope_kind)
        rep = H // Hkv
        k = np.repeat(k, rep, axis=1)
        v = np.repeat(v, rep, axis=1)
        att = np.einsum('thd,shd->hts', q, k) / np.sqrt(D) + mask
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        o = np.einsum('hts,shd->thd', att, v).reshape(T, H * Dv)
        x = x + o @ W[p + 'attn_output.weight'].T
        h = rmsnorm(x, W[p + 'ffn_norm.weight'], eps)
        if n_exp:
            logits = h @ W[p + 'ffn_gate_inp.weight'].T
            pr = np.exp(logits - logits.max(-1, keepdims=True))
            pr /= pr.sum(-1, keepdims=True)
            gate, up, down = W[p + 'ffn_gate_exps.weight'], W[p + 'ffn_up_exps.weight'], W[p + 'ffn_down_exps.weight']
            y = np.zeros_like(x)
            for t in range(T):
                sel = np.argsort(-pr[t], kind='stable')[:K]
                w = pr[t][sel]
                if renorm:
                    w = w / w.sum()
                for e, we in zip(sel, w):
                    y[t] += we * (down[e] @ (silu(gate[e] @ h[t]) * (up[e] @ h[t])))
            if shexp:
                sg = 1 / (1 + np.exp(-(h @ W[p + 'ffn_gate_inp_shexp.weight'])))
                sh = silu(h @ W[p + 'ffn_gate_shexp.weight'].T) * (h @ W[p + 'ffn_up_shexp.weight'].T)
                y += sg[:, None] * (sh @ W[p + 'ffn_down_shexp.weight'].T)
            x = x + y
        else:
            f = silu(h @ W[p + 'ffn_gate.weight'].T) * (h @ W[p + 'ffn_up.weight'].T)
            x = x + f @ W[p + 'ffn_down.weight'].T
    x = rmsnorm(x, W['output_norm.weight'], eps)
    out = W.get('output.weight', W['token_embd.weight'])
    return x @ out.T


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    kv, W = load_gguf(sys.argv[1])
    tokens = [int(t) for t in sys.argv[2].split(',')]
    logits = forward(kv, W, np.array(tokens))
    logits.astype('<f4').tofile(sys.argv[3])


if __name__ == '__main__':
    main()
