from django.http import HttpRequest, HttpResponse


def application_list(request: HttpRequest) -> HttpResponse:
    return HttpResponse("算力券")
