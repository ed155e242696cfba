"""Models: small Keras builder functions, and saving/loading them with a JSON card."""

from .cards import ModelCard, load_model_with_card, read_card, save_model_with_card

__all__ = ["ModelCard", "load_model_with_card", "read_card", "save_model_with_card"]
