"""`Idempotency-Key` on API writes (IETF draft httpapi-idempotency-key-header), so that a system pushing
into Sharehub (an ERP, a CRM, a project tool) can retry after a timeout without writing twice.

A write (POST, PUT, PATCH, DELETE under /api/v1/) carrying the header runs in one transaction with the
row that keeps its answer: a successful answer (2xx) is stored and committed with the write, so a crash
leaves both or neither. A replay with the same key, method, path and body gets the stored answer
(`Idempotent-Replayed: true`) and changes nothing; the same key with another request gets 422. Two
requests with one key at once: the second waits for the first's transaction, then replays its answer.
An answer that is not a success is not kept (its transaction is rolled back), so the caller may retry.

An answer marked `Cache-Control: no-store` holds a secret shown once (a token, a webhook's signing secret),
which must never be written to the database (invariant 6): only that it succeeded is kept, and a replay gets
409 saying so instead of the secret."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

HEADER = "Idempotency-Key"
KEEP = timedelta(hours=24)
MAX_KEY = 255
WRITES = frozenset(("POST", "PUT", "PATCH", "DELETE"))
NOT_KEPT = "application/x-sharehub-secret-not-kept"  # content type of a kept answer whose body held a secret


def _error(status: int, message: str) -> JsonResponse:
    from sharehub.api import error_body

    code = {422: "invalid", 409: "conflict"}.get(status, "bad_request")
    return JsonResponse(error_body(code, message, {HEADER: message}), status=status)


def _caller(request: HttpRequest):
    authorization = request.headers.get("Authorization", "")
    if authorization[:7].lower() == "bearer ":
        from sharehub.org.services import user_for_token

        return user_for_token(authorization[7:].strip())
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.get_full_path().encode(), request.body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _replay(stored, fingerprint: str) -> HttpResponse:
    if stored.fingerprint != fingerprint:
        return _error(422, _("This Idempotency-Key was used with another request; use a new key for a new request."))
    if stored.content_type == NOT_KEPT:
        return _error(
            409,
            _(
                "The first request with this Idempotency-Key succeeded. Its answer held a secret that is shown only "
                "once and is not kept: look up what it made instead of sending it again."
            ),
        )
    response = HttpResponse(bytes(stored.body), status=stored.status, content_type=stored.content_type)
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if key is None or request.method not in WRITES or not request.path_info.startswith("/api/v1/"):
            return self.get_response(request)
        if not key or len(key) > MAX_KEY or not key.isascii() or not key.isprintable():
            return _error(400, _("An Idempotency-Key is 1 to %(n)s printable ASCII characters.") % {"n": MAX_KEY})
        caller = _caller(request)
        if caller is None:
            return self.get_response(request)  # the route answers 401
        return self._once(request, caller, key, _fingerprint(request))

    def _once(self, request: HttpRequest, caller, key: str, fingerprint: str) -> HttpResponse:
        from sharehub.org.models import IdempotencyKey

        now = timezone.now()
        IdempotencyKey.objects.filter(caller=caller, key=key, created_at__lt=now - KEEP).delete()
        stored = IdempotencyKey.objects.filter(caller=caller, key=key).first()
        if stored is not None:
            return _replay(stored, fingerprint)
        try:
            with transaction.atomic():
                placeholder = IdempotencyKey.objects.create(
                    caller=caller, key=key, fingerprint=fingerprint, status=0, content_type="", body=b"", created_at=now
                )  # held until this transaction ends: a second request with the key waits here, then replays
                response = self.get_response(request)
                if not 200 <= response.status_code < 300 or response.streaming:
                    transaction.set_rollback(True)
                    return response
                placeholder.status = response.status_code
                if "no-store" in response.get("Cache-Control", ""):
                    placeholder.content_type, placeholder.body = NOT_KEPT, b""
                else:
                    placeholder.content_type = response.get("Content-Type", "application/json")
                    placeholder.body = response.content
                placeholder.save(update_fields=["status", "content_type", "body"])
                return response
        except IntegrityError:
            stored = IdempotencyKey.objects.filter(caller=caller, key=key).first()
            if stored is None or stored.status == 0:
                raise
            return _replay(stored, fingerprint)
