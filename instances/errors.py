"""Errors shared by every layer.

`InputError` means the user gave something unusable (bad file, NaN, wrong shape, unknown name).
The CLI turns it into one line on stderr and exit code 2; anything else is an internal error.
"""


class InputError(ValueError):
    """Bad input or usage: reported to the user as one clear line, exit code 2."""


MAX_ERROR_LINE = 1000
"""Longest error line printed whole: a message quoting the input (a tensor name of 1,000,000
characters, an offset of 400 digits) printed all of it (hunt 117 L1)."""


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def clipped_line(text: str) -> str:
    """`text` whole up to MAX_ERROR_LINE characters, else its start and its end with the
    count left out between: the reason often follows a quoted path or name (a path of 1,022
    characters left nothing of it; hunt 119 L1). A character that does not print (a newline
    in a path the message names) is written escaped, after the clipping, so that no escape is
    cut and the count is of the text's own characters: the line stays one (hunts 212, 214)."""
    if len(text) > MAX_ERROR_LINE:
        head, tail = MAX_ERROR_LINE // 2, MAX_ERROR_LINE // 2
        return (f"{_escaped(text[:head])} ... ({len(text) - head - tail:,} characters left "
                f"out) ... {_escaped(text[-tail:])}")
    return _escaped(text)


def _escaped(text: str) -> str:
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _ESCAPES.get(c, ascii(c)[1:-1]) for c in text)
