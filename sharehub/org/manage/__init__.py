"""The organization admins' console under /manage/: the department tree, people, people imports, the
handover when someone leaves, service accounts, and sign-in attempts. Each page is its own module with its
views and `urlpatterns`; the rules they apply live in the org app's services."""
