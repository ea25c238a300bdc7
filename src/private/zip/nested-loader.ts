/**
 * The Python loader of a nested ("zip inside zip") bundle.
 *
 * The outer zip holds this loader and the real tree as a STORED inner zip. On the first
 * import in an execution environment the loader unpacks the inner zip once under /tmp
 * (or $POSSUM_EXTRACT_ROOT) and puts it first on sys.path. It is written to survive
 * what breaks other loaders: concurrent cold starts (an exclusive flock), a kill during
 * extraction (unpack into a staging folder, then one atomic rename; stale staging
 * folders are removed under the lock), zip-slip entries (checked before anything is
 * written), and a /tmp that is too small (checked first, with the sizes in the message).
 * A finished tree is found by name (the inner zip's hash), so later imports do nothing.
 */

/** Where the loader sits and how it hands control to the user's code. */
export type LoaderPlacement =
  /**
   * The loader is the `__init__.py` of the project's top-level package: the handler
   * string the user already deploys (`pkg.module.function`) keeps working unchanged.
   */
  | { readonly kind: 'package'; readonly packageName: string }
  /**
   * The loader is a top-level module whose `handler` delegates to the handler named by
   * the `POSSUM_HANDLER` environment variable; the function's handler points at it.
   */
  | { readonly kind: 'handler' };

/** Module the function's handler points at in `handler` placement. */
export const HANDLER_LOADER_MODULE = '_possum_loader';
/** The handler string for `handler` placement. */
export const HANDLER_LOADER_HANDLER = `${HANDLER_LOADER_MODULE}.handler`;
/** Environment variable that carries the real handler in `handler` placement. */
export const REAL_HANDLER_ENV = 'POSSUM_HANDLER';
/** File name of the stored inner zip, beside the loader. */
export const INNER_ZIP_NAME = '_possum_bundle.zip';

/** Zip paths of the loader and of the inner zip for a placement. */
export function loaderPaths(placement: LoaderPlacement): { loader: string; innerZip: string } {
  if (placement.kind === 'package') {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(placement.packageName)) {
      throw new Error(
        `Nested zip loader package ${JSON.stringify(placement.packageName)} is not a valid Python package name; ` +
        'use the top-level import name of your project (letters, digits and underscores).');
    }
    return { loader: `${placement.packageName}/__init__.py`, innerZip: `${placement.packageName}/${INNER_ZIP_NAME}` };
  }
  return { loader: `${HANDLER_LOADER_MODULE}.py`, innerZip: INNER_ZIP_NAME };
}

/** The loader's Python source for an inner zip whose content hash starts with `bundleId`. */
export function loaderSource(bundleId: string, placement: LoaderPlacement): string {
  if (!/^[0-9a-f]{16,64}$/.test(bundleId)) {
    throw new Error(`Nested zip bundle id ${JSON.stringify(bundleId)} must be lowercase hex.`);
  }
  const tail = placement.kind === 'package' ? PACKAGE_TAIL : HANDLER_TAIL;
  return (COMMON + tail)
    .replace(/@BUNDLE_ID@/g, bundleId)
    .replace(/@INNER_ZIP@/g, INNER_ZIP_NAME)
    .replace(/@REAL_HANDLER_ENV@/g, REAL_HANDLER_ENV);
}

