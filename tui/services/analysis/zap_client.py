"""ZAP's official API client with a timeout on each call and one-line errors.

Apart from zap.py so the ZAP container (zap_container.py), which probes the ZAP it starts,
and the scan (zap.py), which starts that container, do not import each other.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from zapv2 import ZAPv2

from tui.errors import RemoteServiceError

_KEY_HINT = "set THESIS_ZAP_API_KEY"


class ZapClient(ZAPv2):
    """The official client with a timeout on each call, and every failure a one-line
    RemoteServiceError that names the call and never carries the key."""

    def __init__(self, address: str, api_key: str, timeout: float) -> None:
        self._proxies = {"http": address, "https": address}
        super().__init__(proxies=self._proxies, apikey=api_key or None)
        self._key = api_key
        self._timeout = timeout
        parts = urlsplit(address)
        self.where = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"  # no user:password

    def _request_api(
        self, url: str, query: Any = None, method: str = "GET", body: Any = None
    ) -> requests.Response:
        if not url.startswith("http://zap/"):  # as the client: the key goes to ZAP only
            raise ValueError(f"not a ZAP API URL: {url}")
        call = url.removeprefix(self.base).strip("/")
        with requests.Session() as session:
            session.trust_env = False  # ZAP is the proxy: no environment proxy or .netrc
            if self._key:
                session.headers["X-ZAP-API-Key"] = self._key
            try:
                response = session.request(
                    method,
                    url,
                    params=query,
                    data=body,
                    proxies=self._proxies,
                    timeout=self._timeout,
                )
            except requests.Timeout:
                raise RemoteServiceError(
                    f"ZAP at {self.where} did not answer {call} within {self._timeout:g}s"
                ) from None
            except requests.ConnectionError as exc:
                raise RemoteServiceError(self._unreachable(call, str(exc))) from None
            except requests.RequestException as exc:
                raise RemoteServiceError(
                    f"ZAP at {self.where} failed on {call} ({type(exc).__name__})"
                ) from None
        if response.status_code in (401, 403) or _error_code(response) == "bad_api_key":
            raise RemoteServiceError(
                f"ZAP at {self.where} refused the API key ({response.status_code}) — {_KEY_HINT}"
            )
        if response.status_code >= 300:
            raise RemoteServiceError(
                f"ZAP at {self.where} answered {call} with {response.status_code}: "
                f"{self._scrub(_error_text(response))}"
            )
        return response

    def _request(self, url: str, get: Any = None, method: str = "GET", body: Any = None) -> Any:
        response = self._request_api(url, get, method, body)
        call = url.removeprefix(self.base).strip("/")
        try:
            answer = response.json()
        except ValueError:
            raise RemoteServiceError(
                f"ZAP at {self.where} answered {call} with something that is not JSON: is "
                "THESIS_ZAP_URL the address of ZAP's API?"
            ) from None
        if not isinstance(answer, dict) or not answer:
            raise RemoteServiceError(f"ZAP at {self.where} sent an empty answer to {call}")
        return answer

    def _unreachable(self, call: str, text: str) -> str:
        if "RemoteDisconnected" in text or "without response" in text:
            return (
                f"ZAP at {self.where} closed the connection without answering {call}; it does "
                f"that for a wrong API key — {_KEY_HINT}"
            )
        reason = "connection refused" if "refused" in text else "no connection"
        return (
            f"ZAP at {self.where} is not reachable ({reason}): is its daemon running there "
            "(THESIS_ZAP_URL)?"
        )

    def _scrub(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text


def _error_code(response: requests.Response) -> str:
    try:
        answer = response.json()
    except ValueError:
        return ""
    return str(answer.get("code", "")) if isinstance(answer, dict) else ""


def _error_text(response: requests.Response) -> str:
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if isinstance(answer, dict) and answer.get("message"):
        return str(answer["message"])[:200]
    lines = [line.strip() for line in response.text.splitlines() if line.strip()]
    return lines[0][:200] if lines else "no message"
