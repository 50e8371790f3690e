"""The Python forms of the `verify` experiments: keyword options checked like the CLI's flags."""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError

NOT_OPTIONS = frozenset({"func", "out", "json", "scheduler"})


def list_items(text: Any, flag: str) -> list[str]:
    """The items of a comma list given to `flag`, stripped; InputError when one is empty
    ("8,,16" ran 8 and 16 without a word, a value lost to a typo; hunt 79 L1, hunt 80 L2)."""
    items = [part.strip() for part in str(text).split(",")]
    if len(items) > 1 and "" in items:
        given = ",".join(item for item in items if item)
        raise InputError(f"{flag} list has an empty item: {text!r} (a value missing? "
                         f"{given!r} without it)")
    return [item for item in items if item]


def options_namespace(add_parser: Callable[[Any], None], command: str, api: str,
                      options: dict[str, Any], lists: Iterable[str] = ()) -> argparse.Namespace:
    """The argparse Namespace the CLI would build for `command`, with `options` (flag names with
    underscores) converted and checked by the flags' own types and choices; options named in
    `lists` may be sequences (joined with commas). InputError naming `api` on an unknown option
    or a bad value."""
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    add_parser(sub)
    args = parser.parse_args([command])
    actions = {a.dest: a for a in sub.choices[command]._actions}
    known = set(vars(args)) - NOT_OPTIONS
    lists = set(lists)
    for name, value in options.items():
        if name not in known:
            raise InputError(f"{api}: unknown option {name!r} (known: "
                             f"{', '.join(sorted(known))})")
        if name in lists and value is not None and not isinstance(value, str):
            # element by element: np.atleast_1d made [4, 8.5] "4.0,8.5" (refused as '4.0')
            # and [True, 4] "1,4", width 1 (hunt 57 L3)
            # any iterable: range(4, 9, 4) and generators were "4,8" before (hunt 58 M2)
            items = (np.asarray(value, dtype=object).ravel().tolist()
                     if isinstance(value, np.ndarray) else list(value)
                     if isinstance(value, Iterable) and not isinstance(value, bytes | Mapping)
                     else [value])
            value = ",".join(str(v) for v in items)
        action = actions[name]
        try:
            if value is None:
                if action.default is not None:
                    raise ValueError("needs a value (None is not one)")
            elif isinstance(action.const, bool) and action.nargs == 0:  # an on/off flag
                if not isinstance(value, bool | np.bool_):  # numpy's bool too (hunt 93)
                    raise ValueError("must be True or False")
                value = bool(value)
            elif action.type is not None:
                value = action.type(str(value))
            elif not isinstance(value, str | os.PathLike):
                raise ValueError("must be text (a name or a path)")
            else:
                value = os.fspath(value)
            if action.choices is not None and value not in action.choices:
                raise ValueError(f"choose from {', '.join(map(str, action.choices))}")
        except (ValueError, argparse.ArgumentTypeError) as exc:
            raise InputError(f"{api}: {name}={value!r}: {exc}") from None
        setattr(args, name, value)
    return args


@contextmanager
def named_as_keywords(api: str, args: argparse.Namespace) -> Iterator[None]:
    """Checks shared with the CLI name its flags (``--n needs an integer``); through the Python
    form they name the keyword instead (``run_pruning_gap: n needs an integer``)."""
    try:
        yield
    except InputError as exc:
        known = set(vars(args))

        def keyword(m: re.Match) -> str:
            name = m.group(1).replace("-", "_")
            return name if name in known else m.group(0)

        text = re.sub(r"--([a-z][a-z0-9-]*)", keyword, str(exc))
        raise InputError(text if text.startswith(f"{api}:") else f"{api}: {text}") from None


def in_process_default(options: dict[str, Any], api: str) -> dict[str, Any]:
    """`options` with jobs = 0 (in this process, the Python form's default) unless given;
    jobs=None is refused as no value (the CLI's unset --jobs, which means 1 worker, would
    otherwise start a worker process; hunt 101 M2)."""
    if "jobs" in options and options["jobs"] is None:
        raise InputError(f"{api}: jobs=None: needs a value (0: in this process, the default)")
    return {"jobs": 0, **options}
