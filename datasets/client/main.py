"""``custodian-download``: log in with a token, list files, download files or a manifest,
or slice a region of an indexed VCF, BAM or CRAM.

Every failure prints one line saying what went wrong and what to do, never a traceback;
the exit status is 0 when everything asked for is on disk and verified, 1 otherwise, 2 for
a command line that makes no sense.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import io
import queue
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tqdm import tqdm

from datasets.client import login_file
from datasets.client.login_file import Login, NotLoggedIn
from datasets.client.service import CatalogueFile, Service, ServiceError
from datasets.client.slices import RegionError, download_slice, parse_region
from datasets.client.transfer import TransferError, download_file, target_path

PROG = "custodian-download"
DEFAULT_CHUNK = 64 * 1024 * 1024
ID_COLUMNS = ("id", "file_id", "object_id")


class UsageError(Exception):
    """The command line or a manifest makes no sense; exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        code: int = args.run(args)
        return code
    except UsageError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except (NotLoggedIn, ServiceError, TransferError, OSError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; run the same command again to resume.", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    login = commands.add_parser("login", help="check a personal API token and keep it")
    login.add_argument("url", help="the service's URL, e.g. https://data.example.org")
    login.add_argument("--token-stdin", action="store_true",
                       help="read the token from standard input instead of a prompt")
    login.set_defaults(run=_login)

    logout = commands.add_parser("logout", help="forget the stored token")
    logout.set_defaults(run=_logout)

    listing = commands.add_parser("list", help="list catalogued files (tab-separated)")
    listing.add_argument("--dataset", help="only this dataset (id or accession)")
    listing.set_defaults(run=_list)

    get = commands.add_parser("download", help="download files, verified by SHA-256")
    get.add_argument("file_ids", nargs="*", type=int, metavar="FILE_ID")
    get.add_argument("--manifest", type=Path,
                     help="a TSV whose column id (or file_id) names the files to fetch")
    get.add_argument("--dataset", help="every file of this dataset (id or accession)")
    get.add_argument("-o", "--output", type=Path, default=Path("."),
                     help="folder to download into (default: the current one)")
    get.add_argument("-j", "--jobs", type=_positive, default=4,
                     help="files transferred at once (default 4)")
    get.add_argument("--chunk-size", type=_positive, default=DEFAULT_CHUNK,
                     help="bytes asked for per request (default 64 MiB)")
    get.set_defaults(run=_download)

    part = commands.add_parser("slice", help="a region of an indexed VCF, BAM or CRAM (htsget)")
    part.add_argument("file_id", type=int, metavar="FILE_ID")
    part.add_argument("--region", action="append", default=[], metavar="REF[:START[-END]]",
                      help="1-based, inclusive, as samtools writes it (repeat for several)")
    part.add_argument("--header-only", action="store_true",
                      help="only the header: a valid file without records")
    part.add_argument("-o", "--output", type=Path,
                      help="the file to write (default: slice-FILE_ID.vcf.gz, .bam or .cram)")
    part.add_argument("-j", "--jobs", type=_positive, default=4,
                      help="blocks fetched at once (default 4)")
    part.set_defaults(run=_slice)
    return parser


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return int(value)


def _login(args: argparse.Namespace) -> int:
    token = (sys.stdin.readline() if args.token_stdin
             else getpass.getpass("Personal API token: ")).strip()
    if not token:
        raise UsageError("no token given")
    url = str(args.url).rstrip("/")
    me = Service(Login(url, token)).me()  # refused tokens are never stored
    path = login_file.save(Login(url, token))
    print(f"Logged in to {url} as {me.get('name') or me.get('subject')}; "
          f"the token is kept in {path} (readable only by you).")
    return 0


def _logout(args: argparse.Namespace) -> int:
    print("Logged out." if login_file.forget() else "Was not logged in.")
    return 0


def _list(args: argparse.Namespace) -> int:
    """The files as a table, sizes for people, and whether you may download each; then, on
    standard error, what to do for the datasets you may not download yet."""
    files = Service(login_file.load()).files(args.dataset)
    out = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
    out.writerow(["id", "dataset", "name", "tier", "size", "sha256", "you_may_download"])
    for found in files:
        may = {True: "yes", False: "no", None: "unknown"}[found.may_download]
        out.writerow([found.id, found.dataset, found.name, found.tier, human_size(found.size),
                      found.sha256, may])
    blocked = {found.dataset: found.access for found in files
               if found.may_download is False and found.access is not None}
    for dataset, access in blocked.items():
        print(f"{dataset}: {NEXT_STEPS.get(access.reason, 'you may not download its files')}"
              + (f": {access.next_step}" if access.next_step else ""), file=sys.stderr)
    return 0


NEXT_STEPS = {
    "sign_in": "log in with a token of your own to download its controlled files",
    "no_grant": "you hold no access to its controlled files; request it",
    "accept_agreement": "accept its data-use agreement before downloading",
}


def human_size(size: int) -> str:
    """Decimal units, as the dataset page writes them (1.5 MB)."""
    if size < 1000:
        return f"{size} B"
    value = float(size)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            break
    return f"{value:.1f} {unit}"


def _download(args: argparse.Namespace) -> int:
    wanted = list(args.file_ids)
    if args.manifest is not None:
        wanted += read_manifest(args.manifest)
    if not wanted and args.dataset is None:
        raise UsageError("name files by id, with --manifest, or with --dataset")
    service = Service(login_file.load())
    catalogue = {found.id: found for found in service.files(args.dataset)}
    if args.dataset is not None and not args.file_ids and args.manifest is None:
        wanted = sorted(catalogue)
    missing = [file_id for file_id in wanted if file_id not in catalogue]
    if args.dataset is None and missing:
        raise ServiceError(f"404: no file {', '.join(map(str, missing))} in the catalogue",
                           404)
    if missing:
        raise UsageError(f"file {', '.join(map(str, missing))} is not in {args.dataset}")
    chosen = [catalogue[file_id] for file_id in dict.fromkeys(wanted)]
    names = [found.name for found in chosen]
    if len(set(names)) < len(names):
        raise UsageError("two of these files have the same name; download them into "
                         "separate folders")
    args.output.mkdir(parents=True, exist_ok=True)
    return _transfer_all(service, chosen, args.output, args.jobs, args.chunk_size)


def _transfer_all(service: Service, files: list[CatalogueFile], output: Path, jobs: int,
                  chunk_size: int) -> int:
    """Up to ``jobs`` files at once, each with its own progress bar line."""
    slots: queue.Queue[int] = queue.Queue()
    for slot in range(jobs):
        slots.put(slot)
    print_lock = threading.Lock()

    def one(found: CatalogueFile) -> bool:
        slot = slots.get()
        bar = tqdm(total=found.size, unit="B", unit_scale=True, desc=found.name,
                   position=slot, leave=False, disable=None)
        try:
            outcome = download_file(service, found, target_path(output, found),
                                    chunk_size=chunk_size, progress=bar.update)
        except (ServiceError, TransferError, OSError) as exc:
            with print_lock:
                tqdm.write(f"{PROG}: error: file {found.id} ({found.name}): {exc}",
                           file=sys.stderr)
            return False
        finally:
            bar.close()
            slots.put(slot)
        with print_lock:
            tqdm.write(f"{found.id}\t{target_path(output, found)}\t{outcome}")
        return True

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(one, files))
    return 0 if all(results) else 1


