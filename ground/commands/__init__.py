"""The ``ilrs-ground`` subcommands (:mod:`ground.cli` parses the command line and calls them)."""
