"""Pages of the knowledge base: the home, a department's space with its page tree, an article, the article
form, and what the editor calls (server-rendered preview, image upload). Thin: parse, call the services and the
policy-filtered reads of `sharehub.knowledge.articles`, render.

The catalog's page of an article links to the article page (a panel at the top); versions, diffs, sharing and
attachments stay the catalog's pages."""

from __future__ import annotations

import json
import re

import filetype
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from sharehub.catalog import panels, queries
from sharehub.catalog import services as catalog
from sharehub.catalog.forms import BootstrapMixin, DepartmentChoiceField, SharingFieldsMixin
from sharehub.catalog.markdown import render_markdown
from sharehub.catalog.models import Resource
from sharehub.catalog.views import page
from sharehub.errors import Forbidden, Invalid, NotFound, ServiceError, TooLarge
from sharehub.knowledge import articles
from sharehub.knowledge.models import Article
from sharehub.policy.engine import Action, can, context_for, creatable_departments, visible_departments
from sharehub.validation import parse_id

MAX_IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
MAX_CITE_CODES = 500  # characters of the "add by code" field


# --- the form ----------------------------------------------------------------------------------------------


class ArticleForm(SharingFieldsMixin, BootstrapMixin, forms.Form):
    """New article (department, template) or edit (content; sharing only for those who manage it)."""

    def __init__(self, user, *args, article: Article | None = None, with_sharing: bool = True, **kwargs):
        self.user = user
        self.article = article
        self.with_sharing = with_sharing
        super().__init__(*args, **kwargs)
        if article is None:
            self.fields["owner_department"] = DepartmentChoiceField(
                label=_("Department space"), queryset=creatable_departments(user), empty_label=None
            )
            self.fields["template"] = forms.ChoiceField(
                label=_("Template"),
                choices=Article.Template.choices,
                initial=Article.Template.BLANK,
                required=False,
                widget=forms.Select(attrs={"data-template-bodies": "template-bodies"}),
            )
            department_ids = list(creatable_departments(user).values_list("pk", flat=True))
        else:
            department_ids = [article.resource.owner_department_id]
        self.fields["title"] = forms.CharField(label=_("Title"), max_length=200)
        self.fields["summary"] = forms.CharField(
            label=_("Summary"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
        )
        self.fields["body"] = forms.CharField(
            label=_("Body"),
            required=False,
            strip=False,
            widget=forms.Textarea(attrs={"rows": 16}),
            help_text=_("Markdown: # heading, **bold**, - list, [text](https://…), tables."),
        )
        self.fields["parent"] = forms.ChoiceField(
            label=_("Parent page"), required=False, choices=self._parents(department_ids)
        )
        self.fields["tags"] = forms.CharField(
            label=_("Tags"), required=False, help_text=_("Separated by commas, e.g. 社保, 税务, 2025")
        )
        if with_sharing:
            self.add_sharing_fields()
        if article is not None:
            self.fields["note"] = forms.CharField(
                label=_("Change note"),
                required=False,
                max_length=300,
                help_text=_("What changed and why; shown in the version history."),
            )
        self.style()

    def _parents(self, department_ids) -> list[tuple[str, str]]:
        """The pages of the space(s) the actor may see, indented by depth; the article itself and its sub-pages
        are left out (they cannot be its parent)."""
        choices = [("", _("(top of the space)"))]
        several = len(department_ids) > 1
        skip = self.article.pk if self.article is not None else None

        def walk(nodes, depth):
            for node in nodes:
                article = node["article"]
                if article.pk == skip:
                    continue
                prefix = f"{article.resource.owner_department.name} / " if several else ""
                choices.append((str(article.pk), "\u3000" * depth + prefix + article.resource.title))
                walk(node["children"], depth + 1)

        for department_id in department_ids:
            walk(articles.tree_of(self.user, department_id), 0)
        return choices

    def values(self) -> dict:
        data = self.cleaned_data
        values = {
            "title": data["title"],
            "summary": data["summary"],
            "body": data["body"],
            "tags": data["tags"],
        }
        if self.with_sharing:
            values.update(self.sharing_values())
        return values


def _initial(article: Article, with_sharing: bool) -> dict:
    resource = article.resource
    initial = {
        "title": resource.title,
        "summary": resource.summary,
        "body": resource.body,
        "tags": ", ".join(t.name for t in resource.tags.all()),
        "parent": str(article.parent_id or ""),
    }
    if with_sharing:
        initial.update(SharingFieldsMixin.sharing_initial(resource))
    return initial


def _editor_texts() -> dict:
    return {
        "heading": _("Heading"),
        "bold": _("Bold"),
        "italic": _("Italic"),
        "list": _("List"),
        "numbered": _("Numbered list"),
        "quote": _("Quote"),
        "code": _("Code"),
        "table": _("Table"),
        "link": _("Link"),
        "image": _("Insert an image"),
        "preview": _("Preview"),
        "side": _("Side by side"),
        "guide": _("Markdown help"),
        "loading": _("Loading…"),
        "previewFailed": _("The preview could not be loaded."),
        "uploadFailed": _("The image could not be uploaded."),
        "uploaded": _("Image uploaded."),
        "sbInit": _("Paste or drop an image to add it."),
        "sbOnDragEnter": _("Drop the image to upload it."),
        "sbOnDrop": _("Uploading #images_names#…"),
        "sbProgress": _("Uploading #file_name#: #progress#%"),
        "sbOnUploaded": _("Uploaded #image_name#"),
        "noFileGiven": _("Choose a file."),
        "typeNotAllowed": _("Only PNG, JPEG, GIF and WebP images can be pasted."),
        "fileTooLarge": _("The image #image_name# is too large (#image_size#); at most #image_max_size#."),
        "importError": _("The image #image_name# could not be uploaded."),
    }


def _citation_ids(request) -> list:
    """The resources chosen in the citations picker (ticked ids) and typed by code (the no-script way)."""
    chosen = [parse_id(v) for v in request.POST.getlist("citations")[: articles.MAX_CITATIONS + 1]]
    if any(pk is None for pk in chosen):
        raise Invalid(fields={"citations": _("Citations must be a list of resource ids.")})
    codes = (request.POST.get("cite_codes") or "")[:MAX_CITE_CODES]
    typed = [c for c in re.split(r"[\s,，;；]+", codes) if c]
    found = articles.resources_by_codes(request.user, typed)
    if len(found) != len(set(typed)):
        known = {r.code for r in found}
        missing = ", ".join(c for c in typed if c not in known)[:200]
        raise Invalid(fields={"citations": _("No resource you may see has the code: %(codes)s.") % {"codes": missing}})
    return [*chosen, *(r.pk for r in found)]


def _form_page(request, form, *, article=None, cited=(), status=200):
    departments_publishable = []
    if article is None:
        departments_publishable = sorted(
            queries.publishable_department_ids(request.user, list(creatable_departments(request.user)))
        )
    template_bodies = {value: articles.skeleton(value) for value in Article.Template.values}
    context = {
        "form": form,
        "article": article,
        "resource": article.resource if article is not None else None,
        "cited": list(cited),
        "can_publish": bool(can(request.user, Action.MANAGE, article.resource))
        if article is not None
        else bool(departments_publishable),
        "editor_texts_json": json.dumps(_editor_texts(), ensure_ascii=False),
        "template_bodies": template_bodies,
        "max_image_bytes": MAX_IMAGE_BYTES,
        "publishable": departments_publishable,
    }
    return render(request, "knowledge/articles/form.html", context, status=status)


# --- pages -------------------------------------------------------------------------------------------------


@page
def home(request):
    user = request.user
    counts = articles.space_counts(user)
    writable = set(creatable_departments(user).values_list("pk", flat=True))
    mine = context_for(user).department_ids  # "yours" marks the person's own departments, not all an admin may write
    spaces = [
        {"department": d, "count": counts.get(d.pk, 0), "mine": d.pk in mine}
        for d in visible_departments(user).filter(archived_at__isnull=True).order_by("name")
        if counts.get(d.pk) or d.pk in writable
    ]
    spaces.sort(key=lambda s: (not s["mine"], -s["count"], s["department"].name))
    context = {
        "spaces": spaces,
        "recent": list(articles.recent_articles(user)),
        "helpful": list(articles.most_helpful(user)),
        "can_write": bool(writable),
    }
    return render(request, "knowledge/articles/home.html", context)


@page
def space(request, department_id):
    department = visible_departments(request.user).filter(pk=department_id).first()
    if department is None:
        raise NotFound()
    tree = articles.tree_of(request.user, department.pk)
    context = {
        "department": department,
        "tree": tree,
        "count": _count(tree),
        "can_write": bool(can(request.user, "create", department)) and department.archived_at is None,
    }
    return render(request, "knowledge/articles/space.html", context)


def _count(nodes) -> int:
    return sum(1 + _count(n["children"]) for n in nodes)


@page
def article_detail(request, code):
    user = request.user
    article = articles.access_article(user, code)
    resource = article.resource
    read = can(user, Action.READ, resource)
    context = {
        "article": article,
        "resource": resource,
        "read": read,
        "can_edit": bool(can(user, Action.EDIT, resource)),
        "can_manage": bool(can(user, Action.MANAGE, resource)),
        "crumbs": articles.breadcrumbs(user, article),
        "children": list(articles.children_of(user, article)),
        "cited_by": list(articles.cited_by(user, resource)),
        "tags": list(resource.tags.all()),
        "scope_departments": list(resource.scope_departments.all()),
    }
    if read:
        context["body_html"] = render_markdown(resource.body)
        context["attachments"] = list(queries.attachments_of(resource))
        context["cites"] = list(articles.cites_of(user, article))
        catalog.note_content_read(user, [resource], via="page")
    if context["can_edit"]:
        context["review"] = queries.latest_review(resource)
    return render(request, "knowledge/articles/detail.html", context)


@page
def article_new(request):
    user = request.user
    departments = list(creatable_departments(user))
    if not departments:
        raise Forbidden(_("You belong to no department, so there is no space to write in."))
    if request.method != "POST":
        template = request.GET.get("template", "")
        template = template if template in Article.Template.values else Article.Template.BLANK
        initial = {"sharing_type": Resource.SharingType.OPEN, "template": template, "body": articles.skeleton(template)}
        wanted = parse_id(request.GET.get("department", ""))
        if wanted in {d.pk for d in departments}:
            initial["owner_department"] = wanted
        parent = parse_id(request.GET.get("parent", ""))
        if parent is not None:
            initial["parent"] = str(parent)
        return _form_page(request, ArticleForm(user, initial=initial))
    form = ArticleForm(user, request.POST)
    status = 422
    if form.is_valid():
        publish = request.POST.get("action") == "publish"
        try:
            article = articles.create_article(
                user,
                department=form.cleaned_data["owner_department"],
                parent=form.cleaned_data["parent"] or None,
                template=form.cleaned_data.get("template") or Article.Template.BLANK,
                publish=publish,
                citations=_citation_ids(request),
                **form.values(),
            )
        except Invalid as error:
            form.add_service_errors(error.fields or {None: error.message})
        except Forbidden as error:
            form.add_error(None, str(error.message))
            status = 403
        else:
            code = article.resource.code
            if publish:
                messages.success(request, _("Published %(code)s.") % {"code": code})
                return redirect("knowledge:article", code=code)
            messages.success(
                request, _("Saved %(code)s as a draft. You can now paste images into it.") % {"code": code}
            )
            return redirect("knowledge:article-edit", code=code)
    form.style()
    return _form_page(request, form, status=status)


@page
def article_edit(request, code):
    user = request.user
    article = articles.access_article(user, code, Action.EDIT)
    resource = article.resource
    with_sharing = bool(can(user, Action.MANAGE, resource))
    cited = list(articles.cites_of(user, article))
    if request.method != "POST":
        form = ArticleForm(user, article=article, with_sharing=with_sharing, initial=_initial(article, with_sharing))
        return _form_page(request, form, article=article, cited=cited)
    form = ArticleForm(user, request.POST, article=article, with_sharing=with_sharing)
    status = 422
    if form.is_valid():
        changes = form.values()
        parent = parse_id(form.cleaned_data["parent"] or "")
        if parent != article.parent_id:
            changes["parent"] = parent
        try:
            changes["citations"] = _citation_ids(request)
            article = articles.update_article(user, article, changes, note=form.cleaned_data.get("note", ""))
            if request.POST.get("action") == "publish" and article.resource.status == Resource.Status.DRAFT:
                catalog.transition(user, article.resource, "publish")
        except Invalid as error:
            form.add_service_errors(error.fields or {None: error.message})
        except Forbidden as error:
            form.add_error(None, str(error.message))
            status = 403
        else:
            messages.success(request, _("Saved %(code)s.") % {"code": resource.code})
            return redirect("knowledge:article", code=resource.code)
    form.style()
    return _form_page(request, form, article=article, cited=cited, status=status)


@require_POST
@page
def article_publish(request, code):
    article = articles.access_article(request.user, code, Action.MANAGE)
    try:
        catalog.transition(request.user, article.resource, "publish")
    except Invalid as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Published %(code)s.") % {"code": article.resource.code})
    return redirect("knowledge:article", code=article.resource.code)


@require_POST
@page
def article_submit(request, code):
    article = articles.access_article(request.user, code, Action.EDIT)
    try:
        catalog.submit_for_review(request.user, article.resource, request.POST.get("note", ""))
    except ServiceError as error:
        messages.error(request, " ".join(str(m) for m in error.fields.values()) or str(error.message))
    else:
        messages.success(request, _("Submitted %(code)s for review.") % {"code": article.resource.code})
    return redirect("knowledge:article", code=article.resource.code)


# --- what the editor and the citations picker call ---------------------------------------------------------


def _json_error(status: int, code: str, message, fields=None) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": code, "message": str(message), "fields": {k: str(v) for k, v in (fields or {}).items()}}},
        status=status,
    )


