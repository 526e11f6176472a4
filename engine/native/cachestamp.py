"""Keep numba's on-disk cache of the compiled cores honest across edits.

numba checks a cached function against its *own* source file only: when a kernel in
engine/search/chess_kernels.py calls one in engine/search/kernels.py or engine/native/, or a
core reads a table from engine/native/bitboards.py (or a constant from engine/codecs/lc0.py,
engine/codecs/go_planes.py or engine/games/go.py), an edit of that other file leaves the
caller's cached code stale. :func:`refresh` stamps each cache directory with a digest of the
sources the kernels are compiled from and empties it of numba's files (``*.nbi``, ``*.nbc``)
when the digest changes, so the next call recompiles. It finds the directories as numba does
(``NUMBA_CACHE_DIR``, else ``__pycache__`` beside the sources if writable, else the user's
cache directory) and does nothing where it cannot write.

Which sources (:func:`sources`): the modules of engine/native/ and engine/search/ that define
numba-compiled code (a decorator from numba, or a call of ``njit``/``jit``/``vectorize``...),
and, transitively, the engine modules those import at module level, found statically with
``ast`` (relative imports, ``engine.…`` and ``tabula.engine.…``; modules outside the engine
package are not followed). Compiled code can only see what its module holds when it compiles
(numba freezes globals, and cannot run an import), so imports inside functions and under
``if TYPE_CHECKING`` are not followed: the Python-side helpers of a kernel module (the
gatherers, ``warm``, ``ctx_for``) import the codecs, the search and compile_ahead there, and
what they hand a kernel arrives as an argument at run time, not as compiled code. The files once
listed by hand are in that closure (engine/codecs/lc0.py through native/lc0_encoder.py,
engine/codecs/go_planes.py through native/go_encoder.py, engine/games/go.py through
native/go_rules.py), so no extra file is listed; an edit of a module no kernel reaches
(engine/search/workers.py, mcts.py, native.py, compile_ahead.py, this file) keeps the cache.
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent           # the engine package
_DIRS = (_ROOT / "native", _ROOT / "search")
_STAMP = "tabula-sources.stamp"
_WARM = "tabula-warm-{}.stamp"
#: numba names that compile what they are called on (as a decorator, any name from numba counts)
_COMPILERS = ("jit", "njit", "generated_jit", "vectorize", "guvectorize", "cfunc", "stencil", "intrinsic",
              "overload", "overload_method", "overload_attribute", "register_jitable", "jitclass")
_DECORATOR = re.compile(r"^[ \t]*@[ \t]*([A-Za-z_][\w.]*)", re.M)
_COMPILE_CALL = re.compile(r"((?:[A-Za-z_]\w*\.)*(?:%s))[ \t]*\(" % "|".join(_COMPILERS))
_TRIPLE = re.compile(r"\"\"\"|'''")
_BLOCK = ("if ", "if(", "elif ", "else", "try", "except", "finally", "with ")
_done = False
_seen: dict[Path, tuple[bytes, bool, tuple[str, ...]]] = {}  # path: (its text, kernel?, what it imports)


def _module_imports(text: str) -> list[ast.Import | ast.ImportFrom]:
    """The import statements a module runs when it is imported: those at its top level or in a
    top-level ``if``/``try``/``with`` (not in functions or classes, nor under ``if
    TYPE_CHECKING``). Only their lines are parsed (with ``ast``), not the whole file: that
    costs a tenth of a second for the kernels, at every start. Lines inside triple-quoted
    strings are passed over; a docstring line that reads as an import could only add a file."""
    lines = text.splitlines()
    found: list[ast.Import | ast.ImportFrom] = []
    quote = None   # the triple quote of a string still open
    keep = True    # indented lines belong to a top-level if/try/with whose imports run
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        stripped = line.lstrip()
        if quote is None and stripped[:1] in ("", "#"):
            continue
        if quote is None:
            top = stripped is line or not line[:1].isspace()
            if top:
                keep = stripped.startswith(_BLOCK) and "TYPE_CHECKING" not in stripped
            if stripped.startswith(("import ", "from ")) and (top or keep):
                stmt, depth, j = [stripped], stripped.count("(") - stripped.count(")"), i
                while (depth > 0 or stmt[-1].endswith("\\")) and j < len(lines) and len(stmt) < 100:
                    stmt.append(lines[j].strip())
                    depth += lines[j].count("(") - lines[j].count(")")
                    j += 1
                try:
                    body = ast.parse("\n".join(stmt)).body
                except SyntaxError:
                    body = []  # prose, or a statement we cut wrong: go on from the next line
                if body and isinstance(body[0], (ast.Import, ast.ImportFrom)):
                    found.append(body[0])
                    i = j
                    continue
        for m in _TRIPLE.finditer(line):
            if quote is None:
                quote = m.group()
            elif m.group() == quote:
                quote = None
    return found


def _numba_names(imports: list[ast.Import | ast.ImportFrom]) -> set[str]:
    """The names a module binds to numba or to something imported from it."""
    names = set()
    for node in imports:
        if isinstance(node, ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names
                         if a.name == "numba" or a.name.startswith("numba."))
        elif not node.level and node.module and (node.module == "numba" or node.module.startswith("numba.")):
            names.update(a.asname or a.name for a in node.names)
    return names


def _compiles(text: str, imports: list[ast.Import | ast.ImportFrom]) -> bool:
    """Whether a module defines numba-compiled code: a decorator from numba, or a call of one
    of numba's compilers (``njit(...)(f)``)."""
    numba = _numba_names(imports)
    return bool(numba) and any(m.group(1).split(".")[0] in numba
                               for rx in (_DECORATOR, _COMPILE_CALL) for m in rx.finditer(text))


