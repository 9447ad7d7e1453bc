"""What Daphne does with a request body before the application sees it, bounded.

Daphne (on Twisted) receives a whole body, stores it (in a temporary file past 100 kB), then hands all of it to the
application's queue at once, in memory; and Twisted first parses any multipart or urlencoded POST body into arguments
of its own with the email package, at about a dozen copies of the body in memory, arguments Daphne never passes on.
A 64 MiB form took a server from 200 MB to 900 MB before any limit in the application could refuse it.

``install`` makes Daphne's requests skip Twisted's form parsing (Django parses the bodies it accepts, within its own
limits) and refuse, with 413, a body larger than any page accepts: at once when its Content-Length says so, or as
soon as a body streamed without one goes past it. The finer limits (per page, per user) are
``tutor.middleware.RequestBodyLimit``'s. A proxy in front should still cap bodies: Daphne holds every body it does
accept in memory while the application runs.
"""

from __future__ import annotations

from daphne import http_protocol

_REFUSAL_TEXT = b"Request body too large.\n"
REFUSAL = (
    b"HTTP/1.1 413 Content Too Large\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: " + str(len(_REFUSAL_TEXT)).encode() + b"\r\n"
    b"Connection: close\r\n"
    b"\r\n" + _REFUSAL_TEXT
)


class BoundedWebRequest(http_protocol.WebRequest):  # type: ignore[misc]
    """Daphne's request, with its body bounded and left unparsed."""

    max_body_bytes = 0  # set by install()
    _body_bytes = 0
    _refused = False

    def gotLength(self, length: int | None) -> None:
        super().gotLength(length)
        if length is not None and length > self.max_body_bytes:
            self._refuse()

    def handleContentChunk(self, data: bytes) -> None:
        if self._refused:
            return
        self._body_bytes += len(data)
        if self._body_bytes > self.max_body_bytes:
            self._refuse()
            return
        super().handleContentChunk(data)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        # The rest of a refused body may already have been read along with the part that crossed the limit.
        if self._refused:
            return
        self._parsePOSTFormSubmission = False
        super().requestReceived(command, path, version)

    def _refuse(self) -> None:
        self._refused = True
        # Twisted would otherwise invite the client to send the body (100 Continue) after this answer.
        self.requestHeaders.removeHeader(b"Expect")
        self.channel.transport.write(REFUSAL)
        self.channel.loseConnection()


def install(*, max_body_bytes: int) -> None:
    """Serve every later connection of this process with ``BoundedWebRequest`` (Daphne looks its request class up
    by this name for each new connection)."""
    BoundedWebRequest.max_body_bytes = max_body_bytes
    http_protocol.WebRequest = BoundedWebRequest
