import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("forces", "0005_published_figures_get_their_period_and_edition"),
    ]

    operations = [
        migrations.RemoveField(model_name="publishedfigure", name="source_edition"),
        migrations.AlterField(
            model_name="publishedfigure",
            name="edition",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="figures", to="forces.edition"
            ),
        ),
        migrations.AlterField(model_name="publishedfigure", name="period_start", field=models.DateField()),
        migrations.AlterField(model_name="publishedfigure", name="period_end", field=models.DateField()),
        migrations.AlterModelOptions(
            name="publishedfigure",
            options={"ordering": ["period_start", "period_end", "geography", "measure"]},
        ),
        migrations.AlterField(
            model_name="publishedfigure",
            name="financial_year",
            field=models.CharField(
                blank=True,
                help_text="Set only for a financial year",
                max_length=7,
                validators=[
                    django.core.validators.RegexValidator("^\\d{4}/\\d{2}$", "Write a financial year as 2019/20.")
                ],
            ),
        ),
        migrations.AlterField(
            model_name="publishedfigure",
            name="geography",
            field=models.CharField(help_text="The force's Home Office name, or 'Total <name>'", max_length=80),
        ),
        migrations.AlterField(
            model_name="publishedfigure",
            name="unit",
            field=models.CharField(
                choices=[
                    ("uses", "uses (TASER X26 statistics, to March 2017)"),
                    ("incidents", "incidents (Home Office term to 2022/23)"),
                    ("reports", "reports (Home Office term from 2023/24)"),
                ],
                default="incidents",
                max_length=10,
            ),
        ),
        migrations.AddIndex(
            model_name="publishedfigure",
            index=models.Index(
                fields=["period_start", "period_end", "geography", "measure"], name="published_figure_cell"
            ),
        ),
        migrations.AddConstraint(
            model_name="publishedfigure",
            constraint=models.UniqueConstraint(
                fields=("edition", "period_start", "period_end", "geography", "measure"),
                name="one_published_value_per_edition_and_cell",
            ),
        ),
        migrations.AddConstraint(
            model_name="publishedfigure",
            constraint=models.CheckConstraint(
                condition=models.Q(("period_end__gte", models.F("period_start"))), name="published_period_in_order"
            ),
        ),
    ]
