"""``void-eval recipes``: the ``external`` method's shipped recipes, and one recipe's parameters and notes.

Mounted by ``void_eval.cli`` via :func:`register`; only ``typer`` at module level.
"""

from __future__ import annotations

from typing import Annotated

import typer


def recipes_command(
    recipe: Annotated[
        str | None, typer.Argument(help="A shipped recipe name or a .toml file: show its parameters and notes.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> int:
    """List the recipes of the `external` method, or show one (its file, upstream revision, params, notes)."""
    import json

    from rich.console import Console
    from rich.table import Table

    from void_eval.methods.recipe import load_recipe, shipped_recipes

    console = Console(width=160)
    if recipe is None:
        rows = [_summary(load_recipe(name)) for name in shipped_recipes()]
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
            return 0
        table = Table(title="recipes of the external method (run with --methods LABEL=external)")
        for column in ("name", "tool", "devices", "mask", "input", "written from"):
            table.add_column(column)
        for row in rows:
            written = f"{row['upstream'].removeprefix('https://github.com/')} @ {row['revision'][:12]}"
            table.add_row(row["name"], row["title"], ",".join(row["devices"]), row["mask"], row["input"], written)
        console.print(table)
        typer.echo("Recipes were written from each project's inference script and tested against fake tools, not the "
                   "real models. Show one with: void-eval recipes NAME")  # fmt: skip
        return 0
    parsed = load_recipe(recipe)
    summary = _summary(parsed)
    summary["params"] = [
        {"name": p.name, "default": p.default, "required": p.required, "help": p.help} for p in parsed.params.values()
    ]
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
        return 0
    typer.echo(f"{parsed.title} ({parsed.name}): {parsed.source}")
    typer.echo(f"written from {parsed.upstream} at {parsed.revision}; runs on {' or '.join(parsed.devices)}")
    typer.echo(f"mask levels given: {summary['mask']}; input: {summary['input']}")
    table = Table(title="params (--param LABEL.NAME=VALUE)")
    for column in ("name", "default", "help"):
        table.add_column(column)
    for name, default, help_text in [("repo", "(required)", "the tool's checkout"),
                                     ("python", "python", "the interpreter of the tool's environment"),
                                     ("device", "the run's --device", "cpu, cuda or cuda:N")]:  # fmt: skip
        table.add_row(name, default, help_text)
    for param in parsed.params.values():
        table.add_row(param.name, "(required)" if param.required else repr(param.default), param.help)
    console.print(table)
    if parsed.notes:
        typer.echo(parsed.notes)
    required = "".join(f" --param {parsed.name}.{p.name}=..." for p in parsed.params.values() if p.required)
    typer.echo(
        f"\nvoid-eval bench --clips SUITE --methods {parsed.name}=external --param {parsed.name}.recipe={recipe} "
        f"--param {parsed.name}.repo=DIR --param {parsed.name}.python=PY{required} --out RUN"
    )
    return 0


def _summary(recipe) -> dict:
    mask = recipe.mask.levels if recipe.mask else f"quadmask ({recipe.rewrites} rewritten)"
    return {
        "name": recipe.name,
        "title": recipe.title,
        "file": str(recipe.source),
        "upstream": recipe.upstream,
        "revision": recipe.revision,
        "devices": list(recipe.devices),
        "mask": mask,
        "input": recipe.input.kind,
    }


def register(app: typer.Typer) -> None:
    """Mount ``recipes`` on the ``void-eval`` app."""
    app.command("recipes")(recipes_command)
