"""(4) Configuration from AUTHSEC_* environment variables and from a config.yaml.

    python configuration.py

The same core reader backs every language: `ClientCredentials.from_env()` reads `AUTHSEC_*`
variables, and `ClientCredentials.from_config(path)` reads a YAML file (an `authsec:` mapping)
with `${VAR}` / `${VAR:-default}` interpolation from the environment. Unknown settings and unset
variables are errors that name them. In production your deployment sets the variables; here they
are set in-process to point at the local authorization server this example starts.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import authsec

from _local import API_AUDIENCE, local_auth_server

CONFIG_FILE = Path(__file__).with_name("config.yaml")


def describe(source: str, client: authsec.ClientCredentials) -> None:
    token = client.get_token()
    print(f"{source}: token for {token.scopes}, expires in {token.expires_at - time.time():.0f} s")


def main() -> None:
    with local_auth_server() as auth:
        # What a deployment would put in the agent's environment.
        os.environ.update(
            AUTHSEC_CLIENT_ID=auth.client_id,
            AUTHSEC_CLIENT_SECRET=auth.client_secret,
            AUTHSEC_TOKEN_URL=auth.token_url,
            AUTHSEC_SCOPES="read:data",
            AUTHSEC_AUDIENCE=API_AUDIENCE,
        )

        # [START config_env]
        # AUTHSEC_CLIENT_ID, AUTHSEC_CLIENT_SECRET (or AUTHSEC_CLIENT_SECRET_FILE), AUTHSEC_TOKEN_URL
        # (or AUTHSEC_ISSUER to discover it), AUTHSEC_SCOPES, AUTHSEC_AUDIENCE, AUTHSEC_REFRESH_BUFFER, ...
        client = authsec.ClientCredentials.from_env()
        # [END config_env]
        describe("from AUTHSEC_* variables", client)

        # [START config_yaml]
        # config.yaml's ${AUTHSEC_CLIENT_ID}, ${AUTHSEC_CLIENT_SECRET}, ... come from the environment.
        client = authsec.ClientCredentials.from_config(CONFIG_FILE)
        # [END config_yaml]
        describe(f"from {CONFIG_FILE.name}", client)

        # A variable the file needs is missing: the error names it (and never shows a value).
        del os.environ["AUTHSEC_CLIENT_SECRET"]
        try:
            authsec.ClientCredentials.from_config(CONFIG_FILE)
        except authsec.ConfigError as e:
            print(f"without AUTHSEC_CLIENT_SECRET: {e.code}: {e.message}")
    print("done: configuration")


if __name__ == "__main__":
    main()
