import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("forces", "0003_api_tokens"),
    ]

    operations = [
        migrations.CreateModel(
            name="Edition",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "name",
                    models.CharField(
                        help_text="Title and publication date, or the file name", max_length=200, unique=True
                    ),
                ),
                ("published_on", models.DateField()),
                (
                    "published_on_source",
                    models.CharField(
                        choices=[
                            ("publication", "publication date on its cover or contents sheet"),
                            ("latest_period", "end of the latest period it covers (no publication date found)"),
                        ],
                        max_length=20,
                    ),
                ),
                ("file_name", models.CharField(blank=True, max_length=255)),
                ("imported_at", models.DateTimeField(auto_now=True)),
            ],
            options={"ordering": ["-published_on", "-name"]},
        ),
        migrations.RemoveConstraint(model_name="publishedfigure", name="one_published_value_per_cell"),
        migrations.AddField(
            model_name="publishedfigure",
            name="edition",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="figures", to="forces.edition"
            ),
        ),
        migrations.AddField(model_name="publishedfigure", name="period_start", field=models.DateField(null=True)),
        migrations.AddField(model_name="publishedfigure", name="period_end", field=models.DateField(null=True)),
        migrations.AddField(
            model_name="publishedfigure",
            name="period_kind",
            field=models.CharField(
                choices=[
                    ("financial_year", "financial year"),
                    ("quarter", "quarter"),
                    ("calendar_year", "calendar year"),
                    ("revision", "revision of an earlier period"),
                ],
                default="financial_year",
                max_length=20,
            ),
            preserve_default=False,
        ),
    ]
