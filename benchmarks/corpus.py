"""A corpus of apps that resemble real LLM-generated apps, for the batch benchmarks.

Each app, as the 270 real ones studied look: `backend/app.py`, one Flask file of 50-300 lines
with routes, SQLAlchemy models and some of the insecure patterns generated code has (SQL by
string formatting, `shell=True`, `pickle`, hard-coded secrets, `debug=True`); an unpinned
`backend/requirements.txt`; `frontend/src/App.jsx`, one React component of 100-400 lines
with state, effects, fetch calls and now and then `dangerouslySetInnerHTML` or `eval`; a
`frontend/package.json`. Deterministic for a seed, so two runs measure the same code.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

ENTITIES = ["Todo", "Post", "Comment", "Product", "Order", "Booking", "Poll", "Message",
            "Note", "Task", "Event", "Link", "File", "Board", "Card"]  # fmt: skip

MODEL = """

class {name}(db.Model):
    __tablename__ = "{table}"
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200), nullable=False)
    body = db.Column(db.Text, default="")
    owner_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    created_at = db.Column(db.DateTime, default=datetime.utcnow)

    def to_dict(self):
        return {{"id": self.id, "title": self.title, "body": self.body,
                "owner_id": self.owner_id, "created_at": self.created_at.isoformat()}}
"""

ROUTES = [
    """

@app.route("/api/{table}", methods=["GET"])
def list_{table}():
    items = {name}.query.order_by({name}.created_at.desc()).all()
    return jsonify([item.to_dict() for item in items])
""",
    """

@app.route("/api/{table}", methods=["POST"])
def create_{table}():
    data = request.get_json() or {{}}
    if not data.get("title"):
        return jsonify({{"error": "title is required"}}), 400
    item = {name}(title=data["title"], body=data.get("body", ""), owner_id=session.get("user_id"))
    db.session.add(item)
    db.session.commit()
    return jsonify(item.to_dict()), 201
""",
    """

@app.route("/api/{table}/<int:item_id>", methods=["DELETE"])
def delete_{table}(item_id):
    item = {name}.query.get_or_404(item_id)
    db.session.delete(item)
    db.session.commit()
    return "", 204
""",
    """

@app.route("/api/{table}/search")
def search_{table}():
    term = request.args.get("q", "")
    conn = sqlite3.connect("app.db")
    rows = conn.execute("SELECT * FROM {table} WHERE title LIKE '%" + term + "%'").fetchall()
    return jsonify(rows)
""",
    """

@app.route("/api/{table}/export")
def export_{table}():
    name = request.args.get("name", "export")
    subprocess.call("tar czf /tmp/" + name + ".tgz data/", shell=True)
    return jsonify({{"ok": True}})
""",
    """

@app.route("/api/{table}/import", methods=["POST"])
def import_{table}():
    payload = pickle.loads(request.data)
    for entry in payload:
        db.session.add({name}(title=str(entry)))
    db.session.commit()
    return jsonify({{"imported": len(payload)}})
""",
]

BACKEND_HEAD = '''"""{title} API generated for app {number}."""
import os
import pickle
import sqlite3
import subprocess
from datetime import datetime

from flask import Flask, jsonify, request, session
from flask_cors import CORS
from flask_sqlalchemy import SQLAlchemy
from werkzeug.security import check_password_hash, generate_password_hash

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///app.db"
app.config["SECRET_KEY"] = "{secret}"
CORS(app)
db = SQLAlchemy(app)


class User(db.Model):
    __tablename__ = "users"
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(80), unique=True, nullable=False)
    password_hash = db.Column(db.String(200), nullable=False)


@app.route("/api/register", methods=["POST"])
def register():
    data = request.get_json() or {{}}
    password = generate_password_hash(data.get("password", ""))
    user = User(username=data.get("username"), password_hash=password)
    db.session.add(user)
    db.session.commit()
    return jsonify({{"id": user.id}}), 201


@app.route("/api/login", methods=["POST"])
def login():
    data = request.get_json() or {{}}
    user = User.query.filter_by(username=data.get("username")).first()
    if user and check_password_hash(user.password_hash, data.get("password", "")):
        session["user_id"] = user.id
        return jsonify({{"ok": True}})
    return jsonify({{"error": "invalid credentials"}}), 401
'''

BACKEND_TAIL = """

@app.route("/health")
def health():
    return jsonify({{"status": "ok"}})


if __name__ == "__main__":
    with app.app_context():
        db.create_all()
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", {port})), debug=True)
"""

JSX_HEAD = """import React, {{ useEffect, useState }} from "react";

const API = "http://localhost:{port}";