def _module_file(root: Path, parts: list[str]) -> Path | None:
    """The file of engine module ``parts`` (below the package), or None."""
    base = root.joinpath(*parts)
    for path in (base.with_name(base.name + ".py") if parts else None, base / "__init__.py"):
        if path is not None and path.is_file():
            return path
    return None


def _imported(root: Path, path: Path, imports: list[ast.Import | ast.ImportFrom]) -> tuple[str, ...]:
    """The engine files a module imports at module level (paths relative to ``root``)."""
    rel = path.relative_to(root).with_suffix("").parts
    package = list(rel[:-1])  # the module's package, below root (an __init__ is its own package)
    found: list[Path | None] = []

    def absolute(name: str) -> list[str] | None:
        parts = name.split(".")
        if parts[0] == "tabula":
            parts = parts[1:]
        return parts[1:] if parts[:1] == [root.name] else None

    for node in imports:
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = absolute(alias.name)
                if parts is not None:
                    found.append(_module_file(root, parts))
            continue
        if node.level:
            if node.level - 1 > len(package):
                continue
            parts = package[:len(package) - (node.level - 1)] + (node.module.split(".") if node.module else [])
        else:
            parts = absolute(node.module or "")
            if parts is None:
                continue
        for alias in node.names:  # a submodule, else a name the module itself defines
            found.append(_module_file(root, [*parts, alias.name]) or _module_file(root, parts))
    return tuple(sorted({str(f.relative_to(root)) for f in found if f is not None}))


