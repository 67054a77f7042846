"""Attachment text is read in the background after the upload commits; each blob says how that went.

Blobs stored before this migration had their text read at upload, so they start as "done"."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0005_conditional_sharing'),
    ]

    operations = [
        migrations.AddField(
            model_name='blob',
            name='text_attempts',
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='blob',
            name='text_claimed_until',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='blob',
            name='text_reason',
            field=models.CharField(blank=True, help_text='why the text is partial or missing', max_length=32),
        ),
        migrations.AddField(
            model_name='blob',
            name='text_status',
            field=models.CharField(default='done', max_length=10),
        ),
        migrations.AlterField(
            model_name='blob',
            name='text_status',
            field=models.CharField(choices=[('pending', 'waiting to be read for search'), ('done', 'indexed for search'), ('partial', 'partly indexed for search'), ('skipped', 'not indexed for search'), ('failed', 'could not be read for search'), ('none', 'no text to index')], default='pending', max_length=10),
        ),
        migrations.AddIndex(
            model_name='blob',
            index=models.Index(condition=models.Q(('text_status', 'pending')), fields=['text_claimed_until'], name='blob_text_pending'),
        ),
    ]
