"""The original launchers' positional forms, turned into flags (docs/migration.md):

    start_tushare_smart_update.bat 5 3 5 INFO      -> --workers 5 --max_retries 3 --retry_delay 5 --log_level INFO
    start_pit_data_update.bat income full true     -> --target income --mode full --parallel

Arguments that start with ``-`` are flags and pass through unchanged, after the positional ones."""

from __future__ import annotations

from collections.abc import Sequence

from alphahome.errors import ConfigError

TUSHARE_POSITIONS = ("--workers", "--max_retries", "--retry_delay", "--log_level")
TRUE_WORDS = ("true", "1", "yes", "y", "on")
FALSE_WORDS = ("false", "0", "no", "n", "off")


def _split(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """(leading positional words, the rest)."""
    positional: list[str] = []
    for i, word in enumerate(argv):
        if word.startswith("-"):
            return positional, list(argv[i:])
        positional.append(word)
    return positional, []


def tushare_launcher_args(argv: Sequence[str]) -> list[str]:
    """``[workers [retries [delay [log level]]]] [flags…]`` -> flags."""
    positional, rest = _split(argv)
    if len(positional) > len(TUSHARE_POSITIONS):
        raise ConfigError(f"too many positional arguments {' '.join(positional)}: expected at most workers, "
                          "retries, delay and log level (e.g. 5 3 5 INFO), or flags")
    out: list[str] = []
    for flag, value in zip(TUSHARE_POSITIONS, positional, strict=False):
        out += [flag, value]
    return out + rest


def pit_launcher_args(argv: Sequence[str]) -> list[str]:
    """``[target [mode [parallel]]] [flags…]`` -> flags (parallel: true/false)."""
    positional, rest = _split(argv)
    if len(positional) > 3:
        raise ConfigError(f"too many positional arguments {' '.join(positional)}: expected at most target, "
                          "mode and parallel (e.g. income full true), or flags")
    out: list[str] = []
    if positional:
        out += ["--target", positional[0]]
    if len(positional) > 1:
        out += ["--mode", positional[1]]
    if len(positional) > 2:
        word = positional[2].lower()
        if word not in TRUE_WORDS + FALSE_WORDS:
            raise ConfigError(f"parallel must be true or false, got {positional[2]!r}")
        if word in TRUE_WORDS:
            out.append("--parallel")
    return out + rest
