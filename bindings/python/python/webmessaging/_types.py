"""Small marker types for JavaScript values that Python's built-in types cannot tell apart.

They appear only where a plain Python value would lose the JavaScript structure on the way
back (wire -> Python -> wire keeps it); each one compares equal to the plain value it wraps
where that makes sense (``JSBigInt(5) == 5``, ``JSMap({"a": 1}) == {"a": 1}``).
"""

from __future__ import annotations

__all__ = [
    "Undefined",
    "UNDEFINED",
    "Hole",
    "HOLE",
    "JSBigInt",
    "JSMap",
    "JSArray",
    "JSBoxed",
    "JSRegExp",
    "JSError",
    "JSTypedArray",
    "InvalidDate",
    "INVALID_DATE",
    "ResizableArrayBuffer",
]


class _Singleton:
    """A marker type with exactly one instance, which survives pickling; ``repr`` is the name
    of the module constant that holds it."""

    __slots__ = ()
    _name = ""

    def __new__(cls):
        instance = cls.__dict__.get("_instance")
        if instance is None:
            instance = super().__new__(cls)
            cls._instance = instance
        return instance

    def __repr__(self) -> str:
        return self._name

    def __reduce__(self):
        return (type(self), ())


class Undefined(_Singleton):
    """JavaScript ``undefined`` (``None`` is ``null``). Use the singleton :data:`UNDEFINED`."""

    __slots__ = ()
    _name = "UNDEFINED"

    def __bool__(self) -> bool:
        return False


UNDEFINED = Undefined()


class Hole(_Singleton):
    """A missing element of a JavaScript array with holes (``[1, , 3]``), inside a
    :class:`JSArray`. Use the singleton :data:`HOLE`."""

    __slots__ = ()
    _name = "HOLE"


HOLE = Hole()


class JSBigInt(int):
    """A JavaScript BigInt small enough to look like a Number (|n| <= 2**53). Larger BigInts are
    plain ``int`` (an ``int`` beyond 2**53 is always sent as a BigInt)."""

    def __repr__(self) -> str:
        return f"JSBigInt({int(self)})"


class JSMap(dict):
    """A JavaScript ``Map`` whose keys are all strings (a plain ``dict`` with string keys is an
    Object). Maps with other keys come back as plain ``dict``."""

    def __repr__(self) -> str:
        return f"JSMap({dict.__repr__(self)})"


