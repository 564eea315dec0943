"""Build the demo world: administrations, users, operation DEMO-2026 with its group, the
planned DEMO-2027, and the CEN side (an analyst, a RILO officer, past CEN seizures)."""

import datetime
import json
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.vocabularies import CommodityCategory
from demo.bench_world import bench_world_build
from demo.cen_history import demo_cen_history_ensure
from demo.seizures import synthetic_seizures
from demo.story import demo_story_tell
from groups.models import Administration, Membership, Region, RiloAssignment, Role
from groups.services import membership_add, profile_ensure
from groups.two_factor import demo_device_ensure
from operations.models import Operation
from operations.services import operation_create, operation_set_status

User = get_user_model()

ADMINISTRATIONS = [
    ("BE", "Belgian Customs", Region.EUROPE),
    ("FR", "French Customs (DGDDI)", Region.EUROPE),
    ("DE", "German Customs (Zoll)", Region.EUROPE),
    ("NL", "Netherlands Customs", Region.EUROPE),
    ("ES", "Spanish Customs", Region.EUROPE),
    ("MA", "Moroccan Customs", Region.MIDDLE_EAST_NORTH_AFRICA),
    ("NG", "Nigeria Customs Service", Region.WEST_CENTRAL_AFRICA),
    ("KE", "Kenya Revenue Authority — Customs", Region.EAST_SOUTHERN_AFRICA),
    ("ZA", "South African Revenue Service — Customs", Region.EAST_SOUTHERN_AFRICA),
    ("BR", "Brazilian Federal Revenue — Customs", Region.AMERICAS_CARIBBEAN),
    ("CO", "Colombian Customs (DIAN)", Region.AMERICAS_CARIBBEAN),
    ("JP", "Japan Customs", Region.ASIA_PACIFIC),
    ("CN", "General Administration of Customs of China", Region.ASIA_PACIFIC),
    ("AE", "UAE Federal Customs Authority", Region.MIDDLE_EAST_NORTH_AFRICA),
]

# username, first name, last name, administration, role in DEMO-2026 (None: no group)
DEMO_USERS = [
    ("ocu", "Operational", "Coordination Unit", "BE", Role.COORDINATOR),
    ("officer.fr", "Camille", "Martin", "FR", Role.MEMBER),
    ("officer.de", "Jonas", "Weber", "DE", Role.MEMBER),
    ("officer.nl", "Sanne", "de Vries", "NL", Role.MEMBER),
    ("observer", "Partner", "Liaison Office", "ES", Role.OBSERVER),
    ("outsider", "Olivia", "Outside", "MA", None),
]

DEMO_OPERATION = "DEMO-2026"
# Planned: its page shows what CEN already holds for its focus and countries.
PLANNED_OPERATION = "DEMO-2027"
PLANNED_MEMBERS = ["officer.fr", "officer.de", "officer.nl"]

# The CEN side, in no group: a CEN analyst (the `cen.analyse` permission) and the RILO
# Western Europe, which monitors the administrations of the Europe region.
CEN_ANALYST = ("analyst", "CEN", "Analyst")
RILO_OFFICER = ("rilo.weu", "RILO", "Western Europe", Region.EUROPE)


