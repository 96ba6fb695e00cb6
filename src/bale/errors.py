"""Every error bale reports to a person.

`BaleError` is the root; the CLI prints its message on one line and exits 1.
Subclasses carry the fields a caller may want and, where one fits, also
subclass a builtin so API users can catch that.
"""

from __future__ import annotations


class BaleError(Exception):
    """A failure caused by input or state, told to the user in one line."""

    def __reduce__(self) -> tuple:
        # Pickled as its message and fields, not by calling __init__ again
        # (whose arguments differ per class): errors cross from forked
        # workers (`bale.forks`) intact.
        return _restore, (type(self), self.args, self.__dict__)


def _restore(cls: type[BaleError], args: tuple, fields: dict) -> BaleError:
    err = cls.__new__(cls, *args)
    err.args = args
    err.__dict__.update(fields)
    return err


class UsageError(BaleError):
    """The command line itself is wrong (exit status 2)."""


class NotARepoError(BaleError):
    def __init__(self, path: str) -> None:
        super().__init__(
            f"'{path}' is not inside a bale/DVC repository; "
            "run: bale init (or cd into a repository)"
        )
        self.path = path


class ConfigError(BaleError):
    """A config file or value is invalid."""


class DvcFileError(BaleError):
    """A `.dvc` file, `dvc.yaml` or `dvc.lock` cannot be read."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class IgnoreFileError(BaleError):
    """A `.dvcignore` file cannot be read; `line` is 0 for the whole file."""

    def __init__(self, path: str, line: int, problem: str) -> None:
        where, fix = (f"{path}:{line}", "fix or remove that line") if line else (path, "fix it")
        super().__init__(f"{where}: {problem}; {fix}")
        self.path = path
        self.line = line
        self.problem = problem


class ManifestError(BaleError):
    """A `.dir` manifest is malformed or names an unsafe path."""

    def __init__(self, oid: str, problem: str) -> None:
        super().__init__(f"directory manifest {oid}: {problem}")
        self.oid = oid
        self.problem = problem


class ManifestTooLargeError(ManifestError):
    """A manifest too large to read in bounded memory; its object is not at fault."""

    def __init__(self, oid: str, problem: str, size: int, limit: int) -> None:
        super().__init__(oid, problem)
        self.size = size
        self.limit = limit


class UnsafePathError(BaleError, ValueError):
    """A path from untrusted input would escape the workspace."""


class OutsideRepoError(BaleError):
    def __init__(self, path: str, root: str) -> None:
        super().__init__(f"'{path}' is outside the repository '{root}'")
        self.path = path


class TargetNotFoundError(BaleError, FileNotFoundError):
    def __init__(self, path: str, hint: str = "") -> None:
        msg = f"'{path}' does not exist"
        super().__init__(msg + (f"; {hint}" if hint else ""))
        self.path = path


class TargetError(BaleError, ValueError):
    """A command target cannot be tracked, moved or written as asked
    (metadata, unreadable, not a file or folder, already there)."""


class StageOutputError(TargetError):
    """The target is an output of a pipeline stage, which only a run records."""


class InitError(BaleError):
    """`init` cannot create a repository here."""


class GitRequiredError(BaleError):
    """The command needs git and the repository has none (core.no_scm)."""


class UnknownUseError(BaleError):
    """What some revision uses cannot be told, so nothing may be deleted."""


class TransferError(BaleError):
    """Objects failed to move (missing or corrupt on the remote, per object)."""


class ConfirmationError(BaleError):
    """A destructive command needs a confirmation it could not ask for."""


class CorruptObjectsError(BaleError):
    """Objects do not match their names (fsck)."""


class SourceError(BaleError):
    """Another repository (a registry, given by URL or path) cannot be read."""


class RepositoryNotFoundError(SourceError):
    """The URL or path is not a git repository, or cannot be reached."""


class RevisionNotFoundError(SourceError, LookupError):
    """The source has no such branch, tag or commit."""


class PathNotFoundError(SourceError, FileNotFoundError):
    """The source holds no such file or folder at that revision."""


class ArtifactNotFoundError(SourceError, LookupError):
    """No such artifact, registered version or stage assignment."""


class PathIsFolderError(SourceError, IsADirectoryError):
    """A file was asked for and the path is a folder."""


class UnknownRemoteError(SourceError, LookupError):
    """The repository's config names no such remote (a remote asked for by name)."""