class JSArray(list):
    """A JavaScript array with holes (:data:`HOLE` elements) and/or extra non-index properties
    (``.properties``, a dict with string keys)."""

    def __init__(self, items=(), properties=None):
        super().__init__(items)
        self.properties = dict(properties or {})

    def __eq__(self, other):
        if isinstance(other, JSArray):
            return list.__eq__(self, other) and self.properties == other.properties
        return list.__eq__(self, other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"JSArray({list.__repr__(self)}, properties={self.properties!r})"


class JSBoxed:
    """A boxed primitive: ``new Number(1.5)``, ``new String("s")``, ``new Boolean(true)`` or
    ``Object(1n)`` (``value`` is then a :class:`JSBigInt` or ``int``)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return isinstance(other, JSBoxed) and type(self.value) is type(other.value) and (
            self.value == other.value or (self.value != self.value and other.value != other.value)
        )

    def __hash__(self):
        return hash(("JSBoxed", self.value))

    def __repr__(self) -> str:
        return f"JSBoxed({self.value!r})"


class JSRegExp:
    """A JavaScript RegExp that has no exact :mod:`re` equivalent (flags ``g``, ``y``, ``d``,
    ``u``, ``v``, or a pattern :func:`re.compile` rejects)."""

    __slots__ = ("source", "flags")

    def __init__(self, source: str, flags: str = ""):
        self.source = source
        self.flags = flags

    def __eq__(self, other):
        return isinstance(other, JSRegExp) and (self.source, self.flags) == (other.source, other.flags)

    def __hash__(self):
        return hash((self.source, self.flags))

    def __repr__(self) -> str:
        return f"JSRegExp({self.source!r}, {self.flags!r})"


class JSError(Exception):
    """A JavaScript Error without a matching Python exception class (``Error``, ``EvalError``,
    ``RangeError``, ``URIError``). ``name``, ``message`` (``None`` when the Error had none) and
    ``stack`` are kept."""

    def __init__(self, message="", name: str = "Error", stack=None):
        super().__init__(message)
        self.message = message
        self.name = name
        self.stack = stack

    def __eq__(self, other):
        return isinstance(other, JSError) and (self.name, self.message) == (other.name, other.message)

    def __hash__(self):
        return hash((self.name, self.message))

    def __repr__(self) -> str:
        return f"JSError({self.message!r}, name={self.name!r})"


class JSTypedArray:
    """A typed array Python's :mod:`array` cannot hold: ``Uint8ClampedArray``,
    ``Float16Array`` or ``DataView`` (``type`` is the constructor name, ``data`` the bytes)."""

    __slots__ = ("type", "data")

    def __init__(self, type: str, data: bytes):
        self.type = type
        self.data = bytes(data)

    def __eq__(self, other):
        return isinstance(other, JSTypedArray) and (self.type, self.data) == (other.type, other.data)

    def __hash__(self):
        return hash((self.type, self.data))

    def __repr__(self) -> str:
        return f"JSTypedArray({self.type!r}, {self.data!r})"


class InvalidDate(_Singleton):
    """``new Date(NaN)``. Use the singleton :data:`INVALID_DATE`."""

    __slots__ = ()
    _name = "INVALID_DATE"


INVALID_DATE = InvalidDate()


class ResizableArrayBuffer(bytes):
    """A resizable ArrayBuffer: its bytes plus ``max_byte_length``."""

    def __new__(cls, data=b"", max_byte_length: int = 0):
        self = super().__new__(cls, data)
        self.max_byte_length = max(int(max_byte_length), len(self))
        return self

    def __repr__(self) -> str:
        return f"ResizableArrayBuffer({bytes(self)!r}, max_byte_length={self.max_byte_length})"


# --- conversion helpers used by the native module (private) -------------------------------

import datetime as _dt
import re as _re

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_MS = _dt.timedelta(milliseconds=1)


def _date_to_ms(value: _dt.datetime) -> float:
    """A datetime as JavaScript time value (ms since the epoch, UTC). Naive datetimes are UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    delta = value - _EPOCH
    return float((delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000)


def _ms_to_date(ms: float):
    if ms != ms:
        return INVALID_DATE
    try:
        return _EPOCH + _dt.timedelta(milliseconds=ms)
    except OverflowError:
        # Beyond Python's year 1..9999: keep the value as a JS Date marker-free float is lossy,
        # so refuse loudly.
        raise ValueError(f"the Date {ms} ms is outside datetime's range") from None


_RE_TO_JS = ((_re.IGNORECASE, "i"), (_re.MULTILINE, "m"), (_re.DOTALL, "s"))
_JS_TO_RE = {"i": _re.IGNORECASE, "m": _re.MULTILINE, "s": _re.DOTALL}


def _regexp_to_js(pattern) -> tuple:
    if isinstance(pattern, JSRegExp):
        return pattern.source, pattern.flags
    if not isinstance(pattern.pattern, str):
        raise TypeError("bytes patterns cannot be cloned (a RegExp is text)")
    unsupported = pattern.flags & ~(_re.IGNORECASE | _re.MULTILINE | _re.DOTALL | _re.UNICODE)
    if unsupported:
        raise TypeError(f"re flags {_re.RegexFlag(unsupported)!r} have no RegExp equivalent")
    return pattern.pattern, "".join(letter for flag, letter in _RE_TO_JS if pattern.flags & flag)


def _regexp_from_js(source: str, flags: str):
    if all(f in _JS_TO_RE for f in flags):
        bits = 0
        for f in flags:
            bits |= _JS_TO_RE[f]
        try:
            return _re.compile(source, bits)
        except _re.error:
            pass
    return JSRegExp(source, flags)


_JS_ERROR_TYPES = {"TypeError": TypeError, "SyntaxError": SyntaxError, "ReferenceError": ReferenceError}


def _error_to_js(exc: BaseException) -> tuple:
    """(name, message, stack, has_cause, cause) of a Python exception."""
    if isinstance(exc, JSError):
        name, message, stack = exc.name, exc.message, exc.stack
    else:
        name = type(exc).__name__
        for py_type in type(exc).__mro__:
            if py_type.__name__ in ("TypeError", "SyntaxError", "ReferenceError") and py_type.__module__ == "builtins":
                name = py_type.__name__
                break
        else:
            name = "Error"
        if isinstance(exc, KeyError) and len(exc.args) == 1:
            # str(KeyError("k")) is "'k'" (KeyError quotes its key); the message is the key.
            message = str(exc.args[0])
        else:
            message = str(exc) if exc.args else None
        stack = getattr(exc, "stack", None)
        if not isinstance(stack, str):
            stack = None
    if exc.__cause__ is not None:
        return name, message, stack, True, exc.__cause__
    if "cause" in getattr(exc, "__dict__", {}):
        return name, message, stack, True, exc.__dict__["cause"]
    return name, message, stack, False, None


def _error_from_js(name: str, message, stack):
    py_type = _JS_ERROR_TYPES.get(name)
    if py_type is None:
        err = JSError("" if message is None else message, name, stack)
        err.message = message
    else:
        err = py_type() if message is None else py_type(message)
        if stack is not None:
            err.stack = stack
    return err


def _set_cause(err: BaseException, cause) -> None:
    if isinstance(cause, BaseException):
        err.__cause__ = cause
    else:
        err.cause = cause
