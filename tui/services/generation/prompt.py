"""What a model is asked: the backend first, from the template; then the frontend, with the
routes the backend turned out to have. Each prompt names the files to write, in the fenced
form the extraction reads, and the scaffold's conventions the code must keep (the Flask
object is `app` in backend/app.py and is not run by it; the test user comes from the
environment), so the scaffold, the ports and the functional test all fit what comes back."""

from __future__ import annotations

import json

from tui.services.generation.templates import Template

PROMPT_VERSION = 1
"""Bumped when the prompts change: recorded with each generated app."""

SYSTEM = (
    "You are an expert full-stack developer. You write complete, working code files, never "
    "placeholders or elisions. You answer with fenced code blocks whose fence names the "
    "file, like ```python:backend/app.py, and nothing the user did not ask for."
)

CONTINUE = (
    "Your answer was cut off by the length limit. Continue exactly where it stopped, "
    "without repeating anything and without any preamble."
)


def _endpoints(template: Template) -> str:
    lines = []
    for endpoint in template.endpoints:
        login = " [login required]" if endpoint.auth else ""
        lines.append(f"- {endpoint.label}{login} -> {endpoint.status}: {endpoint.description}")
        if endpoint.request is not None:
            lines.append(f"    example request body: {json.dumps(endpoint.request)}")
        if endpoint.response is not None:
            lines.append(f"    response shape: {json.dumps(endpoint.response)}")
    return "\n".join(lines)


def _bullets(items: list[str]) -> str:
    return "\n".join(f"- {item}" for item in items) or "- (none)"


def backend_prompt(template: Template) -> str:
    entities = "\n".join(
        f"- {entity.name}: " + ", ".join(f"{k} ({v})" for k, v in entity.fields.items())
        for entity in template.data_model
    )
    login = template.login
    token = (
        f" answering the token in the JSON field `{login.token}`" if login and login.token else ""
    )
    return f"""Build the backend of "{template.name}": {template.description}

Requirements:
{_bullets(template.backend_requirements)}

Admin:
{_bullets(template.admin_requirements)}

API (exact paths, methods, status codes and JSON shapes; shapes name the types of fields):
{_endpoints(template)}

Data model:
{entities}

Conventions of the scaffold the file is dropped into (follow them exactly):
- Write one file, backend/app.py, defining the Flask application object as `app`.
- Do not call app.run(): the scaffold serves `app` on the port in the PORT variable.
- Read SECRET_KEY and DATABASE_URL (an SQLite URL) from os.environ.
- At startup create the tables, and create the admin user from ADMIN_USERNAME,
  ADMIN_PASSWORD and ADMIN_EMAIL in os.environ if it does not exist yet.
- Log in with POST {login.path if login else "/api/auth/login"} (JSON username and password){token};
  protected routes read `Authorization: Bearer <token>`.
- Enable CORS for the frontend (flask_cors.CORS(app)).
- Available packages: flask, flask-cors, flask-sqlalchemy, pyjwt, werkzeug. If you need
  another, add a ```requirements:backend/requirements.txt block with only its line(s).

Answer with the complete file in one ```python:backend/app.py block."""


def frontend_prompt(template: Template, backend_routes: list[str]) -> str:
    routes = "\n".join(f"- {route}" for route in backend_routes) or _endpoints(template)
    return f"""Build the frontend of "{template.name}": {template.description}

Requirements:
{_bullets(template.frontend_requirements)}

The backend (already written) has these routes:
{routes}

Its API, as specified:
{_endpoints(template)}

Conventions of the scaffold the files are dropped into (follow them exactly):
- Write frontend/src/App.jsx exporting the root component as default; src/main.jsx (ours)
  mounts it. You may also write frontend/src/App.css and import it from App.jsx.
- Call the backend at import.meta.env.VITE_API_URL, e.g.
  `${{import.meta.env.VITE_API_URL}}/api/...`.
- Available packages: react, react-dom. If you need another, add a
  ```json:frontend/dependencies.json block mapping package names to versions.

Answer with the complete file in a ```jsx:frontend/src/App.jsx block (and
```css:frontend/src/App.css if you write styles)."""


def retry_prompt(problems: list[str]) -> str:
    """The next request after a reply that cannot be used, quoting what is wrong."""
    listed = "\n".join(f"- {problem}" for problem in problems)
    return (
        f"That answer cannot be used:\n{listed}\n"
        "Answer again with the complete files, each in its named fenced block."
    )
