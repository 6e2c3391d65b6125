from tests.access import ROLES, Entry, everyone, read_only

ENTRIES = {
    "login": [
        Entry(everyone(200, anonymous=200) | {role: 302 for role in ROLES if role != "anonymous"})
    ],  # signed-in users go home
    "logout": [
        Entry(everyone(405, anonymous=405)),
        Entry(everyone(302, anonymous=302), method="post"),
    ],
    "set_language": [
        Entry(
            everyone(302, anonymous=302),
            method="post",
            data=lambda ctx: {"language": "en", "next": "/"},
        )
    ],
    "admin:index": [Entry(everyone(302, anonymous=302) | {"national_admin": 200})],
    "home": read_only(everyone(200)),
    # Probes: public for every role, read only (tests/test_health.py checks what they say).
    "healthz": [
        Entry(everyone(200, anonymous=200)),
        Entry(everyone(405, anonymous=405), method="post"),
    ],
    "readyz": [
        Entry(everyone(200, anonymous=200)),
        Entry(everyone(405, anonymous=405), method="post"),
    ],
}
