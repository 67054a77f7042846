"""Django admin for organization admins. Entry goes through the policy (admin.site); writes that
the services own (departments, people, roles, memberships, tokens) go through the services so that
each change lands on the event log."""

from __future__ import annotations

import contextlib
import zoneinfo

from axes.models import AccessAttempt
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, UserChangeForm
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

from sharehub.errors import ServiceError
from sharehub.events.services import record
from sharehub.org import services
from sharehub.org.models import ApiToken, Department, Membership, User
from sharehub.policy.engine import OrgAction, can


def site_permission(request) -> bool:
    """Who may enter /admin/: the policy's admin.site decision, nothing else."""
    user = request.user
    return bool(user.is_active and can(user, OrgAction.ADMIN_SITE))


admin.site.has_permission = site_permission
admin.site.site_header = _("Sharehub administration")
admin.site.site_title = _("Sharehub administration")
admin.site.index_title = _("Organization")
admin.site.site_url = "/"
# The admin's own "change password" link goes to the product page, which logs the change.
admin.site.password_change = lambda request, extra_context=None: redirect("password_change")
# Groups and per-model permissions are not used: the policy decides.
with contextlib.suppress(admin.sites.NotRegistered):
    admin.site.unregister(Group)


class PolicyPermissions:
    """Every admin permission is the policy's admin.site decision; no Django model permissions."""

    def has_module_permission(self, request):
        return site_permission(request)

    def has_view_permission(self, request, obj=None):
        return site_permission(request)

    def has_add_permission(self, request, obj=None):
        return site_permission(request)

    def has_change_permission(self, request, obj=None):
        return site_permission(request)

    def has_delete_permission(self, request, obj=None):
        return site_permission(request)


class PolicyAdmin(PolicyPermissions, admin.ModelAdmin):
    pass


