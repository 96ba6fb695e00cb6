from bale.cli.main import entry

entry()
