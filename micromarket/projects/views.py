"""Placeholder until the pages land (being written)."""

from django.http import HttpResponse


def project_list(request, **kwargs):
    return HttpResponse(status=501)


def project_create(request, **kwargs):
    return HttpResponse(status=501)


def project_detail(request, **kwargs):
    return HttpResponse(status=501)


def project_edit(request, **kwargs):
    return HttpResponse(status=501)


def project_publish(request, **kwargs):
    return HttpResponse(status=501)


def project_close(request, **kwargs):
    return HttpResponse(status=501)


def project_invite(request, **kwargs):
    return HttpResponse(status=501)


def project_uninvite(request, **kwargs):
    return HttpResponse(status=501)


def attachment_add(request, **kwargs):
    return HttpResponse(status=501)


def attachment_get(request, **kwargs):
    return HttpResponse(status=501)


def attachment_remove(request, **kwargs):
    return HttpResponse(status=501)


def task_create(request, **kwargs):
    return HttpResponse(status=501)


def fund(request, **kwargs):
    return HttpResponse(status=501)


def task_browse(request, **kwargs):
    return HttpResponse(status=501)


def task_detail(request, **kwargs):
    return HttpResponse(status=501)


def task_edit(request, **kwargs):
    return HttpResponse(status=501)


def task_close(request, **kwargs):
    return HttpResponse(status=501)


def task_reopen(request, **kwargs):
    return HttpResponse(status=501)


def task_delete(request, **kwargs):
    return HttpResponse(status=501)


def proposal_send(request, **kwargs):
    return HttpResponse(status=501)


def task_claim(request, **kwargs):
    return HttpResponse(status=501)


def proposal_withdraw(request, **kwargs):
    return HttpResponse(status=501)


def proposal_decline(request, **kwargs):
    return HttpResponse(status=501)


def proposal_award(request, **kwargs):
    return HttpResponse(status=501)


def assignment_withdraw(request, **kwargs):
    return HttpResponse(status=501)


def my_proposals(request, **kwargs):
    return HttpResponse(status=501)


def my_work(request, **kwargs):
    return HttpResponse(status=501)
