"""completion: the shell completion script, from click's own completion."""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
def completion_cmd(shell: str) -> None:
    """Print the completion script for SHELL. Load it with

    \b
      bash:  eval "$(promoter completion bash)"    (in ~/.bashrc)
      zsh:   eval "$(promoter completion zsh)"     (in ~/.zshrc)
      fish:  promoter completion fish > ~/.config/fish/completions/promoter.fish

    Commands, options and choices complete; the CLI loads only what TAB
    needs, so completing is as fast as `promoter --version`."""
    from click.shell_completion import get_completion_class

    ctx = click.get_current_context()
    root = ctx.find_root().command
    completion = get_completion_class(shell)
    if completion is None:  # click knows every shell in SHELLS
        raise click.UsageError(f"no completion for {shell}")
    source = completion(root, {}, "promoter", "_PROMOTER_COMPLETE").source()
    click.echo(source)
