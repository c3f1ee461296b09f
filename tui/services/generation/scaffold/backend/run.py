"""Part of the ThesisApp scaffold: runs the generated `app` on the port the environment
gives (PORT, from the app's .env through docker-compose.yml), so the code and the compose
file always agree on it."""

import os

from app import app

if __name__ == "__main__":
    # All interfaces of the container's own network: the host publishes the port on
    # 127.0.0.1 only (ThesisApp's container runner).
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "5000")), debug=False)  # nosec B104
