#!/usr/bin/env python3
"""Make the tiny random Gemma fixtures and their transformers reference outputs.

Writes Tests/StepwiseKitTests/Fixtures/gemma/<name>/ with
  config.json, model.safetensors  (Gemma3ForCausalLM / Gemma2ForCausalLM random init, weights stored as F16 to
                                   stay small; the reference runs on exactly those values promoted to float32)
  tokenizer.json                  a SentencePiece-style BPE (byte fallback, spaces as ▁, BOS by a template)
                                  trained with `tokenizers` on a few sentences, shared by all fixtures
  reference.json                  text, ids (the HF tokenizer's, BOS first), per-layer output (residual after
                                  each layer) [T, D], attention probabilities [H, T, T], final_norm [T, D],
                                  logits [T, V], and tokenizer ids for more strings
Shapes: gemma3-odd (3 query heads / 1 KV head, head_dim 24, query_pre_attn_scalar 20 != head_dim, sliding
window 4 with a 3-layer pattern: local, local, global; untied head) and gemma2-softcap (4 heads / 2 KV,
every other layer sliding with window 3, attention soft-capping 4.0 and final soft-capping 6.0, both small
enough to bend the numbers). Norm weights are random (not zero), so a missing `1 + w` shows.
Usage: ~/stepwise-ref/venv/bin/python tools/reference/make_gemma_fixtures.py
"""
import json
import os
import tempfile

import torch
from safetensors.torch import load_file, save_file
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import AutoModelForCausalLM, Gemma2Config, Gemma3TextConfig, PreTrainedTokenizerFast

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', '..', 'Tests', 'StepwiseKitTests', 'Fixtures', 'gemma')
CORPUS = ["the cat sat on the mat", "a dog ran in the park", "the red car is fast", "she reads a long book",
          "we walk to the old bridge", "the sun sets over the sea", "they sing and dance at night"] * 20
TEXT = "the cat ran to the red car and the dog sat on the mat at night"
MORE = ["the cat", "  two spaces", "naïve café", "emoji 😀", "<bos>inline", "tabs\tand\nlines", "zzz qqq"]


def tokenizer():
    tok = Tokenizer(models.BPE(byte_fallback=True, unk_token=None, fuse_unk=False))
    tok.normalizer = normalizers.Replace(" ", "\u2581")
    tok.pre_tokenizer = pre_tokenizers.Split(" ", "merged_with_previous")
    specials = ["<pad>", "<eos>", "<bos>", "<unk>"] + [f"<0x{b:02X}>" for b in range(256)]
    trainer = trainers.BpeTrainer(vocab_size=420, special_tokens=specials, show_progress=False)
    tok.train_from_iterator(CORPUS, trainer)
    tok.post_processor = processors.TemplateProcessing(single="<bos> $A", special_tokens=[("<bos>", 2)])
    tok.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse()])
    return tok


def make(name, cfg, cls_name, tok_path, seed):
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(cfg, attn_implementation='eager').eval()
    with torch.no_grad():
        for n, p in model.named_parameters():
            if n.endswith('norm.weight'):
                p.copy_(0.3 * torch.randn_like(p))
    out = os.path.join(OUT, name)
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        cfg_text = open(os.path.join(tmp, 'config.json')).read()
        state = load_file(os.path.join(tmp, 'model.safetensors'))
    save_file({k: v.to(torch.float16).contiguous() for k, v in state.items()}, os.path.join(out, 'model.safetensors'),
              metadata={'format': 'pt'})
    open(os.path.join(out, 'config.json'), 'w').write(cfg_text)
    open(os.path.join(out, 'tokenizer.json'), 'w').write(open(tok_path).read())
    model = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32, attn_implementation='eager').eval()
    assert type(model).__name__ == cls_name, type(model).__name__
    hf_tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(out, 'tokenizer.json'), bos_token='<bos>', eos_token='<eos>')
    ids = hf_tok(TEXT).input_ids
    rec = {}
    hooks = [layer.register_forward_hook(lambda m, i, o, L=L: rec.__setitem__(L, (o[0] if isinstance(o, tuple) else o)[0]))
             for L, layer in enumerate(model.model.layers)]
    hooks.append(model.model.norm.register_forward_hook(lambda m, i, o: rec.__setitem__('norm', o[0])))
    with torch.no_grad():
        res = model(torch.tensor([ids]), output_attentions=True)
    r = lambda t: [float(f'{v:.8g}') for v in t.reshape(-1).tolist()]
    doc = {'text': TEXT, 'ids': ids,
           'layers': [{'hidden': r(rec[L]), 'pattern': r(res.attentions[L][0])} for L in range(len(model.model.layers))],
           'final_norm': r(rec['norm']), 'logits': r(res.logits[0]),
           'tokenizer': [{'text': t, 'ids': hf_tok(t).input_ids} for t in MORE]}
    json.dump(doc, open(os.path.join(out, 'reference.json'), 'w'))
    print(name, len(ids), 'tokens', os.path.getsize(os.path.join(out, 'model.safetensors')), 'bytes of weights')


def main():
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tok_path = os.path.join(tmp, 'tokenizer.json')
        tokenizer().save(tok_path)
        V = Tokenizer.from_file(tok_path).get_vocab_size()
        g3 = Gemma3TextConfig(vocab_size=V, hidden_size=48, intermediate_size=80, num_hidden_layers=3, num_attention_heads=3,
                              num_key_value_heads=1, head_dim=24, query_pre_attn_scalar=20, sliding_window=4,
                              layer_types=['sliding_attention', 'sliding_attention', 'full_attention'],
                              rope_theta=50000.0, rope_local_base_freq=100.0, max_position_embeddings=128,
                              rms_norm_eps=1e-6, tie_word_embeddings=False, initializer_range=0.2,
                              bos_token_id=2, eos_token_id=1, pad_token_id=0)
        make('gemma3-odd', g3, 'Gemma3ForCausalLM', tok_path, 7)
        g2 = Gemma2Config(vocab_size=V, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                          num_key_value_heads=2, head_dim=8, query_pre_attn_scalar=8, sliding_window=3,
                          attn_logit_softcapping=4.0, final_logit_softcapping=6.0, max_position_embeddings=128,
                          rms_norm_eps=1e-6, tie_word_embeddings=True, initializer_range=0.3,
                          bos_token_id=2, eos_token_id=1, pad_token_id=0)
        make('gemma2-softcap', g2, 'Gemma2ForCausalLM', tok_path, 11)


main()
