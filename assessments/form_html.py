"""The HTML of the forms a page repeats per measure, written directly: the answer form
(`{% answer_fields form %}`) and the reviewer's comment form (`{% comment_fields form %}`).

A section page holds up to 14 answer forms of 11 fields each, a review page 35 comment forms.
Rendered through crispy-forms and Django's widget templates that was ~1,900 template renders
and two thirds of a section page's CPU (issue 14: 100–230 ms a page), 60% of a review page's. This writes the markup that crispy's bootstrap5 pack gave for
AnswerForm's layout — ids, labels, help texts, `aria-describedby`, `is-invalid`, `aria-invalid`
and the error texts — as plain strings, escaping every value (`_e`).

What stays with the form: labels, help texts, choices, max lengths and errors come from the
fields themselves, so a change there shows here. A new field of AnswerForm must be placed in
`render_answer_fields` (tests/test_filling.py checks that every field of the form is on the page).
"""

from html import escape

from django import forms
from django.forms.boundfield import BoundField
from django.utils.safestring import SafeString, mark_safe

# The CSS class crispy's bootstrap5 pack gives a control, and the <input> type, by widget.
_INPUTS = {
    forms.TextInput: ("textinput form-control", "text"),
    forms.URLInput: ("urlinput form-control", "url"),
    forms.NumberInput: ("numberinput form-control", "number"),
}


def _e(value) -> str:
    """The value as HTML text (quotes escaped too: it may sit in an attribute)."""
    return "" if value is None else escape(str(value))


def _errors(bound: BoundField):
    """The field's errors, unless its form shows none (`quiet_errors`: the dashboard filters)."""
    return () if getattr(bound.form, "quiet_errors", False) else bound.errors


def _optional(name: str, value) -> str:
    """` name="value"`, or nothing when the value is empty."""
    return "" if value is None or value == "" else f' {name}="{_e(value)}"'


def _value(bound: BoundField) -> str:
    return _e(bound.value())


def _attrs(bound: BoundField, css: str, *, help_text: bool) -> str:
    """name, maxlength, class, aria-* and id of a control."""
    auto_id = bound.auto_id
    max_length = getattr(bound.field, "max_length", None)
    html = f'name="{_e(bound.html_name)}"'
    if max_length:
        html += f' maxlength="{max_length}"'
    if bound.field.required:
        html += " required"
    describedby = [f"{auto_id}_helptext"] if help_text else []
    if _errors(bound):
        html += f' class="{css} is-invalid" aria-invalid="true"'
        describedby.append(f"{auto_id}_error")
    else:
        html += f' class="{css}"'
    if describedby:
        html += f' aria-describedby="{_e(" ".join(describedby))}"'
    return f'{html} id="{_e(auto_id)}"'


def _feedback(bound: BoundField, help_text: str) -> str:
    """The error texts, then the help text, under a control."""
    auto_id = _e(bound.auto_id)
    html = ""
    if _errors(bound):
        messages = " ".join(
            f'<span id="error_{i}_{auto_id}"><strong>{_e(message)}</strong></span>'
            for i, message in enumerate(_errors(bound), 1)
        )
        html += f'<div id="{auto_id}_error" class="invalid-feedback d-block">{messages}</div>'
    if help_text:
        html += f'<div id="{auto_id}_helptext" class="form-text">{_e(help_text)}</div>'
    return html


def _field(bound: BoundField) -> str:
    widget = bound.field.widget
    help_text = str(bound.help_text or "")
    attrs = _attrs
    if isinstance(widget, forms.Textarea):
        control = (
            f'<textarea cols="{widget.attrs.get("cols", 40)}" rows="{widget.attrs.get("rows", 10)}"'
            f" {attrs(bound, 'textarea form-control', help_text=bool(help_text))}>\n"
            f"{_value(bound)}</textarea>"
        )
    elif isinstance(widget, forms.Select):
        current = _value(bound)
        options = "".join(
            f'<option value="{_e(value)}"{" selected" if _e(value) == current else ""}>'
            f"{_e(label)}</option>"
            for value, label in bound.field.choices  # type: ignore[attr-defined]
        )
        control = (
            f"<select {attrs(bound, 'select form-select', help_text=bool(help_text))}>"
            f"{options}</select>"
        )
    elif isinstance(widget, forms.FileInput):
        accept = widget.attrs.get("accept")
        control = (
            f'<input type="file" {attrs(bound, "form-control", help_text=bool(help_text))}'
            f"{_optional('accept', accept)}>"
        )
    else:
        css, kind = _INPUTS[type(widget)]
        control = (
            f'<input type="{kind}"{_optional("value", bound.value())} '
            f"{attrs(bound, css, help_text=bool(help_text))}>"
        )
    auto_id = _e(bound.auto_id)
    if bound.field.required:
        label = (
            f'<label for="{auto_id}" class="form-label requiredField">{_e(bound.label)}'
            '<span class="asteriskField">*</span></label>'
        )
    else:
        label = f'<label for="{auto_id}" class="form-label">{_e(bound.label)}</label>'
    return (
        f'<div id="div_{auto_id}" class="mb-3">{label}{control}{_feedback(bound, help_text)}</div>'
    )


