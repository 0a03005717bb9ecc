"""What the datasets package's routes and commands take from the app, set once by
``datasets.install``: the only place that reads them back."""

from __future__ import annotations

from flask import Flask, current_app

from datasets.downloads.signed_urls import UrlLifetime
from datasets.htsget.loading import IndexCache
from datasets.storage import Storage
from datasets.storage.health import StoreHealth

# Kept under these names: the tests reach the storage of an app they built.
_STORAGE = "custodian.storage"
_URL_LIFETIME = "custodian.url_lifetime"
_HTSGET_CACHE = "custodian.htsget_cache"
_STORE_HEALTH = "custodian.store_health"


def keep(app: Flask, *, storage: Storage, health: StoreHealth, url_lifetime: UrlLifetime) -> None:
    app.extensions[_STORAGE] = storage
    app.extensions[_STORE_HEALTH] = health
    app.extensions[_URL_LIFETIME] = url_lifetime
    # One per app: its indexes are read through this app's storage.
    app.extensions[_HTSGET_CACHE] = IndexCache()


def storage() -> Storage:
    found: Storage = current_app.extensions[_STORAGE]
    return found


def store_health() -> StoreHealth:
    found: StoreHealth = current_app.extensions[_STORE_HEALTH]
    return found


def url_lifetime() -> UrlLifetime:
    found: UrlLifetime = current_app.extensions[_URL_LIFETIME]
    return found


def htsget_cache() -> IndexCache:
    found: IndexCache = current_app.extensions[_HTSGET_CACHE]
    return found
