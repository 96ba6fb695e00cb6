"""Pure readers and writers of DVC's on-disk formats.

Functions here take and return text, bytes and plain records; they never touch
the filesystem, config or logging. Imports only `bale.errors`.
"""
