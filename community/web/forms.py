from django import forms

from community.models import Answer, Question, Report
from imatch.web import MarkInvalidMixin


class QuestionForm(MarkInvalidMixin, forms.Form):
    title = forms.CharField(
        label="Your question, in one line",
        max_length=Question.TITLE_MAX,
        widget=forms.TextInput(attrs={"maxlength": Question.TITLE_MAX}),
    )
    body = forms.CharField(
        label="Details",
        max_length=Question.BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": Question.BODY_MAX}),
        help_text="Plain text. Leave out names, emails and anything private: questions are public.",
    )
    anonymous = forms.BooleanField(label="Ask anonymously (your name is not shown)", required=False)


class AnswerForm(MarkInvalidMixin, forms.Form):
    body = forms.CharField(
        label="Your answer",
        max_length=Answer.BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": Answer.BODY_MAX}),
    )


class ReportForm(MarkInvalidMixin, forms.Form):
    question = forms.IntegerField(required=False, widget=forms.HiddenInput)
    answer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(
        label="What is wrong?",
        max_length=Report.REASON_MAX,
        widget=forms.TextInput(attrs={"maxlength": Report.REASON_MAX}),
    )
