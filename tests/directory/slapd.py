"""A real OpenLDAP server (Debian's slapd) for the directory tests: its own folder, a free port on loopback, a
generated directory loaded before it starts, stopped when the test ends.

The directory: dc=example,dc=org with three departments as OUs under ou=people, 50 people (uid p01..p50,
password "pw-p01"...; departmentNumber names their department in Chinese), and groups under ou=groups:
cn=tax-stewards (p01, p02), cn=hr-heads (p11), cn=staff (everyone). Sharehub binds as
cn=sharehub,dc=example,dc=org (anonymous reads are refused). One answer holds at most 20 entries, so a
search of everyone works only page by page.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import ldap3

SLAPD = Path(os.environ.get("SHAREHUB_SLAPD", "/usr/sbin/slapd"))
SLAPADD = SLAPD.with_name("slapadd")
SUFFIX = "dc=example,dc=org"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "root-secret"
BIND_DN = f"cn=sharehub,{SUFFIX}"
BIND_PASSWORD = "sharehub-secret"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
DEPARTMENTS = {"tax": "税务局", "hr": "人力资源和社会保障局", "health": "卫生健康委员会"}
SCHEMAS = ("core", "cosine", "inetorgperson", "nis")


def available() -> bool:
    return SLAPD.is_file() and SLAPADD.is_file() and Path("/etc/ldap/schema/core.schema").is_file()


def group_dn(name: str) -> str:
    return f"cn={name},{GROUPS}"


def person_dn(uid: str, department: str) -> str:
    return f"uid={uid},ou={department},{PEOPLE}"


def password_of(uid: str) -> str:
    return f"pw-{uid}"


def _value(name: str, value: str) -> str:
    if value.isascii():
        return f"{name}: {value}"
    return f"{name}:: {base64.b64encode(value.encode()).decode()}"


def _entry(dn: str, **attributes) -> str:
    lines = [_value("dn", dn)]
    for name, values in attributes.items():
        for value in values if isinstance(values, list) else [values]:
            lines.append(_value(name, value))
    return "\n".join(lines)


def department_of(n: int) -> str:
    """p01-p10 tax, p11-p30 hr, p31-p50 health."""
    return "tax" if n <= 10 else "hr" if n <= 30 else "health"


def people() -> dict[str, str]:
    """uid -> department key."""
    return {f"p{n:02d}": department_of(n) for n in range(1, 51)}


def ldif() -> str:
    entries = [
        _entry(SUFFIX, objectClass=["dcObject", "organization"], o="Example", dc="example"),
        _entry(
            BIND_DN,
            objectClass=["organizationalRole", "simpleSecurityObject"],
            cn="sharehub",
            userPassword=BIND_PASSWORD,
        ),
        _entry(PEOPLE, objectClass="organizationalUnit", ou="people"),
        _entry(GROUPS, objectClass="organizationalUnit", ou="groups"),
    ]
    for key in DEPARTMENTS:
        entries.append(_entry(f"ou={key},{PEOPLE}", objectClass="organizationalUnit", ou=key))
    members = people()
    for uid, key in members.items():
        n = int(uid[1:])
        entries.append(
            _entry(
                person_dn(uid, key),
                objectClass="inetOrgPerson",
                uid=uid,
                cn=f"职员{n:02d}",
                sn=f"姓{n:02d}",
                displayName=f"职员{n:02d}",
                mail=f"{uid}@example.org",
                departmentNumber=DEPARTMENTS[key],
                userPassword=password_of(uid),
            )
        )
    groups = {
        "tax-stewards": ["p01", "p02"],
        "hr-heads": ["p11"],
        "staff": list(members),
    }
    for name, uids in groups.items():
        entries.append(
            _entry(
                group_dn(name),
                objectClass="groupOfNames",
                cn=name,
                member=[person_dn(uid, members[uid]) for uid in uids],
            )
        )
    return "\n\n".join(entries) + "\n"


def _config(folder: Path) -> str:
    includes = "\n".join(f"include /etc/ldap/schema/{name}.schema" for name in SCHEMAS)
    return f"""{includes}
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {folder}/slapd.pid
sizelimit size.soft=20 size.hard=20 size.pr=20 size.prtotal=unlimited
database mdb
maxsize 104857600
suffix "{SUFFIX}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PASSWORD}
directory {folder}/db
index objectClass,uid,member eq
access to attrs=userPassword by self read by anonymous auth by * none
access to * by users read by * none
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Slapd:
    folder: Path
    port: int = 0
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    def start(self) -> Slapd:
        (self.folder / "db").mkdir(parents=True, exist_ok=True)
        conf = self.folder / "slapd.conf"
        if not conf.exists():
            conf.write_text(_config(self.folder))
            (self.folder / "data.ldif").write_text(ldif(), encoding="utf-8")
            subprocess.run([SLAPADD, "-f", conf, "-l", self.folder / "data.ldif"], check=True, capture_output=True)
        self.port = self.port or _free_port()
        # -d 0: stay in the foreground (a child of the test, ended with it) without debug output
        self.process = subprocess.Popen(
            [SLAPD, "-d", "0", "-f", conf, "-h", self.url + "/"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"slapd ended at start: {self.process.stderr.read().decode(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("slapd did not answer within 15 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    # --- changes, as the IT department would make them ---

    def _admin(self) -> ldap3.Connection:
        return ldap3.Connection(self.url, user=ROOT_DN, password=ROOT_PASSWORD, auto_bind=True)

    def delete_person(self, uid: str) -> None:
        dn = person_dn(uid, people()[uid])
        with self._admin() as conn:
            for name in ("tax-stewards", "hr-heads", "staff"):
                conn.modify(group_dn(name), {"member": [(ldap3.MODIFY_DELETE, [dn])]})
            assert conn.delete(dn), conn.result

    def set_groups(self, uid: str, *, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()) -> None:
        dn = person_dn(uid, people()[uid])
        with self._admin() as conn:
            for name in add:
                assert conn.modify(group_dn(name), {"member": [(ldap3.MODIFY_ADD, [dn])]}), conn.result
            for name in remove:
                assert conn.modify(group_dn(name), {"member": [(ldap3.MODIFY_DELETE, [dn])]}), conn.result

    def set_attribute(self, uid: str, name: str, value: str) -> None:
        with self._admin() as conn:
            dn = person_dn(uid, people()[uid])
            assert conn.modify(dn, {name: [(ldap3.MODIFY_REPLACE, [value])]}), conn.result
