"""Strict readers for settings taken from the environment.

Every reader raises ImproperlyConfigured naming the variable when its value cannot be parsed,
so a typo in a deployment fails at start-up instead of silently falling back to a default.
"""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise ImproperlyConfigured(f"環境変数 {name} が設定されていません / {name} is not set.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"環境変数 {name} の値 {value!r} は真偽値ではありません "
        f"/ {name}={value!r} is not a boolean (use one of 1/0, true/false, yes/no, on/off)."
    )


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ImproperlyConfigured(
            f"環境変数 {name} の値 {value!r} は整数ではありません / {name}={value!r} is not an integer."
        ) from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(
            f"環境変数 {name} は {minimum} 以上にしてください / {name}={number} is below {minimum}."
        )
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    items = [item.strip() for item in value.split(",")]
    if any(not item for item in items):
        raise ImproperlyConfigured(
            f"環境変数 {name} に空の要素があります / {name}={value!r} has an empty item."
        )
    return items
