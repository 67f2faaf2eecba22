"""`assessment tokens`: read tokens for the query API."""

from __future__ import annotations

import typer

tokens_app = typer.Typer(help="Read tokens for the query API.", no_args_is_help=True)


@tokens_app.command("new")
def new_read_token() -> None:
    """Print a fresh read token and the READ_TOKENS entry that configures it.

    Only the entry (the token's SHA-256 digest) goes into the configuration; the token
    is shown once, here. Add the entry beside the old one to rotate, then remove the old.
    """
    from shared.tokens import new_token, token_digest

    token = new_token()
    typer.echo(f"read token (give it to the reader; it is not stored anywhere):\n  {token}")
    typer.echo(f"READ_TOKENS entry (separate entries with ','):\n  {token_digest(token)}")