export default function App() {{
  const [items, setItems] = useState([]);
  const [title, setTitle] = useState("");
  const [error, setError] = useState(null);
  const [query, setQuery] = useState("");
  const [user, setUser] = useState(null);
"""

JSX_BLOCKS = [
    """
  useEffect(() => {{
    fetch(`${{API}}/api/{table}`)
      .then((response) => response.json())
      .then((data) => setItems(data))
      .catch((err) => setError(err.message));
  }}, []);
""",
    """
  async function add{name}(event) {{
    event.preventDefault();
    if (!title.trim()) {{
      setError("Title is required");
      return;
    }}
    const response = await fetch(`${{API}}/api/{table}`, {{
      method: "POST",
      headers: {{ "Content-Type": "application/json" }},
      body: JSON.stringify({{ title }}),
    }});
    const created = await response.json();
    setItems([created, ...items]);
    setTitle("");
  }}
""",
    """
  async function remove{name}(id) {{
    await fetch(`${{API}}/api/{table}/${{id}}`, {{ method: "DELETE" }});
    setItems(items.filter((item) => item.id !== id));
  }}
""",
    """
  function highlight{name}(text) {{
    const unused = 0;
    return {{ __html: text.replace(query, `<mark>${{query}}</mark>`) }};
  }}
""",
    """
  function compute{name}(expression) {{
    return eval(expression);
  }}
""",
]

JSX_TAIL = """
  return (
    <div className="app">
      <h1>{title}</h1>
      {{error && <p className="error">{{error}}</p>}}
      <form onSubmit={{(event) => event.preventDefault()}}>
        <input value={{title}} onChange={{(event) => setTitle(event.target.value)}} />
        <input value={{query}} onChange={{(event) => setQuery(event.target.value)}} />
        <button type="submit">Add</button>
      </form>
      <ul>
        {{items.map((item) => (
          <li key={{item.id}}>
            <span dangerouslySetInnerHTML={{{{ __html: item.title }}}} />
          </li>
        ))}}
      </ul>
      {{user ? <p>Signed in as {{user.username}}</p> : <p>Not signed in</p>}}
    </div>
  );
}}
"""


def _backend(rng: random.Random, number: int, port: int) -> str:
    entities = rng.sample(ENTITIES, rng.randint(1, 4))
    text = BACKEND_HEAD.format(title=entities[0], number=number,
                               secret=f"dev-secret-{rng.randint(1000, 9999)}")  # fmt: skip
    for name in entities:
        table = name.lower() + "s"
        text += MODEL.format(name=name, table=table)
        for route in rng.sample(ROUTES, rng.randint(2, len(ROUTES))):
            text += route.format(name=name, table=table)
    return text + BACKEND_TAIL.format(port=port)


def _frontend(rng: random.Random, port: int) -> str:
    entities = rng.sample(ENTITIES, rng.randint(4, 10))
    text = JSX_HEAD.format(port=port)
    for name in entities:
        for block in rng.sample(JSX_BLOCKS, rng.randint(3, len(JSX_BLOCKS))):
            text += block.format(name=name, table=name.lower() + "s")
    return text + JSX_TAIL.format(title=entities[0] + " board")


def write_app(root: Path, slug: str, number: int, seed: int) -> Path:
    rng = random.Random(f"{seed}:{slug}:{number}")
    app = root / slug / f"app{number}"
    (app / "backend").mkdir(parents=True, exist_ok=True)
    (app / "frontend" / "src").mkdir(parents=True, exist_ok=True)
    port = 5000 + number
    (app / "backend" / "app.py").write_text(_backend(rng, number, port))
    (app / "backend" / "requirements.txt").write_text(
        "flask\nflask-cors\nflask-sqlalchemy\nwerkzeug\n"
    )
    (app / "frontend" / "src" / "App.jsx").write_text(_frontend(rng, port))
    (app / "frontend" / "package.json").write_text(
        json.dumps(
            {
                "name": f"app{number}",
                "private": True,
                "version": "0.1.0",
                "dependencies": {"react": "^18.2.0", "react-dom": "^18.2.0"},
                "devDependencies": {"vite": "^5.0.0"},
            },
            indent=2,
        )
    )
    return app


def write_corpus(root: Path, apps: int, seed: int = 1) -> list[tuple[str, int]]:
    """`apps` apps, 30 per model (`bench_model0/app1` …); returns (model, number) pairs."""
    pairs = [(f"bench_model{n // 30}", n % 30 + 1) for n in range(apps)]
    for slug, number in pairs:
        write_app(root, slug, number, seed)
    return pairs