const COMMON = `# Nested-zip loader written by possum-cdk. Do not edit: the build regenerates it.
#
# The function's real files are in the stored zip beside this file. On the first import in
# an execution environment they are unpacked once under /tmp and put first on sys.path.
import errno as _possum_errno
import fcntl as _possum_fcntl
import os as _possum_os
import shutil as _possum_shutil
import sys as _possum_sys
import time as _possum_time
import zipfile as _possum_zipfile

_POSSUM_BUNDLE_ID = "@BUNDLE_ID@"
_POSSUM_INNER_ZIP = _possum_os.path.join(_possum_os.path.dirname(_possum_os.path.abspath(__file__)), "@INNER_ZIP@")
_POSSUM_BLOCK = 4096


def _possum_fail(message):
    raise RuntimeError("possum-cdk loader: " + message)


def _possum_checked_members(archive, base):
    """Every entry with its destination; refuses the zip if any entry could leave base.

    A check on the names alone is enough: base is a folder this process just created, and
    zipfile writes only regular files and folders into it (never links), so nothing inside
    it can point elsewhere. A name is safe when it is relative, has no backslash or NUL, and
    no empty, "." or ".." part.
    """
    members = []
    prefix = base + "/"
    for info in archive.infolist():
        name = info.filename
        parts = name.rstrip("/").split("/")
        if (not name or name[0] == "/" or chr(92) in name or chr(0) in name
                or ".." in parts or "." in parts or "" in parts):
            _possum_fail("refusing to unpack %s: entry %r would be written outside %s" % (_POSSUM_INNER_ZIP, name, base))
        members.append((info, prefix + name))
    return members


def _possum_explain(error, root, files):
    """Why unpacking failed, in words: the folder, the cause, the fix."""
    code = error.errno
    if code == _possum_errno.EROFS:
        why = "the folder is on a read-only file system"
    elif code in (_possum_errno.EACCES, _possum_errno.EPERM):
        why = "permission denied"
    elif code in (_possum_errno.ENOSPC, _possum_errno.EDQUOT):
        why = ("no space or no free inodes left (the bundle has %d files); raise the function's ephemeral storage "
               "size (EphemeralStorage)" % files)
    else:
        why = _possum_os.strerror(code) if code else str(error)
    # from None: the OSError's own traceback would only repeat this message.
    raise RuntimeError("possum-cdk loader: cannot unpack %s into %s: %s (%s). POSSUM_EXTRACT_ROOT, when set, must name a "
                       "writable folder; on Lambda leave it unset to use /tmp." % (_POSSUM_INNER_ZIP, root, why, error)) from None


def _possum_unpack():
    root = _possum_os.environ.get("POSSUM_EXTRACT_ROOT") or "/tmp"
    target = _possum_os.path.join(root, "possum-" + _POSSUM_BUNDLE_ID)
    if _possum_os.path.isdir(target):
        return target  # unpacked by an earlier start: the rename below makes it complete
    files = 0
    try:
        _possum_os.makedirs(root, exist_ok=True)
        lock_fd = _possum_os.open(_possum_os.path.join(root, ".possum-" + _POSSUM_BUNDLE_ID + ".lock"),
                                  _possum_os.O_CREAT | _possum_os.O_RDWR, 0o600)
    except OSError as error:
        _possum_explain(error, root, files)
    try:
        _possum_fcntl.flock(lock_fd, _possum_fcntl.LOCK_EX)
        if _possum_os.path.isdir(target):
            return target  # another process finished while this one waited for the lock
        started = _possum_time.monotonic()
        staging_prefix = ".possum-" + _POSSUM_BUNDLE_ID + ".staging-"
        for name in _possum_os.listdir(root):
            if name.startswith(staging_prefix):
                # Left by a process killed mid-extraction; nobody else holds the lock.
                _possum_shutil.rmtree(_possum_os.path.join(root, name), ignore_errors=True)
        staging = _possum_os.path.join(root, staging_prefix + str(_possum_os.getpid()))
        with _possum_zipfile.ZipFile(_POSSUM_INNER_ZIP) as archive:
            infos = archive.infolist()
            files = len(infos)
            needed = sum((i.file_size + _POSSUM_BLOCK - 1) // _POSSUM_BLOCK * _POSSUM_BLOCK for i in infos)
            needed += _POSSUM_BLOCK * len(infos)
            free = _possum_shutil.disk_usage(root).free
            if free < needed:
                _possum_fail(
                    "not enough space in %s to unpack this function: it needs %d bytes (%d MB) and %d bytes (%d MB) are free. "
                    "Raise the function's ephemeral storage size (EphemeralStorage) by at least %d MB."
                    % (root, needed, needed // 1048576 + 1, free, free // 1048576, (needed - free) // 1048576 + 1))
            # Files are created 0666 less the umask; only other modes need a chmod.
            umask = _possum_os.umask(0o022)
            _possum_os.umask(umask)
            created = 0o666 & ~umask
            try:
                _possum_os.mkdir(staging, 0o755)
                members = _possum_checked_members(archive, _possum_os.path.realpath(staging))
                for info, dest in members:
                    archive.extract(info, staging)
                    mode = (info.external_attr >> 16) & 0o777
                    if mode and mode != created and not info.is_dir():
                        _possum_os.chmod(dest, mode)
                _possum_os.rename(staging, target)
            except BaseException:
                _possum_shutil.rmtree(staging, ignore_errors=True)
                raise
        _possum_sys.stderr.write("possum-cdk loader: unpacked %d files (%d bytes) to %s in %.2f s\\n"
                                 % (len(infos), sum(i.file_size for i in infos), target, _possum_time.monotonic() - started))
        return target
    except OSError as error:
        _possum_explain(error, root, files)
    finally:
        _possum_os.close(lock_fd)  # closing the descriptor releases the lock


_POSSUM_TARGET = _possum_unpack()
if _POSSUM_TARGET not in _possum_sys.path:
    _possum_sys.path.insert(0, _POSSUM_TARGET)
`;

const PACKAGE_TAIL = `
# This module stands in for the package: from here on it is the package as found in the
# unpacked tree. Its spec, loader, __path__ and __file__ are the unpacked package's, so
# submodules, importlib.resources and pkgutil.get_data all look there; then the real
# __init__.py (if the package has one) runs in this module's namespace.
import importlib.machinery as _possum_machinery

_possum_spec = _possum_machinery.PathFinder.find_spec(__name__, [_POSSUM_TARGET])
if _possum_spec is None or _possum_spec.submodule_search_locations is None:
    _possum_fail("the unpacked bundle in %s has no package %s" % (_POSSUM_TARGET, __name__))
__spec__ = _possum_spec
__loader__ = _possum_spec.loader
__path__[:] = list(_possum_spec.submodule_search_locations)
_possum_sys.modules[__name__].__spec__ = _possum_spec
if _possum_spec.origin and _possum_os.path.isfile(_possum_spec.origin):
    __file__ = _possum_spec.origin
    with open(_possum_spec.origin, "rb") as _possum_f:
        _possum_code = compile(_possum_f.read(), _possum_spec.origin, "exec")
    exec(_possum_code, globals())
`;

const HANDLER_TAIL = `
import importlib as _possum_importlib


def _possum_resolve_handler():
    spec = _possum_os.environ.get("@REAL_HANDLER_ENV@", "")
    module_name, _, function_name = spec.rpartition(".")
    if not module_name or not function_name:
        _possum_fail("environment variable @REAL_HANDLER_ENV@=%r must name the real handler as module.function" % spec)
    module = _possum_importlib.import_module(module_name.replace("/", "."))
    return getattr(module, function_name)


# Resolved at import so the user's module initialises during the init phase, as it would unnested.
_POSSUM_HANDLER = _possum_resolve_handler()


def handler(event, context):
    return _POSSUM_HANDLER(event, context)
`;
