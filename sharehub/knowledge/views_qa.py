"""Pages of questions and answers (/questions/). Thin: parse, call `qa_queries` and `qa` services, render.
Unknown and private-to-others questions are 404 on every route; a service's Invalid shows the form again
with its field errors (422)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from sharehub.catalog.forms import BootstrapMixin, DepartmentChoiceField
from sharehub.catalog.markdown import render_markdown
from sharehub.catalog.models import Resource, Tag
from sharehub.catalog.views import page
from sharehub.errors import Conflict, Forbidden, Invalid
from sharehub.knowledge import qa
from sharehub.knowledge import qa_queries as queries
from sharehub.knowledge.models import Question
from sharehub.org.models import Department
from sharehub.policy.engine import Action, can, visible_departments
from sharehub.policy.knowledge import AnswerAction, QuestionAction, decide_answer, decide_question, decide_question_edit
from sharehub.validation import parse_id

PAGE_SIZE = 20
TAG_CHOICES = 200  # tags offered as the question's addressee (the most used)


def _partial(request) -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")


# --- forms --------------------------------------------------------------------------------------


class AskForm(BootstrapMixin, forms.Form):
    title = forms.CharField(
        label=gettext_lazy("Question"),
        max_length=qa.MAX_TITLE,
        help_text=gettext_lazy("One sentence; similar questions and articles are shown as you type."),
    )
    body = forms.CharField(
        label=gettext_lazy("Details"),
        required=False,
        max_length=qa.MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("Markdown. What you tried, what you need it for."),
    )
    department = DepartmentChoiceField(
        label=gettext_lazy("Ask a department"), queryset=Department.objects.none(), required=False
    )
    tag = forms.CharField(
        label=gettext_lazy("or a tag"),
        required=False,
        max_length=100,
        help_text=gettext_lazy("The stewards of the departments holding resources with this tag are told."),
    )
    resource = forms.CharField(
        label=gettext_lazy("or the steward of a resource"),
        required=False,
        max_length=64,
        help_text=gettext_lazy("The resource's code, e.g. SWJ-2025-0001."),
    )
    private = forms.BooleanField(
        label=gettext_lazy("Private"),
        required=False,
        help_text=gettext_lazy(
            "Only you, the department asked (or owning the resource), its steward and admins see a private question."
        ),
    )

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = visible_departments(user).filter(archived_at__isnull=True)
        self.fields["title"].widget.attrs.update({"autocomplete": "off", "maxlength": qa.MAX_TITLE})
        self.fields["tag"].widget.attrs.update({"list": "sh-tags", "autocomplete": "off"})
        self.style()


class EditQuestionForm(BootstrapMixin, forms.Form):
    title = forms.CharField(label=gettext_lazy("Question"), max_length=qa.MAX_TITLE)
    body = forms.CharField(
        label=gettext_lazy("Details"),
        required=False,
        max_length=qa.MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy("Markdown."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style()


class AnswerForm(BootstrapMixin, forms.Form):
    body = forms.CharField(
        label=pgettext_lazy("question page", "Your answer"),
        max_length=qa.MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("Markdown."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style()


def _service_errors(form, error: Invalid) -> None:
    form.add_service_errors(error.fields or {None: error.message})


# --- the list -----------------------------------------------------------------------------------


@page
def question_list(request):
    user = request.user
    tab = request.GET.get("tab", "all")
    tab = tab if tab in queries.TABS else "all"
    filters = queries.QuestionFilters(
        tab=tab,
        department=parse_id(request.GET.get("department", "")),
        tag=request.GET.get("tag", "").strip()[:100],
        text=request.GET.get("q", "").strip()[: queries.MAX_QUERY],
    )
    rows, counts = queries.list_questions(user, filters)
    paginator = Paginator(rows, PAGE_SIZE)
    paginator.count = counts[tab]  # counted with the tabs: no COUNT of its own
    page_obj = paginator.get_page(request.GET.get("page"))
    context = {
        "page_obj": page_obj,
        "questions": queries.rows_with_resources(user, list(page_obj.object_list)),
        "tabs": [{"name": name, "label": label, "count": counts[name]} for name, label in queries.TABS.items()],
        "tab": tab,
        "filters": filters,
        "departments": list(visible_departments(user).filter(archived_at__isnull=True).only("pk", "name", "path")),
    }
    response = render(request, "knowledge/qa/list.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- asking -------------------------------------------------------------------------------------


def _ask_page(request, form, status=200):
    tags = Tag.objects.order_by("name").values_list("name", flat=True)[:TAG_CHOICES]
    return render(request, "knowledge/qa/ask.html", {"form": form, "tags": list(tags)}, status=status)


@page
def ask(request):
    user = request.user
    if request.method != "POST":
        initial = {}
        wanted = parse_id(request.GET.get("department", ""))
        if wanted:
            initial["department"] = wanted
        for name in ("tag", "resource", "title"):
            if request.GET.get(name):
                initial[name] = request.GET[name][:200]
        return _ask_page(request, AskForm(user, initial=initial))
    form = AskForm(user, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            question = qa.ask_question(
                user,
                title=data["title"],
                body=data["body"],
                department=data["department"],
                tag=data["tag"],
                resource=data["resource"],
                private=data["private"],
            )
        except Invalid as error:
            _service_errors(form, error)
        else:
            messages.success(request, _("Your question was sent."))
            return redirect("knowledge:question", pk=question.pk)
    form.style()
    return _ask_page(request, form, status=422)


@require_GET
@page
def similar(request):
    """As the title is typed (htmx): questions and articles the asker may see that look alike."""
    exclude = parse_id(request.GET.get("exclude", ""))
    questions, articles = queries.similar(request.user, request.GET.get("title", ""), exclude=exclude)
    return render(request, "knowledge/qa/_similar.html", {"questions": questions, "articles": articles})


# --- one question -------------------------------------------------------------------------------


def _detail(request, question: Question, *, answer_form=None, status=200):
    user = request.user
    answers = queries.answers_of(user, question)
    accepted = next((a for a in answers if a.pk == question.accepted_answer_id), None)
    article = queries.article_of(user, accepted)
    open_ = question.status != Question.Status.CLOSED
    for answer in answers:
        answer.body_html = render_markdown(answer.body)
        answer.can_edit = bool(decide_answer(user, AnswerAction.EDIT, answer))
        answer.can_vote = bool(decide_answer(user, AnswerAction.VOTE, answer))
        answer.can_article = article is None and bool(decide_answer(user, AnswerAction.TO_ARTICLE, answer))
    context = {
        "question": question,
        "body_html": render_markdown(question.body),
        "resource": queries.shown_resource(user, question),
        "answers": answers,
        "article": article,
        "can_answer": bool(decide_question(user, QuestionAction.ANSWER, question)),
        "can_accept": open_ and bool(decide_question(user, QuestionAction.ACCEPT, question)),
        "can_close": open_ and bool(decide_question(user, QuestionAction.CLOSE, question)),
        "can_edit": bool(decide_question_edit(user, question)),
        "answer_form": answer_form or AnswerForm(),
        "see": decide_question(user, QuestionAction.SEE, question),
    }
    return render(request, "knowledge/qa/detail.html", context, status=status)


@page
def question_detail(request, pk):
    return _detail(request, queries.access_question(request.user, pk))


@page
def question_edit(request, pk):
    question = queries.access_question(request.user, pk)
    decision = decide_question_edit(request.user, question)
    if not decision:
        raise Forbidden(decision.message)
    status = 200
    if request.method == "POST":
        form = EditQuestionForm(request.POST)
        status = 422
        if form.is_valid():
            try:
                qa.edit_question(request.user, question, **form.cleaned_data)
            except Invalid as error:
                _service_errors(form, error)
            else:
                messages.success(request, _("Question saved."))
                return redirect("knowledge:question", pk=question.pk)
            form.style()
    else:
        form = EditQuestionForm(initial={"title": question.title, "body": question.body})
    return render(request, "knowledge/qa/edit.html", {"form": form, "question": question}, status=status)


@require_POST
@page
def answer(request, pk):
    question = queries.access_question(request.user, pk)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            answer = qa.answer_question(request.user, question, form.cleaned_data["body"])
        except Invalid as error:
            _service_errors(form, error)
        else:
            messages.success(request, _("Your answer was posted; the asker is told."))
            return redirect(reverse("knowledge:question", args=[question.pk]) + f"#answer-{answer.pk}")
    form.style()
    return _detail(request, question, answer_form=form, status=422)


@page
def answer_edit(request, pk, aid):
    question = queries.access_question(request.user, pk)
    answer = queries.access_answer(request.user, question, aid)
    decision = decide_answer(request.user, AnswerAction.EDIT, answer)
    if not decision:
        raise Forbidden(decision.message)
    status = 200
    if request.method == "POST":
        form = AnswerForm(request.POST)
        status = 422
        if form.is_valid():
            try:
                qa.edit_answer(request.user, answer, form.cleaned_data["body"])
            except Invalid as error:
                _service_errors(form, error)
            else:
                messages.success(request, _("Answer saved."))
                return redirect(reverse("knowledge:question", args=[question.pk]) + f"#answer-{answer.pk}")
            form.style()
    else:
        form = AnswerForm(initial={"body": answer.body})
    context = {"form": form, "question": question, "answer": answer}
    return render(request, "knowledge/qa/answer_edit.html", context, status=status)


def _back(question: Question, answer=None):
    url = reverse("knowledge:question", args=[question.pk])
    return redirect(url + (f"#answer-{answer.pk}" if answer is not None else ""))


@require_POST
@page
def vote(request, pk, aid):
    question = queries.access_question(request.user, pk)
    answer = queries.access_answer(request.user, question, aid)
    raw = request.POST.get("value", "")
    value = {"1": 1, "-1": -1, "0": 0}.get(raw)
    if value is None:
        raise Invalid(fields={"value": _("Vote 1 (up), -1 (down) or 0 (take your vote back).")})
    answer.score = qa.vote(request.user, answer, value)
    if _partial(request):
        answer.my_vote = value
        answer.can_vote = True
        return render(request, "knowledge/qa/_votes.html", {"a": answer, "question": question})
    return _back(question, answer)


@require_POST
@page
def accept(request, pk, aid):
    question = queries.access_question(request.user, pk, QuestionAction.ACCEPT)
    answer = queries.access_answer(request.user, question, aid)
    try:
        qa.accept_answer(request.user, answer)
    except Conflict as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Answer accepted; its author is told."))
    return _back(question, answer)


@require_POST
@page
def close(request, pk):
    question = queries.access_question(request.user, pk, QuestionAction.CLOSE)
    try:
        qa.close_question(request.user, question, request.POST.get("reason", ""))
    except Conflict as error:
        messages.error(request, str(error.message))
    except Invalid as error:
        messages.error(request, " ".join(str(m) for m in error.fields.values()) or str(error.message))
    else:
        messages.success(request, _("Question closed."))
    return _back(question)


@require_POST
@page
def to_article(request, pk, aid):
    question = queries.access_question(request.user, pk)
    answer = queries.access_answer(request.user, question, aid)
    try:
        article = qa.to_article(request.user, answer)
    except (Conflict, Invalid) as error:
        messages.error(request, " ".join(str(m) for m in error.fields.values()) or str(error.message))
        return _back(question, answer)
    resource: Resource = article.resource
    if resource.status == Resource.Status.PUBLISHED:
        messages.success(request, _("The answer is now the article %(code)s.") % {"code": resource.code})
    else:
        messages.success(
            request, _("The answer is now the draft article %(code)s; publish it when ready.") % {"code": resource.code}
        )
    if can(request.user, Action.VIEW, resource):
        return redirect("catalog:detail", ident=resource.code)
    return _back(question, answer)
