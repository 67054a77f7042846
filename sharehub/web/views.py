from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def home(request):
    return render(request, "web/home.html", {})


def not_found(request, exception=None):
    return render(request, "web/404.html", status=404)


def server_error(request):
    return render(request, "web/500.html", status=500)
