"""Sign-in backends: passwords checked by the LDAP directory, and local passwords (which a site may turn off
for people who come from a directory, keeping them for local break-glass admins)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.backends import ModelBackend

from sharehub.directory import ldap, services
from sharehub.directory.models import DirectoryAccount

logger = logging.getLogger(__name__)

UNAVAILABLE_ATTR = "sharehub_directory_unavailable"


class LocalPasswordBackend(ModelBackend):
    """Django's password check, except that with SHAREHUB_DIRECTORY_LOCAL_PASSWORDS=false a person linked to
    a directory signs in only through it; people made here (break-glass admins) keep their local password."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None or settings.DIRECTORY_LOCAL_PASSWORDS:
            return user
        if DirectoryAccount.objects.filter(user=user).exists():
            return None
        return user


class DirectoryBackend(ModelBackend):
    """The directory's password: the person is found with the user filter, their password checked by a bind
    as them, and their account made or updated with the mapping rules (sharehub.directory.services.provision).
    Sessions begun through OpenID Connect name this backend too (its get_user is Django's)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        cfg = settings.DIRECTORY_LDAP
        if cfg is None or not username or not password:
            return None
        try:
            person = ldap.find_person(cfg, username, services.rule_attributes())
            if person is None or not ldap.check_password(cfg, person.dn, password):
                return None
        except ldap.DirectoryUnavailable as error:
            logger.warning("LDAP sign-in of %r not checked: %s", username, error)
            if request is not None:
                setattr(request, UNAVAILABLE_ATTR, True)
            return None
        try:
            user = services.provision(services.identity_from_ldap(person)).user
        except services.Refused as error:
            logger.warning("LDAP sign-in of %r refused: %s", username, error)
            return None
        return user if self.user_can_authenticate(user) else None