class ReadOnlyAdmin(PolicyAdmin):
    """A list to look at; changes go through the product pages or services."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- memberships, written through the services ---------------------------------------------------


class MembershipInlineForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["user", "department", "role"]

    def clean(self):
        data = super().clean()
        user = data.get("user") or getattr(self.instance, "user", None)
        if user is not None and user.is_service and data.get("role") not in (None, Membership.Role.MEMBER):
            raise ValidationError(_("A service account can only be a member."))
        return data


class MembershipInline(PolicyPermissions, admin.TabularInline):
    model = Membership
    form = MembershipInlineForm
    extra = 0


class DepartmentMembershipInline(MembershipInline):
    fk_name = "department"
    fields = ["user", "role"]
    autocomplete_fields = ["user"]
    verbose_name = _("member")
    verbose_name_plural = _("members")


class UserMembershipInline(MembershipInline):
    fk_name = "user"
    fields = ["department", "role"]
    verbose_name = _("department membership")
    verbose_name_plural = _("department memberships")


def save_memberships(request, formset) -> None:
    """Apply an inline formset of memberships through set_membership/remove_membership."""
    actor = request.user
    changed = formset.save(commit=False)  # fills deleted_objects / changed_objects; writes nothing
    for obj in formset.deleted_objects:
        original = Membership.objects.filter(pk=obj.pk).select_related("user", "department").first()
        if original is not None:
            services.remove_membership(actor, original.user, original.department)
    moved = {obj.pk for obj, fields in formset.changed_objects if {"user", "department"} & set(fields)}
    for obj in changed:
        if obj.pk in moved:
            original = Membership.objects.select_related("user", "department").get(pk=obj.pk)
            services.remove_membership(actor, original.user, original.department)
        services.set_membership(actor, obj.user, obj.department, obj.role)


class MembershipFormsetMixin:
    def save_formset(self, request, form, formset, change):
        if formset.model is Membership:
            save_memberships(request, formset)
        else:
            super().save_formset(request, form, formset, change)


# --- departments -------------------------------------------------------------------------------


class DepartmentForm(forms.ModelForm):
    class Meta:
        model = Department
        fields = ["name", "code", "parent", "description"]

    def clean_code(self):
        code = (self.cleaned_data.get("code") or "").strip()
        if not services.DEPT_CODE.fullmatch(code):
            raise ValidationError(_("The code starts with a letter and has at most 20 letters, digits, - or _."))
        others = Department.objects.filter(code__iexact=code).exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError(_("A department with this code exists already."))
        return code

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        me = self.instance
        if parent is not None and me.pk and (parent.pk == me.pk or parent.path.startswith(me.path)):
            raise ValidationError(_("A department cannot move under itself or its own sub-department."))
        return parent


@admin.register(Department)
class DepartmentAdmin(MembershipFormsetMixin, PolicyAdmin):
    form = DepartmentForm
    list_display = ["indented_name", "code", "parent", "path"]
    search_fields = ["name", "code"]
    readonly_fields = ["path", "created_at"]
    fields = ["name", "code", "parent", "description", "path", "created_at"]
    inlines = [DepartmentMembershipInline]

    @admin.display(description=_("name"), ordering="path")
    def indented_name(self, obj):
        return "\u2003" * obj.depth + obj.name

    def has_delete_permission(self, request, obj=None):
        # Departments own resources and history; they are not deleted.
        return False

    def save_model(self, request, obj, form, change):
        actor = request.user
        if not change:
            created = services.create_department(
                actor,
                name=obj.name,
                code=obj.code,
                parent=obj.parent,
                description=obj.description,
            )
            for f in Department._meta.concrete_fields:
                setattr(obj, f.attname, getattr(created, f.attname))
            obj._state.adding = False
            obj._state.db = created._state.db
            return
        with transaction.atomic():
            plain = {name: form.cleaned_data[name] for name in services.DEPARTMENT_FIELDS if name in form.changed_data}
            if plain:
                services.update_department(actor, Department.objects.get(pk=obj.pk), **plain)
            if "parent" in form.changed_data:
                services.move_department(actor, Department.objects.get(pk=obj.pk), form.cleaned_data["parent"])


# --- people --------------------------------------------------------------------------------------


class PersonCreationForm(forms.ModelForm):
    password1 = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label=_("Password again"), strip=False, widget=forms.PasswordInput)

    class Meta:
        model = User
        fields = ["username", "display_name", "email", "is_org_admin", "is_auditor"]

    def clean_username(self):
        username = (self.cleaned_data.get("username") or "").strip()
        if not services.USERNAME.fullmatch(username):
            raise ValidationError(_("A username has at most 150 letters, digits or . @ + - _"))
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError(_("This username is taken."))
        return username

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1:
            probe = User(
                username=data.get("username", ""),
                email=data.get("email", ""),
                display_name=data.get("display_name", ""),
            )
            try:
                validate_password(p1, probe)
            except ValidationError as error:
                self.add_error("password1", error)
        return data


class PersonChangeForm(UserChangeForm):
    def clean_time_zone(self):
        zone = (self.cleaned_data.get("time_zone") or "").strip()
        if zone:
            try:
                zoneinfo.ZoneInfo(zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise ValidationError(_("Unknown time zone; use a name like Asia/Shanghai.")) from None
        return zone


ROLE_FIELDS = ("is_org_admin", "is_auditor")


@admin.register(User)
class UserAdmin(MembershipFormsetMixin, PolicyPermissions, DjangoUserAdmin):
    add_form = PersonCreationForm
    form = PersonChangeForm
    list_display = ["username", "display_name", "kind", "is_org_admin", "is_auditor", "is_active", "last_login"]
    list_filter = ["kind", "is_org_admin", "is_auditor", "is_active"]
    search_fields = ["username", "display_name", "email"]
    ordering = ["username"]
    readonly_fields = ["username", "kind", "service_owner", "last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Profile"), {"fields": ["display_name", "email", "time_zone", "is_active"]}),
        (_("Organization roles"), {"fields": ["kind", "service_owner", "is_org_admin", "is_auditor"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["username", "display_name", "email", "password1", "password2", "is_org_admin", "is_auditor"],
            },
        )
    ]
    filter_horizontal = []
    inlines = [UserMembershipInline]

    def has_delete_permission(self, request, obj=None):
        # People carry history (events, resources); deactivate them instead.
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change):
        actor = request.user
        if not change:
            created = services.create_person(
                actor,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                display_name=form.cleaned_data.get("display_name", ""),
                email=form.cleaned_data.get("email", ""),
                is_org_admin=form.cleaned_data.get("is_org_admin", False),
                is_auditor=form.cleaned_data.get("is_auditor", False),
            )
            for f in User._meta.concrete_fields:
                setattr(obj, f.attname, getattr(created, f.attname))
            obj._state.adding = False
            obj._state.db = created._state.db
            return
        with transaction.atomic():
            plain = {name: form.cleaned_data[name] for name in services.PROFILE_FIELDS if name in form.changed_data}
            if plain:
                services.update_person(actor, User.objects.get(pk=obj.pk), **plain)
            roles = {name: form.cleaned_data[name] for name in ROLE_FIELDS if name in form.changed_data}
            if roles:
                services.set_org_roles(actor, User.objects.get(pk=obj.pk), **roles)

    def user_change_password(self, request, id, form_url=""):
        with transaction.atomic():
            return super().user_change_password(request, id, form_url)

    def construct_change_message(self, request, form, formsets, add=False):
        if isinstance(form, AdminPasswordChangeForm):
            # The admin set someone's password: on the log, in the same transaction as the change.
            record(request.user, "person.password_set", form.user, details={"usable": form.user.has_usable_password()})
        return super().construct_change_message(request, form, formsets, add)


# --- API tokens ----------------------------------------------------------------------------------


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username", "user__display_name"]
    list_select_related = ["user"]
    readonly_fields = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    exclude = ["digest"]
    actions = ["revoke"]

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True).select_related("user"):
            try:
                services.revoke_token(request.user, token)
            except ServiceError as error:
                self.message_user(request, error.message, messages.ERROR)
                return
            count += 1
        self.message_user(request, _("%(n)s token(s) revoked.") % {"n": count}, messages.SUCCESS)


# --- sign-in pauses (django-axes) ------------------------------------------------------------------


admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class SignInPauseAdmin(ReadOnlyAdmin):
    """Failed sign-ins that django-axes counts; admins lift a pause early with the action."""

    list_display = ["username", "ip_address", "failures_since_start", "attempt_time"]
    search_fields = ["username", "ip_address"]
    fields = ["username", "ip_address", "user_agent", "failures_since_start", "attempt_time"]
    readonly_fields = fields
    actions = ["unlock"]

    @admin.action(description=_("Unlock sign-in for the selected usernames"))
    def unlock(self, request, queryset):
        usernames = sorted(set(queryset.values_list("username", flat=True)))
        for username in usernames:
            services.unlock_sign_in(request.user, username)
        self.message_user(
            request, _("Sign-in unlocked for %(names)s.") % {"names": "、".join(usernames)}, messages.SUCCESS
        )
