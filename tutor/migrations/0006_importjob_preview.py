from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tutor", "0005_lti"),
    ]

    operations = [
        migrations.AddField(
            model_name="importjob",
            name="preview_only",
            field=models.BooleanField(default=False),
        ),
    ]
