"""Errors raised by zoo.weights: each names the entry, file, source and what to do about it."""


class UnknownWeightsError(KeyError):
    """No registered weights entry has this name."""

    def __str__(self):  # KeyError would print the message with quotes around it
        return str(self.args[0]) if self.args else ""


class WeightsNotFoundError(FileNotFoundError):
    """A weights file is in none of its sources (and, offline, not in the Hugging Face cache)."""


class ChecksumError(RuntimeError):
    """A weights file does not have the sha256 (or size) that its registry entry records."""
