import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from bench.api.hello.models import Row


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello", content_type="text/plain")


@csrf_exempt
def insert(request: HttpRequest) -> JsonResponse:
    text = json.loads(request.body or b"{}").get("text", "")[:200] if request.method == "POST" else ""
    row = Row.objects.create(text=text)
    return JsonResponse({"id": row.pk}, status=201)
