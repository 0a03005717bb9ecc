"""``custodian-download``: the bundled download client, a consumer of the catalogue's API.

It lives under datasets/ because it speaks only the catalogue and download endpoints, and
it imports nothing of the service: standard library, requests and tqdm only, so it runs on
any researcher's machine with the package installed.
"""
