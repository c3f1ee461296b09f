"""The load test locust runs against an app's backend (ours; never the app's code).

Each simulated user requests every endpoint in THESIS_LOAD_ENDPOINTS (a JSON list of paths)
in turn, without waiting between requests.
"""

import json
import os

from locust import HttpUser, constant, task

ENDPOINTS = json.loads(os.environ.get("THESIS_LOAD_ENDPOINTS") or '["/"]')


class AppUser(HttpUser):
    wait_time = constant(0)

    @task
    def visit(self) -> None:
        for path in ENDPOINTS:
            self.client.get(path, name=path)
