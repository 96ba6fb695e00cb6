"""The command line: parsing and printing only.

`main.py` maps each command to the module that defines it and imports only
that one, so `bale --version` starts in tens of milliseconds. Imports
`workspace`, `repo`, `remotes` and `errors`.
"""
