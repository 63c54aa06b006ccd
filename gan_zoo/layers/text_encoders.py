"""Text encoders φ: captions (UTF-8 bytes ``[N, L]``, see :mod:`gan_zoo.data.text`) → embeddings ``[N, E]``.

Reed et al. 2016 condition on φ(t) from a char-CNN-RNN pretrained for image–text matching (Reed et al.
2016a, 1024-d) and kept fixed. Here φ is pluggable by name (``TEXT_ENCODERS``):

* ``char_cnn`` (default): a small character-level CNN, trained with the discriminator (the
  matching-aware loss is an image–text matching objective), needing nothing downloaded;
* ``sentence_transformer``: a pretrained sentence encoder from the ``sentence-transformers`` package,
  frozen, loaded from local files only — gan_zoo never downloads a model.
"""

from __future__ import annotations

import os
from typing import Any

from torch import Tensor, nn

from gan_zoo.data.text import decode_text
from gan_zoo.registry import Registry


class TextEncoder(nn.Module):
    """Captions uint8 ``[N, L]`` → embeddings ``[N, embedding_dim]``.

    ``trainable`` encoders learn with the discriminator; the others are used as they are.
    """

    embedding_dim: int
    trainable: bool = True


TEXT_ENCODERS: Registry[type[TextEncoder]] = Registry("text encoder")


def build_text_encoder(name: str, options: dict[str, Any] | None = None) -> TextEncoder:
    """A registered text encoder by name, with its keyword arguments."""
    return TEXT_ENCODERS.get(name)(**(options or {}))


@TEXT_ENCODERS.register("char_cnn")
class CharCNNEncoder(TextEncoder):
    """Byte embeddings → two 1-D convolutions (kernel 3, ReLU) → mean over the caption → linear.

    The mean of local (5-character) features is close to a bag of character n-grams, so a caption
    that recombines known words gets a sensible embedding.

    Args:
        embedding_dim: E.
        width: channels of the convolutions.
        char_dim: size of the byte embeddings.
    """

    def __init__(self, embedding_dim: int = 128, width: int = 128, char_dim: int = 32) -> None:
        super().__init__()
        self.embedding_dim = embedding_dim
        self.chars = nn.Embedding(256, char_dim, padding_idx=0)
        self.convs = nn.Sequential(
            nn.Conv1d(char_dim, width, 3, padding=1),
            nn.ReLU(),
            nn.Conv1d(width, width, 3, padding=1),
            nn.ReLU(),
        )
        self.out = nn.Linear(width, embedding_dim)

    def forward(self, text: Tensor) -> Tensor:
        present = (text != 0).unsqueeze(1).float()  # [N, 1, L]: the caption, not its padding
        features = self.convs(self.chars(text.long()).transpose(1, 2))  # [N, width, L]
        pooled = (features * present).sum(2) / present.sum(2).clamp(min=1.0)
        return self.out(pooled)


@TEXT_ENCODERS.register("sentence_transformer")
class SentenceTransformerEncoder(TextEncoder):
    """A pretrained ``sentence-transformers`` model, frozen, from local files only.

    Its weights stay where they are installed (a local directory or the Hugging Face cache) and are
    not part of gan_zoo checkpoints; loading a checkpoint needs the same model available.

    Args:
        model: a local directory, or the name of a model already in the local cache.
    """

    trainable = False

    def __init__(self, model: str = "all-MiniLM-L6-v2") -> None:
        super().__init__()
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as error:
            raise ImportError(
                "text_encoder 'sentence_transformer' needs the sentence-transformers package and the model "
                f"'{model}' on this machine (gan_zoo never downloads one); 'char_cnn' needs neither"
            ) from error
        previous = os.environ.get("HF_HUB_OFFLINE")
        os.environ["HF_HUB_OFFLINE"] = "1"  # belt and braces: no hub request even for a cache check
        try:
            encoder = SentenceTransformer(model, device="cpu", local_files_only=True)
        except OSError as error:
            raise FileNotFoundError(f"sentence encoder '{model}' is not available locally") from error
        finally:
            if previous is None:
                os.environ.pop("HF_HUB_OFFLINE", None)
            else:
                os.environ["HF_HUB_OFFLINE"] = previous
        encoder.requires_grad_(False)
        self.__dict__["encoder"] = encoder  # not a submodule: kept out of state dicts and optimizers
        self.embedding_dim = encoder.get_sentence_embedding_dimension()

    def forward(self, text: Tensor) -> Tensor:
        embeddings = self.encoder.encode(decode_text(text), convert_to_tensor=True, device=str(text.device))
        return embeddings.detach().clone().float()  # out of inference mode, usable in autograd graphs
