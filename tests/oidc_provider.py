"""An OpenID Connect provider for the tests: django-oauth-toolkit, mounted at /idp/.

Imported only once `oauth2_provider` is installed for a test (tests/test_accounts_oidc.py): its
models cannot be loaded before. Used as that test's ROOT_URLCONF (the app's own URLs plus the
provider), so the provider is never part of the app's URLconf.

The provider runs in the same process and database as the app, so its users are rows of the same
user table: they have no role and no address of their own. What the provider asserts about them
(the e-mail claim and whether it is verified) comes from DIRECTORY, which each test fills.
"""

from django.urls import include, path
from oauth2_provider.oauth2_validators import OAuth2Validator

from egov.urls import urlpatterns as app_urlpatterns

PROVIDER_PATH = "/idp"

# username at the provider -> the claims it releases with the "email" scope
DIRECTORY: dict[str, dict] = {}


class DirectoryValidator(OAuth2Validator):
    """Claims of the provider-side user from DIRECTORY (released by scope, as DOT does)."""

    def get_additional_claims(self, request):
        return {
            "preferred_username": request.user.get_username(),
            **DIRECTORY.get(request.user.get_username(), {}),
        }


urlpatterns = [
    path("idp/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    *app_urlpatterns,
]
