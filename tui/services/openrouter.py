"""OpenRouter's model list: fetching it, and reading its entries as catalogue models.

The client is synchronous on purpose: the sync runs in a Textual thread worker or in the
CLI, never on the event loop. Every failure becomes one `RemoteServiceError` line a person
can act on, and none of them contains the API key — not even when a misbehaving server
echoes the Authorization header back in its error body.

Slugs. Our slug names a folder (`<apps_dir>/<slug>/app<N>/`), so it is derived from
OpenRouter's `id`, which is unique in the list and is what people type. OpenRouter's own
`canonical_slug` is not used for it: it is shared by a model and its `:free` variant and
often carries a release date (`openai/gpt-4o-mini-2024-07-18`); it is kept in
`additional_capabilities` instead. The rules:

- `/` becomes `_`: `anthropic/claude-3.5-sonnet` → `anthropic_claude-3.5-sonnet` (seed 000);
- a variant suffix keeps its name after `_`: `meta-llama/llama-3.1-8b-instruct:free` →
  `meta-llama_llama-3.1-8b-instruct_free`, `anthropic/claude-3.5-sonnet:beta` →
  `anthropic_claude-3.5-sonnet_beta` — so a model and its variants stay distinct;
- OpenRouter's `~` aliases (which follow a model's newest version) get `_alias`:
  `~anthropic/claude-opus-latest` → `anthropic_claude-opus-latest_alias`, so an alias never
  takes the slug of a model listed under the same name without `~`;
- anything else outside letters, digits, `.`, `_`, `-` makes the entry malformed, and two
  ids that would share a slug fail the sync naming both.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import json
import math
import re
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError as PydanticValidationError

from tui import __version__
from tui.config import Secret, Settings
from tui.errors import RemoteServiceError, ValidationError
from tui.services.schemas import ModelCreate, check_slug, describe_errors
from tui.services.untrusted import plain

if TYPE_CHECKING:
    import httpx

# httpx (with its CLI's rich and pygments) is imported by the client that needs it: the
# catalogue reads model lists from files without it, and the TUI paints sooner.

MODELS_PATH = "/models"
CHAT_PATH = "/chat/completions"
PER_MILLION = Decimal(1_000_000)
_KEY_HINT = "set THESIS_OPENROUTER_API_KEY"
MAX_STREAM_BYTES = 64_000_000
"""Bytes of one streamed answer read at most (a 16,000-token answer is a few MB of events)."""
_LINE_END = re.compile(r"\r\n|\r|\n")
_JSON_TYPES = {str: "string", int: "number", float: "number", bool: "boolean"}
_EXTRA_KEYS = (
    "description",
    "architecture",
    "top_provider",
    "supported_parameters",
    "created",
    "pricing",
    "canonical_slug",
    "hugging_face_id",
)


@dataclass(frozen=True)
class Streamed:
    """A streamed completion: its text, why it stopped (`stop`, `length` …), the usage the
    last event reported ({} when none) and the seconds it took, retries included."""

    text: str
    finish_reason: str | None
    usage: dict[str, Any]
    seconds: float


@functools.cache
def _tls() -> ssl.SSLContext:
    """The TLS settings every client of this process shares (httpx's defaults: certifi's
    certificates, or SSL_CERT_FILE/SSL_CERT_DIR). Made once: loading the certificates costs
    about 17 ms of CPU, which a client per AI review paid each time."""
    import httpx

    return httpx.create_ssl_context()


class OpenRouterClient:
    """GET {base_url}/models and POST chat completions, with bounded retries on 429 and 5xx.

    Retry delays double from `backoff_base` seconds; a numeric `Retry-After` is honoured.
    Both are capped at `max_delay`, so a server asking for an hour cannot freeze a sync.
    Timeouts and refused connections are not retried: the first already cost the user
    `timeout` seconds, and the message says what to check.
    """

    def __init__(
        self,
        base_url: str,
        api_key: Secret | str | None = None,
        *,
        timeout: float = 30.0,
        max_attempts: int = 4,
        backoff_base: float = 0.5,
        max_delay: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = base_url.rstrip("/")
        key = api_key.get_secret_value() if isinstance(api_key, Secret) else api_key
        self._key = (key or "").strip()
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.max_delay = max_delay
        self._sleep = sleep
        headers = {"User-Agent": f"thesis-tui/{__version__}", "X-Title": "ThesisApp TUI"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        import httpx

        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, verify=_tls()
        )

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> OpenRouterClient:
        return cls(settings.openrouter_base_url, settings.openrouter_api_key, **options)

    def __enter__(self) -> OpenRouterClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def _where(self) -> str:
        """The base URL for messages, without any user:password part."""
        import httpx

        url = httpx.URL(self.base_url)
        return str(url.copy_with(username=None, password=None)) if url.userinfo else str(url)

    def list_models(self) -> list[dict[str, Any]]:
        """The `data` entries of the model list, as OpenRouter sent them."""
        return self._entries(self._send("GET", MODELS_PATH))

    def chat(self, payload: dict[str, Any]) -> tuple[dict[str, Any], float]:
        """POST a chat completion; the answer's JSON and the seconds it took (all attempts)."""
        started = time.monotonic()
        response = self._send("POST", CHAT_PATH, json=payload)
        seconds = time.monotonic() - started
        try:
            answer = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            raise RemoteServiceError(
                f"OpenRouter at {self._where} sent a completion that is not JSON"
            ) from None
        if not isinstance(answer, dict) or not isinstance(answer.get("choices"), list):
            raise RemoteServiceError(
                f"OpenRouter at {self._where} sent a completion without choices"
            )
        return answer, seconds

    def chat_stream(
        self, payload: dict[str, Any], on_text: Callable[[str], None] | None = None
    ) -> Streamed:
        """POST a chat completion streamed as server-sent events, handing each piece of text
        to `on_text` as it comes; retried like `chat` while no text has come."""
        started = time.monotonic()
        attempt = 0
        body = {**payload, "stream": True, "stream_options": {"include_usage": True}}
        while True:
            attempt += 1
            with self._reaching(), self._http.stream("POST", CHAT_PATH, json=body) as response:
                if not 200 <= response.status_code < 300:
                    response.read()
                    if _retryable(response.status_code) and attempt < self.max_attempts:
                        self._sleep(self._delay(attempt, response))
                        continue
                    self._check(response, attempt, "POST", CHAT_PATH)
                streamed = self._events(response, on_text)
            return Streamed(streamed.text, streamed.finish_reason, streamed.usage,
                            time.monotonic() - started)  # fmt: skip

    def _events(self, response: httpx.Response, on_text: Callable[[str], None] | None) -> Streamed:
        pieces: list[str] = []
        finish: str | None = None
        usage: dict[str, Any] = {}
        for line in self._lines(response):
            if not line.startswith("data:"):
                continue  # blank lines and `: keep-alive` comments
            data = line[5:].strip()
            if data == "[DONE]":
                break
            try:
                event = json.loads(data)
            except (ValueError, RecursionError):  # not JSON, or nested past reading
                continue
            if not isinstance(event, dict):
                continue
            if isinstance(event.get("error"), dict):
                message = str(event["error"].get("message") or "an error")
                raise RemoteServiceError(
                    f"OpenRouter at {self._where} stopped the answer: "
                    f"{' '.join(self._redact(message).split())[:200]}"
                )
            if isinstance(event.get("usage"), dict):
                usage = event["usage"]
            choices = event.get("choices")
            if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
                continue
            delta = choices[0].get("delta")
            text = delta.get("content") if isinstance(delta, dict) else None
            if isinstance(text, str) and text:
                pieces.append(text)
                if on_text is not None:
                    on_text(text)
            if choices[0].get("finish_reason"):
                finish = str(choices[0]["finish_reason"])
        return Streamed("".join(pieces), finish, usage, 0.0)

    def _lines(self, response: httpx.Response) -> Iterator[str]:
        """The stream's lines, at most MAX_STREAM_BYTES of it: an answer that goes on and on
        (or one line without end) is stopped, not held in memory."""
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        unfinished: list[str] = []  # the pieces of the line not ended yet
        read = 0
        for chunk in response.iter_bytes():
            read += len(chunk)
            if read > MAX_STREAM_BYTES:
                raise RemoteServiceError(
                    f"OpenRouter at {self._where} sent over {MAX_STREAM_BYTES // 1_000_000} MB "
                    "for one answer; stopped"
                )
            # Only the new text is searched for line ends (SSE's, not U+2028 in a string).
            first, *ended = _LINE_END.split(decoder.decode(chunk))
            unfinished.append(first)
            if ended:
                yield "".join(unfinished)
                yield from ended[:-1]
                unfinished = [ended[-1]]
        last = "".join(unfinished) + decoder.decode(b"", final=True)
        if last:
            yield last

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request, retried on 429 and 5xx; any other failure is a RemoteServiceError."""
        attempt = 0
        while True:
            attempt += 1
            response = self._request(method, path, **kwargs)
            if _retryable(response.status_code) and attempt < self.max_attempts:
                self._sleep(self._delay(attempt, response))
                continue
            self._check(response, attempt, method, path)
            return response

    def _check(self, response: httpx.Response, attempts: int, method: str, path: str) -> None:
        """A RemoteServiceError for an answer that is not a success (after `attempts`)."""
        status = response.status_code
        if status in (401, 403):
            if self._key:
                raise RemoteServiceError(f"OpenRouter refused the API key ({status}) — {_KEY_HINT}")
            raise RemoteServiceError(f"OpenRouter wants an API key ({status}) — {_KEY_HINT}")
        if _retryable(status):
            what = "kept limiting requests" if status == 429 else "kept failing"
            raise RemoteServiceError(
                f"OpenRouter at {self._where} {what} ({status}{self._detail(response)}) "
                f"after {attempts} attempts — try again later"
            )
        if not 200 <= status < 300:
            raise RemoteServiceError(
                f"OpenRouter at {self._where} answered {status}{self._detail(response)} "
                f"to {method} {path} — check THESIS_OPENROUTER_BASE_URL"
            )

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        with self._reaching():
            return self._http.request(method, path, **kwargs)

    @contextlib.contextmanager
    def _reaching(self) -> Iterator[None]:
        """httpx's timeouts and transport failures, as one RemoteServiceError line."""
        import httpx

        try:
            yield
        except httpx.TimeoutException:
            raise RemoteServiceError(
                f"OpenRouter at {self._where} did not answer within {self.timeout:g} s"
            ) from None
        except httpx.TransportError as exc:
            reason = self._redact(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
            raise RemoteServiceError(
                f"Cannot reach OpenRouter at {self._where}: {reason or type(exc).__name__}"
            ) from None

    def _delay(self, attempt: int, response: httpx.Response) -> float:
        retry_after = response.headers.get("Retry-After", "").strip()
        try:
            asked = float(retry_after)
        except ValueError:
            asked = math.nan  # absent, or an HTTP date: fall back to exponential backoff
        if math.isfinite(asked) and asked >= 0:
            return min(asked, self.max_delay)
        return min(self.backoff_base * 2 ** (attempt - 1), self.max_delay)

    def _detail(self, response: httpx.Response) -> str:
        """`: <OpenRouter's error message>` when it sent one, shortened and without the key."""
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return ""
        if not isinstance(message, str) or not message.strip():
            return ""
        message = " ".join(self._redact(message).split())
        return f": {message[:200]}"

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    def _entries(self, response: httpx.Response) -> list[dict[str, Any]]:
        try:
            payload = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            kind = response.headers.get("Content-Type", "no content type").split(";")[0]
            raise RemoteServiceError(
                f"OpenRouter at {self._where} sent a model list that is not JSON ({kind}) "
                "— check THESIS_OPENROUTER_BASE_URL"
            ) from None
        try:
            return extract_entries(payload)
        except ValueError as exc:
            raise RemoteServiceError(f"OpenRouter at {self._where} sent {exc}") from None


def _retryable(status: int) -> bool:
    """429 (too many requests) and 5xx are asked again, after a delay."""
    return status == 429 or status >= 500


def fetch_openrouter_models(
    settings: Settings, *, client: OpenRouterClient | None = None
) -> list[dict[str, Any]]:
    """The model list from the OpenRouter configured in `settings` (or from `client`)."""
    if client is not None:
        return client.list_models()
    with OpenRouterClient.from_settings(settings) as own:
        return own.list_models()


def extract_entries(payload: Any) -> list[dict[str, Any]]:
    """The entries of a model list: the API's `{"data": [...]}`, or a bare list (a file).

    Raises ValueError describing the shape found; the caller says where it came from.
    Entries themselves are checked one by one by `parse_model_entry`.
    """
    if isinstance(payload, dict) and isinstance(payload.get("data"), list):
        return payload["data"]
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        found = 'an object without a "data" list'
    else:
        found = f"a JSON {_JSON_TYPES.get(type(payload), 'null')}"
    raise ValueError(f'{found}, not a model list (an object with a "data" list of models)')


# --- reading one entry ----------------------------------------------------------------

# "Anthropic: Claude 3.5 Sonnet" → "Claude 3.5 Sonnet"; the provider is its own column.
_PROVIDER_PREFIX = re.compile(r"^[^:]{1,30}:\s+")


def normalise_slug(openrouter_id: str) -> str:
    """Our slug for an OpenRouter id (rules in the module docstring); ValueError if none."""
    openrouter_id = openrouter_id.strip()
    alias = openrouter_id.startswith("~")
    slug = openrouter_id.removeprefix("~").replace("/", "_", 1).replace(":", "_")
    return check_slug(f"{slug}_alias" if alias else slug)


def parse_model_entry(entry: Any, number: int) -> ModelCreate:
    """One entry of the API's `data` list as a catalogue model.

    Raises ValidationError naming the entry (`#number` and its id) and the field, so one
    bad entry stops the whole sync before anything is written.
    """
    if not isinstance(entry, dict):
        raise ValidationError(f"Model entry #{number} is not an object")
    model_id = entry.get("id")
    if not isinstance(model_id, str) or not model_id.strip():
        raise ValidationError(f"Model entry #{number} has no id")
    model_id = model_id.strip()
    label = f"Model entry #{number} ({model_id})"
    provider, sep, model_name = model_id.removeprefix("~").partition("/")
    if not sep or not provider or not model_name:
        raise ValidationError(f"{label}: id must look like provider/model")
    try:
        slug = normalise_slug(model_id)
    except ValueError as exc:
        raise ValidationError(f"{label}: cannot make a slug from the id: {exc}") from None

    pricing = _mapping(entry.get("pricing"))
    prompt = _price(pricing.get("prompt"), label, "pricing.prompt")
    completion = _price(pricing.get("completion"), label, "pricing.completion")
    architecture = _mapping(entry.get("architecture"))
    top_provider = _mapping(entry.get("top_provider"))
    parameters = entry.get("supported_parameters")
    parameters = parameters if isinstance(parameters, list) else []
    name = entry.get("name")
    name = name.strip() if isinstance(name, str) and name.strip() else model_name
    context = _tokens(entry.get("context_length"), label, "context_length")
    if context is None:
        context = _tokens(top_provider.get("context_length"), label, "top_provider.context_length")
    try:
        return ModelCreate(
            slug=slug,
            provider=provider,
            name=_PROVIDER_PREFIX.sub("", name, count=1) or name,
            model_name=model_name,
            model_id_openrouter=model_id,
            context_length=context,
            max_output_tokens=_tokens(
                top_provider.get("max_completion_tokens"),
                label,
                "top_provider.max_completion_tokens",
            ),
            price_prompt=prompt,
            price_completion=completion,
            vision="image" in _input_modalities(architecture),
            function_calling="tools" in parameters,
            json_mode="response_format" in parameters or "structured_outputs" in parameters,
            # Every chat model on OpenRouter streams (its API is OpenAI's, with `stream`).
            streaming=True,
            is_free=(prompt == 0 and completion == 0) or model_id.endswith(":free"),
            is_available=True,
            # JSON types only, NaN/infinity as text, no NUL: what every database stores.
            additional_capabilities=plain({k: entry[k] for k in _EXTRA_KEYS if k in entry}),
        )
    except PydanticValidationError as exc:
        raise ValidationError(f"{label}: {describe_errors(exc)}") from None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _input_modalities(architecture: dict[str, Any]) -> list[str]:
    modalities = architecture.get("input_modalities")
    if isinstance(modalities, list):
        return [str(m) for m in modalities]
    # Older answers only had `modality`, e.g. "text+image->text".
    modality = architecture.get("modality")
    return modality.split("->")[0].split("+") if isinstance(modality, str) else []


def _price(value: Any, label: str, field: str) -> float | None:
    """USD per token (a string, as OpenRouter sends it) → USD per 1M tokens.

    Decimal keeps "0.000003" exact (3.0, not 2.9999999999999996). A negative price is
    OpenRouter's "decided per request" (its auto router sends -1): stored as unknown.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValidationError(f"{label}: {field} is not a number ({_short(value)})")
    try:
        per_token = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError(f"{label}: {field} is not a number ({_short(value)})") from None
    if not per_token.is_finite():
        raise ValidationError(f"{label}: {field} is not a number ({_short(value)})")
    if per_token < 0:
        return None
    try:
        per_million = float(per_token * PER_MILLION)
    except ArithmeticError:  # e.g. "1e999999999": past what Decimal multiplies
        per_million = math.inf
    if not math.isfinite(per_million):
        raise ValidationError(f"{label}: {field} is out of range ({_short(value)})")
    return per_million


def _tokens(value: Any, label: str, field: str) -> int | None:
    """A token count; missing or zero means unknown."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(f"{label}: {field} is not a whole number ({_short(value)})")
    if isinstance(value, float) and not value.is_integer():
        raise ValidationError(f"{label}: {field} is not a whole number ({_short(value)})")
    return int(value) if value > 0 else None


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