class Command(BaseCommand):
    help = "Create (or bring up to date) the demo world. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--members", type=int, default=0, help="add N synthetic officers to DEMO-2026"
        )
        parser.add_argument(
            "--seizures",
            type=int,
            default=0,
            help="add N validated synthetic seizures to DEMO-2026",
        )
        parser.add_argument(
            "--bench",
            nargs=2,
            type=int,
            metavar=("K", "N"),
            help="also build the benchmark world: K operations BENCH-001… with N members "
            "spread over them, each with an API token",
        )
        parser.add_argument(
            "--bench-idle",
            type=int,
            default=0,
            metavar="M",
            help="with --bench: M idle members besides, in operations BENCH-IDLE-001… of 50",
        )
        parser.add_argument(
            "--bench-tokens",
            metavar="FILE",
            help="write the benchmark world's tokens as JSON {group: [token, ...]} "
            "to FILE ('-': standard output)",
        )
        parser.add_argument("--force", action="store_true", help="run even with DEBUG off")

    def handle(
        self,
        *args,
        members: int,
        seizures: int,
        force: bool,
        bench,
        bench_tokens,
        bench_idle: int = 0,
        **options,
    ):
        self._check_arguments(members=members, seizures=seizures, force=force, bench=bench)
        administrations, users, operation = self._world(members=members)
        inserted = demo_cen_history_ensure()
        if inserted:
            self.stdout.write(f"{inserted} past seizures of earlier demo operations are in CEN.")
        if demo_story_tell(operation=operation, users=users):
            self.stdout.write("The first days of the operation are in the group.")
        if seizures:
            self._synthetic_seizures(operation=operation, count=seizures)
        if bench is not None:
            world = self._bench_world(bench=bench, idle=bench_idle, tokens=bench_tokens)
        member_count = operation.group.memberships.filter(removed_at__isnull=True).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo world ready: {len(administrations)} administrations, operation "
                f"{DEMO_OPERATION} with {member_count} members."
            )
        )
        if bench is not None and bench_tokens == "-":
            # Last, on a line of its own: what a benchmark script reads.
            self.stdout.write(json.dumps(world))

    def _check_arguments(self, *, members: int, seizures: int, force: bool, bench) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates users with a known password: it refuses to run with DEBUG off. "
                "Use --force if this really is a demonstration server."
            )
        if members < 0 or seizures < 0:
            raise CommandError("--members and --seizures must be zero or more.")
        if bench is not None and (bench[0] < 1 or bench[1] < 0):
            raise CommandError("--bench needs at least one operation and zero or more members.")

    def _world(self, *, members: int) -> tuple[dict, dict, Operation]:
        """The administrations, the demo users, both operations with their members and
        the CEN side, all or nothing."""
        password_hash = make_password(settings.DEMO_PASSWORD)
        with transaction.atomic():
            administrations = self._administrations()
            users = {
                username: self._user(username, first, last, administrations[country], password_hash)
                for username, first, last, country, _role in DEMO_USERS
            }
            operation = self._operation(users["ocu"], administrations["BE"])
            # The coordinator must log in with a second factor; `manage.py demo_totp ocu`
            # shows the current code of this demo device.
            demo_device_ensure(user=users["ocu"])
            for username, *_names, role in DEMO_USERS:
                if role is not None:
                    self._ensure_member(operation, users[username], role, users["ocu"])
            planned = self._planned_operation(users["ocu"], administrations["BE"])
            for username in PLANNED_MEMBERS:
                self._ensure_member(planned, users[username], Role.MEMBER, users["ocu"])
            self._cen_side(password_hash)
            self._synthetic_members(
                operation,
                count=members,
                countries=list(administrations.values()),
                coordinator=users["ocu"],
                password_hash=password_hash,
            )
        return administrations, users, operation

    def _synthetic_members(
        self, operation, *, count, countries, coordinator, password_hash
    ) -> None:
        for number in range(1, count + 1):
            administration = countries[number % len(countries)]
            user = self._user(
                f"officer.{number:04d}",
                "Officer",
                f"{number:04d}",
                administration,
                password_hash,
            )
            self._ensure_member(operation, user, Role.MEMBER, coordinator)

    def _synthetic_seizures(self, *, operation: Operation, count: int) -> None:
        reporters = [
            User.objects.get(username=name) for name in ("officer.fr", "officer.de", "officer.nl")
        ]
        created = synthetic_seizures(
            operation=operation,
            count=count,
            reporters=reporters,
            validator=User.objects.get(username="ocu"),
        )
        self.stdout.write(f"{created} synthetic validated seizures added ({count} wanted).")

    def _bench_world(self, *, bench, idle: int, tokens) -> dict:
        """The benchmark world's tokens, written to the file ``tokens`` names if any."""
        started = time.perf_counter()
        world = bench_world_build(
            operations=bench[0],
            members=bench[1],
            coordinator=User.objects.get(username="ocu"),
            idle=idle,
        )
        self.stderr.write(
            f"Benchmark world: {bench[0]} operations, {bench[1]} members with tokens, "
            f"in {time.perf_counter() - started:.1f} s."
        )
        if tokens and tokens != "-":
            Path(tokens).write_text(json.dumps(world))
        return world

    def _administrations(self) -> dict[str, Administration]:
        result = {}
        for country, name, region in ADMINISTRATIONS:
            administration, _created = Administration.objects.update_or_create(
                country=country, defaults={"name": name, "region": region}
            )
            result[country] = administration
        return result

    def _user(self, username, first_name, last_name, administration, password_hash):
        user, _created = User.objects.update_or_create(
            username=username,
            defaults={
                "first_name": first_name,
                "last_name": last_name,
                "password": password_hash,
                "is_active": True,
                "email": f"{username}@demo.cencomm.invalid",
            },
        )
        profile_ensure(user=user, administration=administration)
        return user

    def _operation(self, coordinator, administration) -> Operation:
        operation = Operation.objects.filter(code=DEMO_OPERATION).select_related("group").first()
        if operation is None:
            today = datetime.date.today()
            operation = operation_create(
                code=DEMO_OPERATION,
                name="Joint air-passenger operation on cocaine and cash",
                commodity_focus=CommodityCategory.DRUGS,
                coordinating_administration=administration,
                planned_start=today - datetime.timedelta(days=9),
                planned_end=today + datetime.timedelta(days=19),
                created_by=coordinator,
            )
        if operation.status == Operation.Status.PLANNED:
            operation_set_status(
                operation=operation, status=Operation.Status.ACTIVE, actor=coordinator
            )
        return operation

    def _planned_operation(self, coordinator, administration) -> Operation:
        operation = Operation.objects.filter(code=PLANNED_OPERATION).select_related("group").first()
        if operation is None:
            start = datetime.date.today() + datetime.timedelta(days=45)
            operation = operation_create(
                code=PLANNED_OPERATION,
                name="Maritime and air cocaine routes into Western Europe",
                commodity_focus=CommodityCategory.DRUGS,
                coordinating_administration=administration,
                planned_start=start,
                planned_end=start + datetime.timedelta(days=30),
                created_by=coordinator,
            )
        return operation

    def _cen_side(self, password_hash) -> None:
        username, first, last = CEN_ANALYST
        analyst = self._user(username, first, last, None, password_hash)
        analyst.user_permissions.add(
            Permission.objects.get(content_type__app_label="cen", codename="analyse")
        )
        username, first, last, region = RILO_OFFICER
        rilo = self._user(username, first, last, None, password_hash)
        RiloAssignment.objects.get_or_create(user=rilo, region=region)

    def _ensure_member(self, operation, user, role, coordinator) -> None:
        membership = Membership.objects.filter(
            group=operation.group, user=user, removed_at__isnull=True
        ).first()
        if membership is None:
            membership_add(group=operation.group, user=user, role=role, added_by=coordinator)
