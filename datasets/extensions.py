"""What the datasets package's routes and commands take from the app, set once by
``datasets.install``: the only place that reads them back."""

from __future__ import annotations

from flask import Flask, current_app

from datasets.downloads.signed_urls import UrlLifetime
from datasets.storage import Storage

# Kept under these names: the tests reach the storage of an app they built.
_STORAGE = "custodian.storage"
_URL_LIFETIME = "custodian.url_lifetime"


def keep(app: Flask, *, storage: Storage, url_lifetime: UrlLifetime) -> None:
    app.extensions[_STORAGE] = storage
    app.extensions[_URL_LIFETIME] = url_lifetime


def storage() -> Storage:
    found: Storage = current_app.extensions[_STORAGE]
    return found


def url_lifetime() -> UrlLifetime:
    found: UrlLifetime = current_app.extensions[_URL_LIFETIME]
    return found