class OverlappingOutputError(BaleError):
    """A new output would overlap one that is already tracked."""


class PipelineError(BaleError):
    """The stages cannot run as written: a cycle, a missing dependency."""


class StageFailedError(PipelineError):
    """A stage's command failed; what earlier stages recorded is kept."""

    def __init__(self, stage: str, cmd: str, code: int) -> None:
        if code == 127:
            how = "failed: command not found (exit status 127)"
        elif code < 0 or code > 128:
            how = f"was stopped by signal {-code if code < 0 else code - 128}"
        else:
            how = f"exited with status {code}"
        super().__init__(
            f"stage '{stage}': '{cmd}' {how}; its dvc.lock entry and the cache were left "
            "as they were: fix the command or its inputs and run bale repro again"
        )
        self.stage = stage
        self.code = code


class GitTrackedError(BaleError):
    def __init__(self, path: str) -> None:
        super().__init__(
            f"'{path}' is already tracked by git; "
            f"run: git rm -r --cached '{path}' and commit, then add it again"
        )
        self.path = path


class ObjectMissingError(BaleError, FileNotFoundError):
    """An object the command needs is in neither the cache nor the remote."""

    def __init__(self, oid: str, path: str = "") -> None:
        where = f" for '{path}'" if path else ""
        super().__init__(f"object {oid}{where} is not in the cache; run: bale fetch (or bale pull)")
        self.oid = oid
        self.path = path


class ObjectCorruptError(BaleError):
    """An object's bytes do not hash to its name."""

    def __init__(self, oid: str, actual: str, where: str) -> None:
        super().__init__(f"object {oid} in {where} is corrupt (its content hashes to {actual})")
        self.oid = oid
        self.actual = actual
        self.where = where


class CheckoutError(BaleError):
    """Checkout would lose data or could not place some files."""


class LockError(BaleError):
    """Another bale or dvc process holds the repository lock."""


class GitError(BaleError):
    """The git command failed."""


class RemoteError(BaleError):
    """A remote is misconfigured or failed."""


class RemoteAccessError(RemoteError):
    """Talking to a remote failed; `remote` is its URL without secrets.

    `transient` errors (unreachable, reset, 5xx, throttled) are retried by the
    transfer engine; the others are not.
    """

    transient = False
    attempts = 1  # tries made before it was raised (`remotes.runner.retry` sets it)

    def __init__(self, remote: str, problem: str) -> None:
        super().__init__(f"remote {remote}: {problem}")
        self.remote = remote
        self.problem = problem


class RemoteConfigError(RemoteAccessError):
    """The remote's URL or options are wrong, or its client is not installed."""


class RemoteAuthError(RemoteAccessError, PermissionError):
    """Wrong credentials, or the credentials may not do this."""


class RemoteNotFoundError(RemoteAccessError, FileNotFoundError):
    """The bucket, container or base folder does not exist."""


class RemoteUnavailableError(RemoteAccessError, ConnectionError):
    """The remote cannot be reached or keeps failing (after retries)."""

    transient = True


class RemoteObjectMissingError(RemoteAccessError, FileNotFoundError):
    """An object is not on the remote."""

    def __init__(self, remote: str, oid: str) -> None:
        super().__init__(
            remote, f"object {oid} is not on the remote; push it from a cache that has it"
        )
        self.oid = oid


class RemoteObjectCorruptError(ObjectCorruptError):
    """An object on the remote does not hash to its name; it was kept out of the cache."""

    def __init__(self, remote: str, oid: str, actual: str) -> None:
        BaleError.__init__(
            self,
            f"remote {remote}: object {oid} is corrupt (its content hashes to {actual}); "
            "it was not stored in the cache; delete it from the remote and push it "
            "again from a good copy",
        )
        self.oid = oid
        self.actual = actual
        self.where = remote
        self.remote = remote
