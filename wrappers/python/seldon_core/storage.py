"""`seldon_core.storage.Storage`: fetch a model's files by URI, as Seldon's wrapper offers it.

Local paths and file:// URIs behave as in Seldon 1.18.2: without `out_dir` the local path itself
is returned; with it, each entry of the directory (or the file) is symlinked into `out_dir`, which
is returned. Unlike Seldon, http:// and https:// URLs are downloaded (urllib; the system CA
bundle, or the file SSL_CERT_FILE or REQUESTS_CA_BUNDLE names), into `out_dir` or a new temporary
directory, which is returned. Any other scheme (s3://, gs://, pvc://, ...) raises
UnsupportedStorageError: cloud storage needs credentials and clients this image does not have.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import posixpath
import shutil
import ssl
import tempfile
import urllib.error
import urllib.parse
import urllib.request

logger = logging.getLogger(__name__)

_LOCAL_PREFIX = "file://"
_HTTP_SCHEMES = ("http", "https")
_TIMEOUT_SECONDS = 60


class UnsupportedStorageError(Exception):
    """The URI's scheme is one Storage cannot fetch from."""


class Storage:
    @staticmethod
    def download(uri: str, out_dir: str | None = None) -> str:
        """Where the model's files are: the local path, or `out_dir` (made if missing)."""
        if uri.startswith(_LOCAL_PREFIX) or os.path.exists(uri):
            return Storage._download_local(uri, out_dir)
        scheme = uri.split("://", 1)[0].lower() if "://" in uri else ""
        if scheme in _HTTP_SCHEMES:
            return Storage._download_http(uri, out_dir or tempfile.mkdtemp())
        if not scheme:
            raise RuntimeError(f"Local path {uri} does not exist.")
        raise UnsupportedStorageError(
            f"Cannot download {uri}: {scheme}:// storage is not supported. Cloud storage needs credentials "
            "and clients this image does not have; copy the model into the source the image is built from, "
            "or mount it into the container and give its local path (or file:// URI), or serve it over https://."
        )

    @staticmethod
    def _download_local(uri: str, out_dir: str | None = None) -> str:
        local_path = uri.replace(_LOCAL_PREFIX, "", 1)
        if not os.path.exists(local_path):
            raise RuntimeError(f"Local path {uri} does not exist.")
        if out_dir is None:
            return local_path
        os.makedirs(out_dir, exist_ok=True)
        pattern = os.path.join(local_path, "*") if os.path.isdir(local_path) else local_path
        for src in glob.glob(pattern):
            dest = os.path.join(out_dir, os.path.basename(src))
            logger.info("Linking: %s to %s", src, dest)
            os.symlink(src, dest)
        return out_dir

    @staticmethod
    def _download_http(uri: str, out_dir: str) -> str:
        name = posixpath.basename(urllib.parse.unquote(urllib.parse.urlsplit(uri).path))
        if name in ("", ".", ".."):
            raise ValueError(f"Cannot download {uri}: the URL names no file to save")
        os.makedirs(out_dir, exist_ok=True)
        dest = os.path.join(out_dir, name)
        partial = dest + ".part"
        logger.info("Downloading %s to %s", uri, dest)
        try:
            with (
                urllib.request.urlopen(uri, timeout=_TIMEOUT_SECONDS, context=_tls_context()) as answer,
                open(partial, "wb") as out,
            ):
                shutil.copyfileobj(answer, out)
        except (urllib.error.URLError, OSError) as exc:
            with contextlib.suppress(FileNotFoundError):
                os.remove(partial)
            raise RuntimeError(f"Cannot download {uri}: {exc}") from exc
        os.replace(partial, dest)
        return out_dir


def _tls_context() -> ssl.SSLContext:
    """The system's CA certificates, or only the bundle SSL_CERT_FILE or REQUESTS_CA_BUNDLE names."""
    cafile = os.environ.get("SSL_CERT_FILE") or os.environ.get("REQUESTS_CA_BUNDLE") or None
    return ssl.create_default_context(cafile=cafile)
