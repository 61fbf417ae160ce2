"""Reference QK/OV circuit numbers for the random GPT-2 fixtures (numpy, independent of Stepwise).

Reads ../gpt2/<name>/model.safetensors (HF GPT-2 layout: Conv1D weights are [in, out]) and writes
circuits.json: per (fixture, layer, head) the Frobenius norms of W_Q, W_K, W_V, W_O, the 8 largest
entries of QK = (W_E W_Q)(W_E W_K)^T / sqrt(d_head) and OV = W_E W_V W_O W_U over the whole vocabulary,
and the copying score Re(sum eig) / sum |eig| of the full OV matrix (numpy.linalg.eigvals).
Run: python make_circuits.py
"""
import json, os
import numpy as np
from safetensors.numpy import load_file

here = os.path.dirname(os.path.abspath(__file__))
out = []
for name, heads in [("tied-4h", [(0, 0), (1, 2)]), ("untied-3h", [(0, 1), (1, 2)])]:
    folder = os.path.join(here, "..", "gpt2", name)
    cfg = json.load(open(os.path.join(folder, "config.json")))
    w = load_file(os.path.join(folder, "model.safetensors"))
    pre = "transformer." if "transformer.wte.weight" in w else ""
    E = w[pre + "wte.weight"].astype(np.float64)
    U = w["lm_head.weight"].astype(np.float64) if (not cfg.get("tie_word_embeddings", True) and "lm_head.weight" in w) else E
    d, H = cfg["n_embd"], cfg["n_head"]
    dh = d // H
    for (l, h) in heads:
        ca = w[f"{pre}h.{l}.attn.c_attn.weight"].astype(np.float64)  # [d, 3d]
        cp = w[f"{pre}h.{l}.attn.c_proj.weight"].astype(np.float64)  # [d, d] (in, out)
        s = slice(h * dh, (h + 1) * dh)
        WQ, WK, WV = ca[:, 0:d][:, s], ca[:, d:2 * d][:, s], ca[:, 2 * d:3 * d][:, s]
        WO = cp[s, :]
        QK = (E @ WQ) @ (E @ WK).T / np.sqrt(dh)
        OV = E @ WV @ WO @ U.T
        ev = np.linalg.eigvals(OV)
        def top(m, k=8):
            idx = np.argsort(-m, axis=None, kind="stable")[:k]
            return [[int(i // m.shape[1]), int(i % m.shape[1]), float(m.flat[i])] for i in idx]
        out.append({
            "fixture": name, "layer": l, "head": h,
            "norms": [float(np.linalg.norm(x)) for x in (WQ, WK, WV, WO)],
            "qk_top": top(QK), "ov_top": top(OV),
            "copying_score": float(ev.sum().real / np.abs(ev).sum()),
            "ov_self_top": float(np.mean(np.argmax(OV, axis=1) == np.arange(OV.shape[0]))),
        })
json.dump(out, open(os.path.join(here, "circuits.json"), "w"), indent=1)
print(json.dumps([(o["fixture"], o["layer"], o["head"], o["copying_score"], o["ov_self_top"]) for o in out]))
