"""A small character-level GPT (nanoGPT's Shakespeare model): GPT-2's architecture at a small size, with its own
model type ``"char_gpt"`` so ``zoo.from_pretrained`` builds it from its config.json.

It reuses GPT-2's layers and parameter names (``transformer.wte``, ``transformer.h.N.attn.c_attn`` ...), its KV
cache and :meth:`generate`. The position table has ``n_positions`` entries (the training block size); generating
past it slides the context window: the most recent tokens are re-encoded and generation goes on, as nanoGPT's
``generate`` crops the context to the block size.

The checkpoint shipped with zoo (``char_gpt_shakespeare``) is trained by ``examples/train_char_gpt.py``.
"""
from .gpt2 import GPT2Config, GPT2LMHeadModel

__all__ = ["CharGPTConfig", "CharGPTLMHeadModel"]


class CharGPTConfig(GPT2Config):
    """GPT-2's hyper-parameters with a char-level model's defaults: 65 characters, a 128-character context,
    4 layers of 4 heads, 128 wide, exact GELU, no dropout and no bos/eos token."""

    model_type = "char_gpt"

    def __init__(self, vocab_size=65, n_positions=128, n_embd=128, n_layer=4, n_head=4,
                 activation_function="gelu", resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=None,
                 eos_token_id=None, **kwargs):
        super().__init__(vocab_size=vocab_size, n_positions=n_positions, n_embd=n_embd, n_layer=n_layer,
                         n_head=n_head, activation_function=activation_function, resid_pdrop=resid_pdrop,
                         embd_pdrop=embd_pdrop, attn_pdrop=attn_pdrop, bos_token_id=bos_token_id,
                         eos_token_id=eos_token_id, **kwargs)


class CharGPTLMHeadModel(GPT2LMHeadModel):
    """The char-level GPT with its tied language-modelling head: ``.logits``, ``.loss`` of ``labels`` (shifted
    inside) and :meth:`generate` with a sliding context window."""

    config_class = CharGPTConfig
    _sliding_window_generation = True
