from allauth.account import views as allauth_views
from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from assessments.views import accounts, health

admin.site.site_header = "egov-assess 管理"
admin.site.site_title = "egov-assess 管理"
admin.site.index_title = "管理メニュー"
# The admin logs in through the site's login (throttling, second factor), never its own form.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    # Probes (load balancer, systemd, monitoring): public, no session, never cached.
    path("healthz/", health.healthz, name="healthz"),
    path("readyz/", health.readyz, name="readyz"),
    # The login is allauth's (second factor, OIDC, throttled by django-axes), under the old name.
    path("accounts/login/", allauth_views.login, name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/users/", accounts.account_list, name="account_list"),
    path("accounts/users/invite/", accounts.account_invite, name="account_invite"),
    path("accounts/users/import/", accounts.account_import, name="account_import"),
    path("accounts/users/<int:pk>/", accounts.account_detail, name="account_detail"),
    path("accounts/users/<int:pk>/change/", accounts.account_change, name="account_change"),
    path("accounts/users/<int:pk>/resend/", accounts.account_resend, name="account_resend"),
    path(
        "accounts/users/<int:pk>/deactivate/",
        accounts.account_deactivate,
        name="account_deactivate",
    ),
    path(
        "accounts/users/<int:pk>/reactivate/",
        accounts.account_reactivate,
        name="account_reactivate",
    ),
    path("accounts/users/<int:pk>/unlock/", accounts.account_unlock, name="account_unlock"),
    path("accounts/audit/", accounts.account_audit, name="account_audit"),
    path("accounts/audit/export.csv", accounts.account_audit_export, name="account_audit_export"),
    path("accounts/mail/", accounts.mail_list, name="mail_list"),
    path("accounts/invitation/<str:token>/", accounts.invitation_accept, name="invitation_accept"),
    # Addresses receive notifications and invitations: managers set them, users do not.
    path("accounts/email/", accounts.own_email, name="account_email"),
    path("accounts/", include("allauth.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("", include("assessments.urls")),
]