def _hidden(bound: BoundField) -> str:
    return (
        f'<input type="hidden" name="{_e(bound.html_name)}" value="{_value(bound)}" '
        f'id="{_e(bound.auto_id)}">'
    )


def _checkbox(bound: BoundField) -> str:
    auto_id = _e(bound.auto_id)
    checked = " checked" if bound.value() else ""
    invalid = " is-invalid" if _errors(bound) else ""
    return (
        f'<div class="mb-3"><div id="div_{auto_id}" class="form-check"><input type="checkbox" '
        f'name="{_e(bound.html_name)}" class="checkboxinput form-check-input{invalid}" '
        f'id="{auto_id}"{checked}><label for="{auto_id}" class="form-check-label">'
        f"{_e(bound.label)}</label>{_feedback(bound, str(bound.help_text or ''))}</div></div>"
    )


def _non_field_errors(form) -> str:
    errors = form.non_field_errors()
    if not errors:
        return ""
    items = "".join(f"<li>{_e(e)}</li>" for e in errors)
    return f'<div class="alert alert-block alert-danger"><ul class="m-0">{items}</ul></div>'


def _level(bound: BoundField) -> str:
    """The level radios in a fieldset whose legend names the measure."""
    current = _value(bound)
    auto_id, name = _e(bound.auto_id), _e(bound.html_name)
    css = "form-check-input is-invalid" if _errors(bound) else "form-check-input"
    radios = "".join(
        f'<div class="form-check"><input type="radio" class="{css}" name="{name}" '
        f'value="{_e(value)}" id="{auto_id}_{i}"{" checked" if _e(value) == current else ""}>'
        f'<label for="{auto_id}_{i}" class="form-check-label">{_e(label)}</label></div>'
        for i, (value, label) in enumerate(bound.field.choices)  # type: ignore[attr-defined]
    )
    describedby = f' aria-describedby="{auto_id}_error"' if _errors(bound) else ""
    return (
        f'<div id="div_{auto_id}" class="mb-3 level-choice"><fieldset{describedby}>'
        f'<legend class="form-label fs-6">{_e(bound.label)}</legend><div>{radios}</div>'
        f"{_feedback(bound, '')}</fieldset></div>"
    )


def render_answer_fields(form) -> SafeString:
    """Every field of an AnswerForm, in its layout (see AnswerForm.FIELDSETS)."""
    html = _hidden(form["version"]) + _non_field_errors(form)
    html += _level(form["level"]) + _field(form["not_applicable_reason"])
    html += f'<div class="answer-details">{_field(form["note"])}{_field(form["department"])}</div>'
    for css, legend, names in form.FIELDSETS:
        fields = "".join(_field(form[name]) for name in names)
        html += f'<fieldset class="{css}"><legend>{_e(legend)}</legend>{fields}</fieldset>'
    return mark_safe(html)  # noqa: S308 — every value above went through _e


def render_comment_fields(form) -> SafeString:
    """A ReviewCommentForm's fields: the measure (hidden), the comment and 要修正."""
    html = _hidden(form["measure"]) + _non_field_errors(form)
    html += _field(form["body"]) + _checkbox(form["needs_fix"])
    return mark_safe(html)  # noqa: S308 — every value above went through _e


def render_filter_fields(form) -> SafeString:
    """A FilterForm's fields on one row of the grid (a column each), errors not shown: an
    invalid filter falls back to its default and the page says so."""
    columns = "".join(
        f'<div class="col-md-auto">'
        f"{_checkbox(bound) if isinstance(bound.field.widget, forms.CheckboxInput) else _field(bound)}"
        "</div>"
        for bound in form
    )
    return mark_safe(f'<div class="row g-2 align-items-end">{columns}</div>')  # noqa: S308
