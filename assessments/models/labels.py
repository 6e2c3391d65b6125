"""Display labels of choices from one map per language, for pages and exports of many rows.

Model.get_FOO_display() builds a dict of the field's choices on every call (a third of a CSV
export's time, issue 14); `label(Choices, value)` reads a map made once per choices class and
language.
"""

import functools

from django.db.models import Choices, Field, Model
from django.utils.translation import get_language


@functools.cache
def _labels(choices: type[Choices], language: str) -> dict:
    return {value: str(text) for value, text in choices.choices}


def label(choices: type[Choices], value) -> str:
    """The label of `value` in the active language (the value itself when it is not a choice)."""
    return _labels(choices, get_language() or "ja").get(value, value)


@functools.cache
def _field_labels(model: type[Model], field_name: str, language: str) -> dict:
    field = model._meta.get_field(field_name)
    assert isinstance(field, Field), field  # a model field with choices, not a relation
    return {value: str(text) for value, text in field.flatchoices}


def display(obj, field_name: str):
    """`obj.get_<field_name>_display()` from a map made once per model field and language: the
    label of the field's value, or the value itself when it is not a choice (as Django's)."""
    value = getattr(obj, field_name)
    # obj.__class__, not type(obj): request.user is a lazy object standing in for its model.
    return _field_labels(obj.__class__, field_name, get_language() or "ja").get(value, value)
