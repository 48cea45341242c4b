"""The `holdall` command. Command modules import only click; the rest loads inside commands."""
