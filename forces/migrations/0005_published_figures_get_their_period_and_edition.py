"""Published figures imported so far are all of financial years ("2019/20"); each gets that
period and an edition named as before, dated by the "(published 17 December 2020)" its name
carries, or else by the end of the latest year it covers."""

import datetime
import re

from django.db import migrations

PUBLISHED = re.compile(r"\(published (\d{1,2} [A-Za-z]+ \d{4})\)")


def give_figures_periods_and_editions(apps, schema_editor):
    Edition = apps.get_model("forces", "Edition")
    PublishedFigure = apps.get_model("forces", "PublishedFigure")
    editions = {}
    for name in PublishedFigure.objects.values_list("source_edition", flat=True).distinct():
        years = PublishedFigure.objects.filter(source_edition=name).values_list("financial_year", flat=True)
        published = PUBLISHED.search(name)
        if published:
            published_on = datetime.datetime.strptime(published.group(1), "%d %B %Y").date()
            source = "publication"
        else:
            published_on = datetime.date(max(int(year[:4]) for year in years) + 1, 3, 31)
            source = "latest_period"
        editions[name] = Edition.objects.create(
            name=name, published_on=published_on, published_on_source=source, file_name=""
        )
    for figure in PublishedFigure.objects.all().iterator():
        start = int(figure.financial_year[:4])
        figure.period_start = datetime.date(start, 4, 1)
        figure.period_end = datetime.date(start + 1, 3, 31)
        figure.period_kind = "financial_year"
        figure.edition = editions[figure.source_edition]
        figure.save(update_fields=["period_start", "period_end", "period_kind", "edition"])


class Migration(migrations.Migration):
    dependencies = [
        ("forces", "0004_home_office_editions_and_periods"),
    ]

    operations = [
        migrations.RunPython(give_figures_periods_and_editions, migrations.RunPython.noop),
    ]
