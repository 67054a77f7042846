from django.db import models


class Row(models.Model):
    """One row per request of the bare insert view."""

    text = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.text
