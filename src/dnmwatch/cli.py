"""The ``dnmwatch`` command line: one command, sub-commands per stage.

Sub-command groups live beside the code they drive (``dnmwatch.sim.cli`` and so on) and are
registered here, so this module stays a thin table of contents. Errors of the package
(:class:`~dnmwatch.errors.DnmwatchError`) are shown as one clear message and a non-zero exit
status, never as a traceback.
"""

from __future__ import annotations

import inspect
import sys

import typer

from dnmwatch import __version__
from dnmwatch.cliopts import ConfigOpt, DataDirOpt, resolve_settings
from dnmwatch.collect.protocol import LinkSource
from dnmwatch.errors import ConfigError, DnmwatchError
from dnmwatch.settings import format_settings

app = typer.Typer(
    name="dnmwatch",
    help="Monitor drug trade on darknet markets: collect, extract, normalise, estimate, publish.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dnmwatch {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """dnmwatch: systematic, safe monitoring of darknet drug markets."""


config_app = typer.Typer(help="Inspect the effective settings.", no_args_is_help=True)


@config_app.command("show")
def _config_show(config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Print the effective settings as TOML (secrets shown as their references, never values)."""
    typer.echo(format_settings(resolve_settings(config, data_dir)))


def _crawl_link_source(adapter_name: str) -> LinkSource:
    """The adapter that tells the crawler what to follow (built-in or plug-in).

    The crawler only asks for page types and links, never records, so the adapter gets a
    throw-away pseudonym key: crawling never reads or creates the real key file.
    """
    import secrets

    from dnmwatch.adapters.registry import load_registry
    from dnmwatch.pseudonym import Pseudonymizer

    return load_registry().create(adapter_name, Pseudonymizer(secrets.token_bytes(32)))


def _register() -> None:
    """Attach the sub-command groups. Done at call time so importing this module stays cheap."""
    from dnmwatch.adapters.cli import register as register_adapters
    from dnmwatch.collect.cli import register as register_collect
    from dnmwatch.demo import register as register_demo
    from dnmwatch.estimate.cli import register as register_build
    from dnmwatch.normalise.cli import register as register_normalise
    from dnmwatch.privacy.cli import register as register_privacy
    from dnmwatch.report.cli import register as register_report
    from dnmwatch.scale.cli import register as register_extract
    from dnmwatch.sim.cli import register as register_sim
    from dnmwatch.web.cli import register as register_web

    app.add_typer(config_app, name="config")
    register_sim(app)
    register_normalise(app)
    register_adapters(app)
    register_collect(app, _crawl_link_source)
    register_demo(app)
    register_privacy(app)
    register_extract(app)
    register_build(app)
    register_report(app)
    register_web(app)
    reflow_help(app)


def _reflow(text: str) -> str:
    """Paragraphs of a docstring as one line each: the terminal re-wraps them (a docstring's
    hard line breaks, kept by Rich, made ragged help text)."""
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def reflow_help(typer_app: typer.Typer) -> None:
    """Re-flow the help of every command of ``typer_app`` and of its sub-apps."""
    for command in typer_app.registered_commands:
        doc = command.help or inspect.getdoc(command.callback)
        if doc:
            command.help = _reflow(doc)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            reflow_help(group.typer_instance)


EXIT_CONFIG = 2
EXIT_ERROR = 1


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status.

    Typer/Click handle usage errors themselves (message + status 2); errors of the package are
    turned into one line on stderr and status 1 (2 for configuration errors), never a traceback.
    """
    _register()
    try:
        app(args=argv, prog_name="dnmwatch")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except DnmwatchError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        return EXIT_CONFIG if isinstance(exc, ConfigError) else EXIT_ERROR
    except KeyboardInterrupt:
        typer.secho("interrupted", err=True)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
