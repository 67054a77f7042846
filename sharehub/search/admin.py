"""The organization's search dictionary in the Django admin. Entry is the policy's admin.site decision
(see org/admin.py); adding and removing go through `search.services`, so each change is an event
and the resources that mention the word are reindexed. A term is not edited in place: remove it
and add the new one."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from sharehub.org.admin import PolicyAdmin
from sharehub.search import services
from sharehub.search.models import SearchTerm


class SearchTermForm(forms.ModelForm):
    class Meta:
        model = SearchTerm
        fields = ["text", "note"]

    def clean_text(self):
        # The service checks this too; here it is shown on the form instead of failing the save.
        text = (self.cleaned_data.get("text") or "").strip()
        if any(c.isspace() for c in text):
            raise ValidationError(_("A term is one word of at most 40 characters, without spaces."))
        return text


@admin.register(SearchTerm)
class SearchTermAdmin(PolicyAdmin):
    form = SearchTermForm
    list_display = ["text", "note", "created_by", "created_at"]
    search_fields = ["text", "note"]
    list_select_related = ["created_by"]
    readonly_fields = ["created_by", "created_at"]

    def get_fields(self, request, obj=None):
        return ["text", "note"] if obj is None else ["text", "note", "created_by", "created_at"]

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        created = services.add_term(request.user, form.cleaned_data["text"], form.cleaned_data.get("note", ""))
        for f in SearchTerm._meta.concrete_fields:
            setattr(obj, f.attname, getattr(created, f.attname))
        obj._state.adding = False
        obj._state.db = created._state.db

    def delete_model(self, request, obj):
        services.remove_term(request.user, obj)

    def delete_queryset(self, request, queryset):
        for term in queryset:
            services.remove_term(request.user, term)
