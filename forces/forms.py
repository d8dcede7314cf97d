from django import forms

from forces.models import ApiToken, Force


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=80, help_text="What the token is for, e.g. the script that uses it")
    access = forms.ChoiceField(choices=ApiToken.Access.choices, initial=ApiToken.Access.READ, widget=forms.RadioSelect)
    force = forms.ModelChoiceField(queryset=Force.objects.order_by("name"), help_text="The force the token reads")

    def __init__(self, *args, own_force=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Everyone but a superuser makes tokens for their own force only.
        if own_force is not None:
            del self.fields["force"]
        self.own_force = own_force

    def clean(self):
        cleaned = super().clean()
        if self.own_force is not None:
            cleaned["force"] = self.own_force
        return cleaned