@require_POST
@login_required
def image_upload(request, code):
    """An image pasted or dropped into the editor: stored as an attachment of the article (PNG, JPEG, GIF or
    WebP by their content, at most MAX_IMAGE_BYTES); answers its address for the Markdown."""
    try:
        article = articles.access_article(request.user, code, Action.EDIT)
    except NotFound:
        return _json_error(404, "not_found", _("Not found."))
    except Forbidden as error:
        return _json_error(403, "forbidden", error.message)
    upload = request.FILES.get("file")
    if upload is None:
        return _json_error(422, "invalid", _("Choose a file."), {"file": _("Choose a file.")})
    if upload.size > MAX_IMAGE_BYTES:
        message = _("An image has at most %(n)s MB.") % {"n": MAX_IMAGE_BYTES // (1024 * 1024)}
        return _json_error(413, "too_large", message, {"file": message})
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is None or kind.mime not in IMAGE_TYPES:
        message = _("Only PNG, JPEG, GIF and WebP images can be pasted; attach other files on the resource page.")
        return _json_error(422, "invalid", message, {"file": message})
    name = upload.name or f"image.{kind.extension}"
    try:
        attachment = catalog.add_attachment(request.user, article.resource, name, upload.chunks())
    except TooLarge as error:
        return _json_error(413, "too_large", error.message)
    except Invalid as error:
        return _json_error(422, "invalid", error.message, error.fields)
    except Forbidden as error:
        return _json_error(403, "forbidden", error.message)
    url = reverse("catalog:attachment", kwargs={"ident": article.resource.code, "aid": attachment.pk})
    return JsonResponse({"url": url, "name": attachment.filename, "id": attachment.pk}, status=201)


@require_POST
@login_required
def preview(request):
    """The editor's preview, rendered and cleaned by the server exactly as the article page will show it."""
    body = request.POST.get("body", "")
    if len(body) > catalog.MAX_BODY_CHARS:
        return HttpResponse(_("The text is too long to preview."), status=413, content_type="text/plain")
    return HttpResponse(render_markdown(body.replace("\x00", "")), content_type="text/html; charset=utf-8")


@require_GET
@page
def cite_search(request):
    """Search-as-you-type of the citations picker (htmx): resources and datasets the user may see."""
    found = list(articles.citable(request.user, request.GET.get("q", "")))
    return render(request, "knowledge/articles/_cite_results.html", {"found": found, "q": request.GET.get("q", "")})


# --- catalog page panels -----------------------------------------------------------------------------------


def _article_link_panel(request, resource, read) -> str:
    """On the catalog page of an article: a link to its page in the knowledge base (no query)."""
    if resource.kind != Resource.Kind.ARTICLE:
        return ""
    return render_to_string("knowledge/articles/_catalog_link.html", {"resource": resource}, request=request)


def _cited_by_panel(request, resource, read) -> str:
    """On every cited resource's catalog page: the articles citing it that the reader may see (one query)."""
    citing = list(articles.cited_by(request.user, resource)[:20])
    if not citing:
        return ""
    return render_to_string("knowledge/articles/_cited_by.html", {"citing": citing}, request=request)


def register_panels() -> None:
    panels.register(_article_link_panel, order=1, column="main")
    panels.register(_cited_by_panel, order=20, column="side")
