from django import forms

from conversations.models import Message
from imatch.web import MarkInvalidMixin


class MessageForm(MarkInvalidMixin, forms.Form):
    body = forms.CharField(
        label="Your message",
        max_length=Message.BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": Message.BODY_MAX}),
    )
