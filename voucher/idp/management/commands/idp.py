"""`voucher idp`: the stand-in OpenID Connect provider for the demo (scripts/demo-idp): migrates
its own database, registers the demo as a client, prints the settings `voucher demo` needs and
serves the provider."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

CLIENT_ID = "voucher-demo"
CLIENT_SECRET = "voucher-demo-secret-not-for-production"


class Command(BaseCommand):
    help = "演示用统一身份认证（OpenID Connect）服务"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument("--demo-port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true")

    def handle(self, *args: Any, port: int, demo_port: int, no_serve: bool, **options: Any) -> None:
        if settings.ROOT_URLCONF != "voucher.idp.alone_urls":
            raise CommandError("DJANGO_SETTINGS_MODULE=voucher.idp.settings (scripts/demo-idp)")
        from oauth2_provider.models import Application  # type: ignore[import-untyped]

        call_command("migrate", interactive=False, verbosity=0)
        callback = f"http://127.0.0.1:{demo_port}/accounts/oidc/callback/"
        Application.objects.filter(client_id=CLIENT_ID).delete()
        Application.objects.create(
            name="算力券申报系统（演示）",
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=callback,
            algorithm=Application.RS256_ALGORITHM,
            skip_authorization=True,
        )
        base = f"http://127.0.0.1:{port}/idp/o"
        self.stdout.write("Start the demo with these settings (scripts/demo):")
        for name, value in (
            ("OIDC_RP_CLIENT_ID", CLIENT_ID),
            ("OIDC_RP_CLIENT_SECRET", CLIENT_SECRET),
            ("OIDC_OP_ISSUER", base),
            ("OIDC_OP_AUTHORIZATION_ENDPOINT", f"{base}/authorize/"),
            ("OIDC_OP_TOKEN_ENDPOINT", f"{base}/token/"),
            ("OIDC_OP_JWKS_ENDPOINT", f"{base}/.well-known/jwks.json"),
        ):
            self.stdout.write(f"export {name}={value}")
        if not no_serve:
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