def _scan(root: Path, path: Path) -> tuple[bytes, bool, tuple[str, ...]] | None:
    """(text, defines compiled code, engine files imported at module level) of a source, None
    if unreadable; scanned again only when its text changed."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    known = _seen.get(path)
    if known is not None and known[0] == data:
        return known
    text = data.decode("utf-8", "replace")
    imports = _module_imports(text)
    info = (data, b"numba" in data and _compiles(text, imports), _imported(root, path, imports))
    _seen[path] = info
    return info


def sources(root: Path | None = None) -> dict[str, bytes]:
    """The sources the cached kernels are compiled from, by path below the engine package:
    the kernel modules of native/ and search/ and what they import, transitively."""
    root = _ROOT if root is None else root
    todo = []
    for path in sorted(p for d in ("native", "search") for p in (root / d).glob("*.py")):
        info = _scan(root, path)
        if info is not None and info[1]:
            todo.append(path)
    found: dict[str, bytes] = {}
    while todo:
        path = todo.pop()
        rel = str(path.relative_to(root))
        if rel in found:
            continue
        info = _scan(root, path)
        if info is None:
            continue
        found[rel] = info[0]
        todo.extend(root / r for r in info[2] if r not in found)
    return found


def digest() -> str:
    """A digest of every source the cached kernels are compiled from (:func:`sources`), and of
    the numba, llvmlite and Python they were compiled with: after an upgrade numba no longer
    loads the old cache, so the kernels must be compiled again, not assumed warm."""
    import llvmlite
    import numba
    h = hashlib.sha1()
    h.update(f"numba {numba.__version__} llvmlite {llvmlite.__version__} python {sys.version_info[:2]}\0".encode())
    for rel, data in sorted(sources().items()):
        h.update(Path(rel).as_posix().encode() + b"\0" + data + b"\0")
    return h.hexdigest()


def _cache_dir(src_dir: Path) -> Path | None:
    """Where numba caches the functions of the modules in ``src_dir`` (its first locator that fits)."""
    from numba.core import caching
    probe = src_dir / "__init__.py"
    for cls in caching.CacheImpl._locator_classes:  # noqa: SLF001 - numba's own search order
        try:
            loc = cls.from_function(refresh, str(probe))
        except Exception:  # noqa: BLE001 - a locator that does not apply
            loc = None
        if loc is not None:
            return Path(loc.get_cache_path())
    return None


def refresh() -> None:
    """Empty the kernels' cache directories once per process if the sources changed since."""
    global _done
    if _done:
        return
    _done = True
    stamp = digest()
    for src in _DIRS:
        try:
            cache = _cache_dir(src)
            if cache is None or not cache.is_dir():
                continue
            mark = cache / _STAMP
            if mark.is_file() and mark.read_text().strip() == stamp:
                continue
            for f in list(cache.glob("*.nbi")) + list(cache.glob("*.nbc")):
                try:
                    f.unlink()
                except FileNotFoundError:
                    pass
            tmp = cache / f"{_STAMP}.{os.getpid()}"
            tmp.write_text(stamp + "\n")
            tmp.replace(mark)
        except OSError:
            continue  # a read-only cache: an installed package, whose sources do not change


def _stamp_dirs() -> list[Path]:
    """The cache directories of the kernels' sources (created as numba would)."""
    found = []
    for src in _DIRS:
        cache = _cache_dir(src)
        if cache is None:
            return []
        found.append(cache)
    return found


def is_warm(kind: str) -> bool:
    """Whether :func:`mark_warm` recorded ``kind``'s kernels as compiled from today's sources
    in every cache directory (so loading them costs a cache read, not a compile), and numba's
    index files are still there (something else may have emptied the directory)."""
    stamp = digest()
    for cache in _stamp_dirs() or [None]:
        mark = None if cache is None else cache / _WARM.format(kind)
        try:
            if mark is None or mark.read_text().strip() != stamp:
                return False
            if next(cache.glob("*.nbi"), None) is None:  # type: ignore[union-attr]
                return False
        except OSError:
            return False
    return True


def mark_warm(kind: str) -> bool:
    """Record that ``kind``'s kernels are in numba's cache for today's sources; False where
    the cache cannot be written (then every process compiles for itself)."""
    stamp = digest()
    dirs = _stamp_dirs()
    try:
        for cache in dirs:
            cache.mkdir(parents=True, exist_ok=True)
            tmp = cache / f"{_WARM.format(kind)}.{os.getpid()}"
            tmp.write_text(stamp + "\n")
            tmp.replace(cache / _WARM.format(kind))
    except OSError:
        return False
    return bool(dirs)


def writable() -> bool:
    """Whether numba's cache of the kernels can be written here (else each process compiles)."""
    dirs = _stamp_dirs()
    try:
        for cache in dirs:
            cache.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return bool(dirs) and all(os.access(cache, os.W_OK) for cache in dirs)
