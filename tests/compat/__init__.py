"""Compatibility with the real dvc, both ways, through the two command lines.

Every test here runs `dvc` (3.67, from its own virtualenv) beside `bale` on the
same repository, cache or data, and checks what a user would see: `status`
output, restored bytes, and the files both tools write.
"""
