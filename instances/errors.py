"""Errors shared by every layer.

`InputError` means the user gave something unusable (bad file, NaN, wrong shape, unknown name).
The CLI turns it into one line on stderr and exit code 2; anything else is an internal error.
"""


class InputError(ValueError):
    """Bad input or usage: reported to the user as one clear line, exit code 2."""
