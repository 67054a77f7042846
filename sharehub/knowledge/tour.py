"""The first-run tour: a few popovers on the home page that point at the real navigation, different per role.

The steps are made here (translated, with CSS selectors built from the real addresses) and handed to
static/knowledge/tour.js through a JSON script tag; a step whose element is not on the page (a member has no
Inbox) is skipped by the script. A person sees the tour of their highest role once: finishing or dismissing it
stores a TourSeen row (POST /help/tour/seen/). `?tour=ROLE` on the home page shows it again (help page, user
menu)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from sharehub.knowledge import help_pages

TOUR_PARAMETER = "tour"


def _nav(url_name: str) -> str:
    return f'#mainnav a.nav-link[href="{reverse(url_name)}"]'


def _steps(role: str, create_url: str) -> list[dict]:
    """(selector, title, text) of each step of a role's tour, in order."""
    welcome = {
        "target": ".navbar-brand",
        "title": _("Welcome to Sharehub"),
        "text": _(
            "Every department publishes what it holds here, and one policy decides who may see what. "
            "This short tour shows where things are; you can leave it at any time."
        ),
    }
    catalog = {
        "target": _nav("catalog:list"),
        "title": _("The catalog"),
        "text": _(
            "Every department's resources: documents, datasets, notices, progress updates. Open ones you read "
            "at once; conditional ones show their entry and you request the content."
        ),
    }
    search = {
        "target": "#header-search",
        "title": _("Search"),
        "text": _(
            'Search in Chinese, English or pinyin. "Quotes" find a phrase, a minus sign leaves a word out, '
            "dept:, kind: and tag: narrow the results."
        ),
    }
    knowledge = {
        "target": "#mainnav .nav-link.dropdown-toggle",
        "title": _("Knowledge"),
        "text": _(
            "Articles of know-how, questions to other departments, sharing sessions and recognition for work "
            "that others reused. Help is in this menu too."
        ),
    }
    requests = {
        "target": _nav("access:mine"),
        "title": _("My requests"),
        "text": _("Your access requests and their answers. A grant is for a purpose and until a date."),
    }
    bell = {
        "target": ".sh-bell",
        "title": _("Notifications"),
        "text": _("Answers, decisions and changes to what you follow arrive here as they happen."),
    }
    account = {
        "target": "#sh-user-menu",
        "title": _("Your menu"),
        "text": _(
            "Grants, API tokens, what you follow, webhooks and your password. "
            "“Show the tour again” brings this tour back."
        ),
    }
    publish = {
        "target": f'main a.btn[href="{create_url}"]',
        "title": _("Publish"),
        "text": _(
            "Publish your department's resources: choose the sharing type (open, conditional or restricted) and "
            "who may see the entry."
        ),
    }
    inbox = {
        "target": _nav("access:inbox"),
        "title": _("Inbox"),
        "text": _(
            "Requests for your department's resources wait here with their deadline in working days. Approve, "
            "approve less, ask for more information or refuse, always with a reason."
        ),
    }
    reviews = {
        "target": _nav("catalog:reviews"),
        "title": pgettext("navigation: the review queue", "Reviews"),
        "text": _("What members of your department submitted waits here for a steward or head to publish it."),
    }
    departments = {
        "target": _nav("org:departments"),
        "title": _("Departments"),
        "text": _("Your department's page lists its people, resources and the sharing it does with others."),
    }
    audit = {
        "target": _nav("events:audit"),
        "title": _("Audit trail"),
        "text": _(
            "Every change and every read of non-open content, in a hash-chained log you can filter, verify and "
            "export. As an auditor you read it; you change nothing."
        ),
    }
    manage = {
        "target": "#sh-user-menu",
        "title": _("Administration"),
        "text": _(
            "“Manage the organization” in this menu holds the department tree, people and roles, service "
            "accounts, imports, sign-in and access settings."
        ),
    }
    finish = {
        "target": "#mainnav .nav-link.dropdown-toggle",
        "title": _("Help"),
        "text": _(
            "Every form has a “?” beside it that opens the help on that subject. The help pages are under "
            "Knowledge → Help."
        ),
    }
    steps = {
        "member": [welcome, catalog, search, knowledge, requests, bell, account, finish],
        "steward": [welcome, publish, inbox, reviews, catalog, knowledge, bell, finish],
        "head": [welcome, inbox, reviews, departments, knowledge, bell, finish],
        "admin": [welcome, manage, departments, catalog, audit, knowledge, finish],
        "auditor": [welcome, audit, search, catalog, bell, finish],
    }
    return steps[role]


def tour_for(request, create_url: str) -> dict | None:
    """The tour to show on this page view, or None: the role asked with ?tour=ROLE (one the person holds),
    else the highest role's tour if it was never finished or dismissed."""
    user = request.user
    if not user.is_authenticated:
        return None
    roles = help_pages.tour_roles(user)
    asked = request.GET.get(TOUR_PARAMETER, "")
    if asked in roles:
        role = asked
    elif asked:
        role = roles[0]
    else:
        role = roles[0]
        if help_pages.tour_seen(user, role):
            return None
    return {
        "role": role,
        "seen_url": reverse("knowledge:tour-seen"),
        "steps": _steps(role, create_url),
        "labels": {
            "next": pgettext("tour", "Next"),
            "back": pgettext("tour", "Back"),
            "done": _("Done"),
            "skip": _("Skip the tour"),
            # Translators: the tour's progress, e.g. "2 / 7"
            "progress": _("%(step)s / %(total)s"),
            "close": _("Close"),
        },
    }
