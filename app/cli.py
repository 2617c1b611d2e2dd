"""The `rxlens` command line: build the knowledge base, check drugs, read images, self-check.

Each command is a thin shell over the library: parse arguments, call one function, print the result.
"""

from __future__ import annotations

import typer

from app.config import get_settings

cli = typer.Typer(help="RxLens: medication leaflets, prescriptions and drug interactions.", no_args_is_help=True)
kb_cli = typer.Typer(help="Build and inspect the drug knowledge base.", no_args_is_help=True)
cli.add_typer(kb_cli, name="kb")


@cli.command("self-check")
def self_check() -> None:
    """Load every component on the embedded defaults and report whether it works."""
    settings = get_settings()
    typer.echo(f"knowledge base: {settings.knowledge_base}")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
