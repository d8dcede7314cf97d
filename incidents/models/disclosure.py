"""A force's public family of cells as disclosure control prepared it: which counts the public may not see."""

from django.db import models

from forces.models import Force


class PublicFamily(models.Model):
    """The hidden cells of one force's public family at one version of its summaries (incidents/disclosure.py).

    Written once per version, by the task that follows a rebuild or by the first reader, and read by every
    process; a new version's row replaces the old ones. `hidden` is compressed JSON: the measures' names
    and, for each row and period with a hidden count, a bit mask over them.
    """

    force = models.ForeignKey(Force, on_delete=models.CASCADE, related_name="public_families")
    key = models.CharField(max_length=200, help_text="The version of the summaries and the settings it was made for")
    hidden = models.BinaryField()
    cells = models.PositiveIntegerField(help_text="Public cells in the family")
    primary = models.PositiveIntegerField(help_text="Cells hidden by primary suppression (counts 1 to the threshold)")
    seconds = models.FloatField(help_text="How long suppressing it took")
    made_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "public families"
        constraints = [models.UniqueConstraint(fields=["force", "key"], name="one_public_family_per_version")]

    def __str__(self):
        return f"{self.force} {self.key}"
