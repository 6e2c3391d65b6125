"""The access matrix: for every URL, what each role gets.

Each feature keeps its entries in its own module here (foundation.py, filling.py, review.py,
dashboard.py, reports.py …) as `ENTRIES: dict[url name, list[Entry]]`, and may define
`prepare(ctx)` to add the objects its URLs need to `ctx.extra`. tests/test_access_matrix.py
collects them all and fails when a URL of the URLconf has no entry.

Roles (personas in tests/conftest.py):
  anonymous, body_staff (札幌市 011002), other_body_staff (函館市 012025),
  prefecture_reviewer (北海道), other_prefecture_reviewer (青森県), national_admin.
The object under test belongs to 札幌市 unless an entry says otherwise.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from assessments.models import Assessment

ROLES = (
    "anonymous",
    "body_staff",
    "other_body_staff",
    "prefecture_reviewer",
    "other_prefecture_reviewer",
    "national_admin",
)
LOGIN = "login"  # a redirect to the login page


@dataclass
class Context:
    """The objects URLs are built from: 札幌市's FY2026 assessment of the 2003 guideline."""

    assessment: Assessment
    users: dict
    extra: dict = field(default_factory=dict)


@dataclass
class Entry:
    expect: dict[str, int | str]
    kwargs: Callable[[Context], dict] = lambda ctx: {}
    method: str = "get"
    data: Callable[[Context], dict] = lambda ctx: {}
    # Called before each role's request, e.g. to reset state a previous request changed.
    before_each: Callable[[Context], None] | None = None

    def __post_init__(self):
        assert set(self.expect) == set(ROLES), f"every role needs an expectation: {self.expect}"


def everyone(status, anonymous=LOGIN) -> dict:
    return {role: status for role in ROLES} | {"anonymous": anonymous}


def own_body_only(status=200) -> dict:
    """Readable by the body, its prefecture's reviewer and the national admin; 404 for others."""
    return {
        "anonymous": LOGIN,
        "body_staff": status,
        "other_body_staff": 404,
        "prefecture_reviewer": status,
        "other_prefecture_reviewer": 404,
        "national_admin": status,
    }


def body_staff_writes(status=200) -> dict:
    """Only the body's own staff may write; readers get 403, everybody else 404."""
    return own_body_only(403) | {"body_staff": status}


def read_only(expect: dict, kwargs: Callable[[Context], dict] = lambda ctx: {}) -> list[Entry]:
    """A page that is only read: GET as `expect` says; POST is 405 for every signed-in role."""
    return [Entry(expect, kwargs=kwargs), Entry(everyone(405), kwargs=kwargs, method="post")]


def assessment_kwargs(ctx: Context) -> dict:
    return ctx.assessment.url_kwargs
