"""Reading HTML forms the way a browser would, for tests that drive pages over HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(values.get("action", ""), values.get("method", "get").lower()))
        elif tag in ("input", "textarea", "select") and self.forms and "name" in values:
            self.forms[-1].fields.setdefault(values["name"], values.get("value", ""))


def forms_in(html: str, page_url: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    for form in parser.forms:
        form.action = urljoin(page_url, form.action) if form.action else page_url
    return parser.forms


def form_with_field(html: str, page_url: str, field_name: str) -> Form:
    for form in forms_in(html, page_url):
        if field_name in form.fields:
            return form
    raise AssertionError(f"no form with a field {field_name!r} on {page_url}")
