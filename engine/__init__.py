"""Tabula: an AlphaZero-style MCTS engine core for ONNX policy+value networks."""

__version__ = "0.1.0"
