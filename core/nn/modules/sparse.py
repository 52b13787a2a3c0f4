"""Embedding and EmbeddingBag: lookup tables of learned vectors indexed by integer ids."""
from ...autograd.grad_mode import no_grad
from ...creation import arange, empty, ones, zeros
from ...ops.sorting import searchsorted
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Embedding", "EmbeddingBag"]


def _padding_index(padding_idx, num_embeddings, name):
    """``padding_idx`` counted from the start, after checking that it names a row (``name`` spells it in the
    error, as PyTorch's two layers do)."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise AssertionError(f"{name} must be within num_embeddings")
    return padding_idx + num_embeddings if padding_idx < 0 else padding_idx


def _pretrained_shape(embeddings):
    """(rows, columns) of a from_pretrained table, which must be 2-D."""
    if embeddings.dim() != 2:
        raise AssertionError(f"Embeddings parameter is expected to be 2-dimensional, got shape "
                             f"{tuple(embeddings.shape)}")
    return embeddings.shape


class _EmbeddingTable(Module):
    """The (num_embeddings, embedding_dim) ``weight`` that Embedding and EmbeddingBag look rows up in."""

    def _set_weight(self, _weight, requires_grad, device, dtype):
        """``_weight`` (checked to be (num_embeddings, embedding_dim)) as the weight, or a new one that
        reset_parameters initialises."""
        shape = [self.num_embeddings, self.embedding_dim]
        if _weight is None:
            self.weight = Parameter(empty(shape, device=device, dtype=dtype), requires_grad=requires_grad)
            self.reset_parameters()
            return
        if list(_weight.shape) != shape:
            raise AssertionError(f"Shape of weight does not match num_embeddings and embedding_dim: got "
                                 f"{list(_weight.shape)}, expected {shape}")
        self.weight = Parameter(_weight, requires_grad=requires_grad)

    def reset_parameters(self):
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self):
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx].fill_(0)

    def _lookup_repr(self):
        """The lookup options that differ from their defaults, as extra_repr shows them."""
        s = ""
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        return s


class Embedding(_EmbeddingTable):
    """Rows of ``weight`` (num_embeddings, embedding_dim), initialised N(0, 1), picked by integer ids.

    ``padding_idx`` (negative counts from the end) gets a zero row at init and no gradient; ``max_norm``
    renormalises looked-up rows in place, as PyTorch does."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None):
        super().__init__()
        if sparse:
            raise NotImplementedError("nn.Embedding(sparse=True) (sparse gradients) is not supported by zoo")
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = _padding_index(padding_idx, num_embeddings, "Padding_idx")
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self._set_weight(_weight, not _freeze, device, dtype)
        self.sparse = sparse

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        s += self._lookup_repr()
        if self.sparse is not False:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding whose weight shares ``embeddings``' memory (2-D); frozen unless ``freeze=False``.
        The padding row is kept as given (not zeroed), as in PyTorch."""
        rows, cols = _pretrained_shape(embeddings)
        return cls(num_embeddings=rows, embedding_dim=cols, _weight=embeddings, _freeze=freeze,
                   padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


class EmbeddingBag(_EmbeddingTable):
    """Sums, means or maxima of bags of embeddings, without materialising the lookups per bag.

    Bags are the rows of a 2-D ``input`` (B, L), or segments of a 1-D ``input`` starting at ``offsets`` (empty
    bags give zeros). ``per_sample_weights`` scale the lookups (mode 'sum'); ``padding_idx`` entries are left
    out of every bag (and of the mean's count). Mode 'max' with ``offsets`` is not supported."""

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="mean", sparse=False, _weight=None, include_last_offset=False, padding_idx=None, device=None,
                 dtype=None):
        super().__init__()
        if sparse:
            raise NotImplementedError("nn.EmbeddingBag(sparse=True) (sparse gradients) is not supported by zoo")
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"mode has to be one of sum, mean or max, got {mode!r}")
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.padding_idx = _padding_index(padding_idx, num_embeddings, "padding_idx")
        self._set_weight(_weight, True, device, dtype)
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset

    def forward(self, input, offsets=None, per_sample_weights=None):
        if per_sample_weights is not None:
            if self.mode != "sum":
                raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is "
                                          f"only supported for mode='sum' (got mode='{self.mode}')")
            if tuple(per_sample_weights.shape) != tuple(input.shape):
                raise ValueError(f"embedding_bag: per_sample_weights shape {tuple(per_sample_weights.shape)} must "
                                 f"match the input shape {tuple(input.shape)}")
        if input.dim() == 2:
            if offsets is not None:
                raise ValueError(f"if input is 2D, then offsets has to be None, as input is treated is a mini-batch "
                                 f"of fixed length sequences. However, found offsets of type "
                                 f"{type(offsets).__name__}")
            return self._fixed_bags(input, per_sample_weights)
        if input.dim() != 1:
            raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError(f"offsets has to be a 1D Tensor, but got Tensor of dimension {offsets.dim()}")
        if self.mode == "max":
            raise NotImplementedError("nn.EmbeddingBag(mode='max') with a 1-D input and offsets is not supported "
                                      "by zoo; pass a 2-D input of equal-length bags")
        return self._segment_bags(input, offsets, per_sample_weights)

    def _lookup(self, input, per_sample_weights):
        """The embeddings of ``input`` times their weights (0 for padding entries), and the entry mask."""
        emb = F.embedding(input, self.weight, None, self.max_norm, self.norm_type, self.scale_grad_by_freq)
        keep = None if self.padding_idx is None else (input != self.padding_idx)
        scale = per_sample_weights
        if keep is not None:
            scale = keep.to(emb.dtype) if scale is None else scale * keep
        if scale is not None:
            emb = emb * scale.unsqueeze(-1)
        return emb, keep

    def _fixed_bags(self, input, per_sample_weights):
        emb, keep = self._lookup(input, per_sample_weights)
        if self.mode == "max":
            if keep is None:
                return emb.max(1).values if input.shape[1] else emb.sum(1)
            filled = emb.masked_fill(~keep.unsqueeze(-1), float("-inf")).max(1).values
            return filled.masked_fill(~keep.any(1, keepdim=True), 0.0)
        total = emb.sum(1)
        if self.mode == "sum":
            return total
        if keep is None:
            return total / max(input.shape[1], 1)
        return total / keep.sum(1, keepdim=True).clamp_min(1).to(emb.dtype)

    def _segment_bags(self, input, offsets, per_sample_weights):
        n_bags = offsets.shape[0] - (1 if self.include_last_offset else 0)
        emb, keep = self._lookup(input, per_sample_weights)
        # the bag of every entry; entries outside [offsets[0], offsets[n_bags]) go to a discarded extra row
        bag = searchsorted(offsets.to(input.dtype), arange(input.shape[0], device=input.device, dtype=input.dtype),
                           right=True) - 1
        bag = bag.masked_fill((bag < 0) | (bag >= n_bags), n_bags)
        out = zeros(n_bags + 1, self.embedding_dim, device=emb.device, dtype=emb.dtype).index_add(0, bag, emb)
        if self.mode == "mean":
            entries = ones(input.shape[0], device=emb.device, dtype=emb.dtype) if keep is None else \
                keep.to(emb.dtype)
            count = zeros(n_bags + 1, device=emb.device, dtype=emb.dtype).index_add(0, bag, entries)
            out = out / count.clamp_min(1).unsqueeze(-1)
        return out[:n_bags]

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}{self._lookup_repr()}, mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                        mode="mean", sparse=False, include_last_offset=False, padding_idx=None):
        """An EmbeddingBag whose weight shares ``embeddings``' memory (2-D); frozen unless ``freeze=False``."""
        rows, cols = _pretrained_shape(embeddings)
        bag = cls(num_embeddings=rows, embedding_dim=cols, _weight=embeddings, max_norm=max_norm,
                  norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, mode=mode, sparse=sparse,
                  include_last_offset=include_last_offset, padding_idx=padding_idx)
        bag.weight.requires_grad_(not freeze)
        return bag
