"""A body's document settings (文書番号, 宛先, 決裁欄): its readers see them, its staff change
them (302 back to the page); another body's 404; a reader's write 403."""

from tests.access import Entry, body_staff_writes, own_body_only


def body_kwargs(ctx) -> dict:
    return {"body_code": ctx.assessment.body.code}


ENTRIES = {
    "document_settings": [
        Entry(own_body_only(200), kwargs=body_kwargs),
        Entry(
            body_staff_writes(302),
            kwargs=body_kwargs,
            method="post",
            data=lambda ctx: {"approval_columns": "担当、課長、部長、局長、副市長、市長"},
        ),
    ],
}
