"""Where a load reads its documents: files, or URLs through one ``Fetcher``.

The bundler, the cache check and the loader read every document and every ``$ref``'d file
through a ``DocumentSource``, so a spec served over HTTP is bundled, checked and cached by the
same code as one on disk. A ``$ref`` resolves against the document that holds it: a path
beside a file, a URL against a URL. A file's ``$ref`` never names a URL (a local spec does not
reach out to the network behind its user's back).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..errors import SpecError
from .urls import has_scheme, is_url, join_url

if TYPE_CHECKING:
    from .fetch import Fetcher, FetchOptions


class DocumentSource:
    """Reads the files and URLs of one load; ``finish()`` when the load is over."""

    def __init__(self, fetch: FetchOptions | None = None):
        self.options = fetch
        self._fetcher: Fetcher | None = None

    @property
    def fetcher(self) -> Fetcher:
        if self._fetcher is None:
            from .fetch import Fetcher  # a URL is read: files and the cache never need the fetcher

            self._fetcher = Fetcher(self.options)
        return self._fetcher

    def read(self, name: str) -> bytes:
        if has_scheme(name):
            return self.fetcher.get(name)
        try:
            with open(name, "rb") as handle:
                return handle.read()
        except OSError as exc:
            raise SpecError(f"cannot read: {exc.strerror}", file=name) from None

    def join(self, base: str, ref_file: str) -> str:
        """The name of the file a ``$ref``'s file part names, from the document at ``base``."""
        if is_url(base):
            return join_url(base, ref_file)
        if has_scheme(ref_file):
            raise SpecError(f"a $ref in a spec file names a URL ({ref_file}); only files beside it are read", file=base)
        return os.path.normpath(os.path.join(os.path.dirname(base), ref_file))

    def finish(self) -> None:
        """After the load: the offline warning (once), and the connections closed."""
        if self._fetcher is not None:
            self._fetcher.warn_if_offline()
            self._fetcher.close()
