import getpass
import os

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from forces.models import Force, Role
from forces.services import create_role_user


class Command(BaseCommand):
    help = (
        "Create a user with one role for one force. The password comes from --password, the environment variable "
        "DJANGO_USER_PASSWORD, or a prompt."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[role.value for role in Role])
        parser.add_argument("--force", required=True, metavar="ID", help="data.police.uk force id, e.g. thames-valley")
        parser.add_argument("--password", help="the user's password (avoid on shared machines: it shows in ps)")

    def handle(self, *args, username, role, force, password, **options):
        try:
            force_obj = Force.objects.get(pk=force)
        except Force.DoesNotExist:
            raise CommandError(f"--force: '{force}' is not a known force id; run load_forces first.") from None
        password = password or os.environ.get("DJANGO_USER_PASSWORD") or self.ask_password()
        try:
            validate_password(password)
        except ValidationError as error:
            raise CommandError(f"--password: {' '.join(error.messages)}") from None
        create_role_user(username, Role(role), force_obj, password)
        self.stdout.write(self.style.SUCCESS(f"User {username}: {Role(role).label} for {force_obj.name}."))

    def ask_password(self):
        if not os.isatty(0):
            raise CommandError("No password given: use --password or DJANGO_USER_PASSWORD when not at a terminal.")
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords differ.")
        return password
