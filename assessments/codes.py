"""全国地方公共団体コード (JIS X 0402 based): 2 digits prefecture, 3 digits body, 1 check digit."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

WEIGHTS = (6, 5, 4, 3, 2)


def check_digit(first_five: str) -> int:
    """Return the check digit for the first five digits of a local government code."""
    remainder = sum(int(d) * w for d, w in zip(first_five, WEIGHTS, strict=True)) % 11
    return (11 - remainder) % 10


def validate_body_code(value: str) -> None:
    """Refuse anything that is not six digits with the right check digit, naming the right one."""
    if not isinstance(value, str) or len(value) != 6 or not value.isascii() or not value.isdigit():
        raise ValidationError(
            _("団体コードは半角数字6桁で入力してください（例: 011002）。"), code="format"
        )
    expected = check_digit(value[:5])
    if int(value[5]) != expected:
        raise ValidationError(
            _(
                "団体コード %(code)s の検査数字が正しくありません。6桁目は %(expected)s のはずです"
                "（%(fixed)s）。"
            ),
            code="check_digit",
            params={"code": value, "expected": expected, "fixed": value[:5] + str(expected)},
        )


def prefecture_code_of(body_code: str) -> str:
    """Return the code of the prefecture a body belongs to (北海道 010006 for 札幌市 011002)."""
    first_five = body_code[:2] + "000"
    return first_five + str(check_digit(first_five))
