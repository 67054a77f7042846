"""Django admin, for superusers who are organization admins (the policy's admin.site decision; other admins
use the console under /manage/). Writes that the services own (departments, people, roles, memberships,
tokens) go through the services so that each change lands on the event log."""

from __future__ import annotations

import contextlib
import zoneinfo

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, SetUnusablePasswordMixin, UserChangeForm
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.utils.html import format_html
from django.utils.translation import gettext
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

    def clean(self):
        data = super().clean()
        admin_role = data.get("is_org_admin", self.instance.is_org_admin)
        if data.get("is_superuser") and (self.instance.is_service or not admin_role):
            self.add_error("is_superuser", _("Only an organization admin can be a superuser."))
        return data


class PersonPasswordForm(AdminPasswordChangeForm):
    """Django's form, with its warning in the user's language: Django appends it to the help text untranslated."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "usable_password" in self.fields:
            self.fields["usable_password"].help_text = format_html(
                '{}<ul id="id_unusable_warning" class="messagelist"><li class="warning">{}</li></ul>',
                SetUnusablePasswordMixin.usable_password_help_text,
                gettext("If disabled, the current password for this user will be lost."),
            )


ROLE_FIELDS = ("is_org_admin", "is_auditor")


@admin.register(User)
class UserAdmin(MembershipFormsetMixin, PolicyPermissions, DjangoUserAdmin):
    add_form = PersonCreationForm
    form = PersonChangeForm
    change_password_form = PersonPasswordForm
    list_display = ["username", "display_name", "kind", "is_org_admin", "is_auditor", "is_active", "last_login"]
    list_filter = ["kind", "is_org_admin", "is_auditor", "is_active"]
    search_fields = ["username", "display_name", "email"]
    ordering = ["username"]
    readonly_fields = ["username", "kind", "service_owner", "last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Profile"), {"fields": ["display_name", "email", "time_zone", "is_active"]}),
        (_("Organization roles"), {"fields": ["kind", "service_owner", "is_org_admin", "is_auditor", "is_superuser"]}),
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
            if "is_superuser" in form.changed_data:
                services.set_superuser(actor, User.objects.get(pk=obj.pk), form.cleaned_data["is_superuser"])

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
    list_display = ["name", "user", "token_prefix", "created", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username", "user__display_name"]
    list_select_related = ["user"]
    fields = ["user", "name", "token_prefix", "scopes", "created", "expires_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    # The fields without a verbose name of their own, labelled here (a verbose name would be a migration).
    @admin.display(description=_("token prefix"), ordering="prefix")
    def token_prefix(self, obj):
        return obj.prefix

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, obj):
        return obj.created_at

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


# django-axes names its app by its label ("Axes") and its rows in English (breadcrumbs and titles show them); here
# they read in the user's language. Only how they print changes: no field, so no migration.
apps.get_app_config("axes").verbose_name = _("Sign-in protection")
AccessAttempt.__str__ = lambda self: (
    gettext("Failed sign-ins of %(username)s from %(address)s")
    % {
        "username": self.username,
        "address": self.ip_address,
    }
)
AccessLog.__str__ = lambda self: (
    gettext("Sign-in of %(username)s from %(address)s")
    % {
        "username": self.username,
        "address": self.ip_address,
    }
)
AccessFailureLog.__str__ = lambda self: (
    gettext("Failed sign-in of %(username)s from %(address)s")
    % {
        "username": self.username,
        "address": self.ip_address,
    }
)
for model in (AccessAttempt, AccessLog, AccessFailureLog):
    with contextlib.suppress(admin.sites.NotRegistered):
        admin.site.unregister(model)


@admin.register(AccessAttempt)
class SignInPauseAdmin(ReadOnlyAdmin):
    """Failed sign-ins that django-axes counts; admins lift a pause early with the action (or on the console's
    sign-in page, /manage/sign-ins/)."""

    list_display = ["username", "ip_address", "failures_since_start", "attempt_time"]
    search_fields = ["username", "ip_address"]
    fields = ["username", "ip_address", "user_agent", "failures_since_start", "attempt_time"]
    readonly_fields = fields
    actions = ["unlock"]

    def action_checkbox(self, obj):
        # Django labels the checkbox with str(obj), which axes writes in English ("Attempted Access: ...").
        label = format_html(gettext("Select this object for an action - {}"), f"{obj.username} · {obj.ip_address}")
        checkbox = forms.CheckboxInput({"class": "action-select", "aria-label": label}, lambda value: False)
        return checkbox.render(helpers.ACTION_CHECKBOX_NAME, str(obj.pk))

    @admin.action(description=_("Unlock sign-in for the selected usernames"))
    def unlock(self, request, queryset):
        usernames = sorted(set(queryset.values_list("username", flat=True)))
        for username in usernames:
            services.unlock_sign_in(request.user, username)
        self.message_user(
            request, _("Sign-in unlocked for %(names)s.") % {"names": "、".join(usernames)}, messages.SUCCESS
        )


@admin.register(AccessLog)
class SignInLogAdmin(ReadOnlyAdmin):
    """Successful sign-ins (and sign-outs) that django-axes logs; the console shows the latest."""

    list_display = ["username", "ip_address", "attempt_time", "logout_time"]
    search_fields = ["username", "ip_address"]
    date_hierarchy = "attempt_time"
    fields = ["username", "ip_address", "user_agent", "attempt_time", "logout_time"]
    readonly_fields = fields
    actions = None


@admin.register(AccessFailureLog)
class SignInFailureLogAdmin(ReadOnlyAdmin):
    """Failed sign-ins one by one (kept only when AXES_ENABLE_ACCESS_FAILURE_LOG is on)."""

    list_display = ["username", "ip_address", "attempt_time", "locked_out"]
    list_filter = ["locked_out"]
    search_fields = ["username", "ip_address"]
    fields = ["username", "ip_address", "user_agent", "attempt_time", "locked_out"]
    readonly_fields = fields
    actions = None