def _slice(args: argparse.Namespace) -> int:
    try:
        regions = [parse_region(text) for text in args.region]
    except RegionError as exc:
        raise UsageError(str(exc)) from None
    if regions and args.header_only:
        raise UsageError("--header-only takes no --region")
    if args.output is not None and args.output.exists():
        raise UsageError(f"{args.output} exists; choose another name or move it away")
    bars: list[tqdm[Any]] = []

    def progress_for(total: int) -> Callable[[int], object]:
        bars.append(tqdm(total=total, unit="B", unit_scale=True, desc=f"file {args.file_id}",
                         leave=False, disable=None))
        return bars[-1].update

    try:
        path, size, blocks = download_slice(
            Service(login_file.load()), args.file_id, regions, header_only=args.header_only,
            target=args.output, jobs=args.jobs, progress_for=progress_for)
    finally:
        for bar in bars:
            bar.close()
    print(f"{path}\t{size} bytes in {blocks} blocks, each of the size its ticket names")
    return 0


def read_manifest(path: Path) -> list[int]:
    """File ids from a TSV with a header naming an id column, or one id per line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None
    rows = [row for row in csv.reader(io.StringIO(text), delimiter="\t")
            if row and not row[0].startswith("#")]
    if not rows:
        raise UsageError(f"{path} lists no files")
    header = [cell.strip().lower() for cell in rows[0]]
    column = next((header.index(name) for name in ID_COLUMNS if name in header), None)
    if column is None and not header[0].isdigit():
        raise UsageError(f"{path}: the header names no id column ({', '.join(ID_COLUMNS)})")
    body = rows[1:] if column is not None else rows
    column = column or 0
    ids = []
    for line, row in enumerate(body, start=2 if body is not rows else 1):
        cell = row[column].strip() if len(row) > column else ""
        if not cell.isdigit():
            raise UsageError(f"{path}, line {line}: {cell!r} is not a file id")
        ids.append(int(cell))
    return ids


if __name__ == "__main__":
    raise SystemExit(main())
