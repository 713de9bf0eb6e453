-- The `wick` subcommands, in the order `wick --help` lists them: src/host/main.c asks this
-- table whether its first argument is a command, and wick.cli.main runs `module[fn](args)`.
-- Adding a subcommand is one row here plus its function (docs/contributing.md).
return {
  { name = "run", args = "[-n N] RECIPE [--config FILE.yaml]... [key=value]...",
    help = "run a recipe or a script, on one or more processes", module = "wick.cli", fn = "run" },
  { name = "runs", args = "[DIR]",
    help = "list the runs in DIR (default runs/) with their configs and results",
    module = "wick.cli", fn = "runs" },
  { name = "info", args = "",
    help = "print the version and what this build of wick has", module = "wick.cli", fn = "info" },
  { name = "convert", args = "IN.pt OUT.safetensors",
    help = "convert a state dict saved by torch.save to safetensors", module = "wick.cli",
    fn = "convert" },
}
