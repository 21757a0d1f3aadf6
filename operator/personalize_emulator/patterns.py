"""Java regular expressions (as AWS models write them) compiled for Python's `regex`.

AWS services check `pattern` constraints with java.util.regex and whole-value
matching (`Matcher.matches()`), so a pattern like `^[a-zA-Z0-9][a-zA-Z0-9\\-_]*`
rejects `a.b` although it has no `$`. Java and Python differ in a few places
that matter for validation, translated here:

- `.` in Java does not match any line terminator (\\n \\r \\u0085 \\u2028 \\u2029);
- `\\d \\w \\s` (and their negations) are ASCII-only in Java;
- POSIX classes such as `\\p{ASCII}` or `\\p{Alpha}` are ASCII-only in Java;
- `\\Q...\\E` quotes literally.

Anything else Java-specific (nested classes, `&&` intersections) raises
`UnsupportedPattern`, so a new model pattern fails loudly at start-up rather
than being checked wrongly.
"""

from __future__ import annotations

import functools

import regex

_JAVA_DOT = r"[^\n\r\u0085\u2028\u2029]"

# Shorthand classes as ASCII ranges, usable inside a character class.
_SHORTHAND = {"d": "0-9", "w": "a-zA-Z_0-9", "s": " \\t\\n\\x0B\\f\\r"}

# java.util.regex POSIX classes (US-ASCII only unless UNICODE_CHARACTER_CLASS).
_POSIX = {
    "Lower": "a-z",
    "Upper": "A-Z",
    "ASCII": "\\x00-\\x7F",
    "Alpha": "a-zA-Z",
    "Digit": "0-9",
    "Alnum": "a-zA-Z0-9",
    "Punct": "!-/:-@\\[-`{-~",
    "Graph": "!-~",
    "Print": " -~",
    "Blank": " \\t",
    "Cntrl": "\\x00-\\x1F\\x7F",
    "XDigit": "0-9a-fA-F",
    "Space": " \\t\\n\\x0B\\f\\r",
}


class UnsupportedPattern(ValueError):
    """A Java construct this translator does not know; better to fail than to guess."""


def _property(name: str, *, negated: bool, in_class: bool, pattern: str) -> str:
    """Translate `\\p{name}` / `\\P{name}`."""
    if name in _POSIX:
        if in_class:
            if negated:
                raise UnsupportedPattern(f"negated POSIX class inside a class in {pattern!r}")
            return _POSIX[name]
        return f"[{'^' if negated else ''}{_POSIX[name]}]"
    if name.startswith("Is"):  # \p{IsLatin}, \p{IsL}: scripts, categories, binary properties
        name = name[2:]
    return f"\\{'P' if negated else 'p'}{{{name}}}"


def _escape(pattern: str, i: int, *, in_class: bool) -> tuple[str, int]:
    """Translate the escape starting at pattern[i] == '\\'; return (python, next index)."""
    if i + 1 >= len(pattern):
        raise UnsupportedPattern(f"trailing backslash in {pattern!r}")
    char = pattern[i + 1]
    if char in "pP":
        if i + 2 < len(pattern) and pattern[i + 2] == "{":
            end = pattern.index("}", i + 3)
            name = pattern[i + 3 : end]
            next_index = end + 1
        else:
            name = pattern[i + 2]
            next_index = i + 3
        return _property(name, negated=char == "P", in_class=in_class, pattern=pattern), next_index
    if char.lower() in _SHORTHAND:
        ranges = _SHORTHAND[char.lower()]
        if char.islower():
            return (ranges if in_class else f"[{ranges}]"), i + 2
        if in_class:
            raise UnsupportedPattern(f"negated shorthand inside a class in {pattern!r}")
        return f"[^{ranges}]", i + 2
    if char == "Q":
        end = pattern.find("\\E", i + 2)
        end = len(pattern) if end < 0 else end
        literal = pattern[i + 2 : end]
        quoted = "".join(f"\\{c}" if not c.isalnum() else c for c in literal) if in_class else regex.escape(literal)
        return quoted, min(end + 2, len(pattern))
    # \x20, \-, \., \\, \t, \n, \u0041 ... mean the same in Python's regex module.
    return pattern[i : i + 2], i + 2


def translate(pattern: str) -> str:
    """Java pattern -> equivalent pattern for the `regex` module (to be used with fullmatch)."""
    out: list[str] = []
    i = 0
    in_class = False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            piece, i = _escape(pattern, i, in_class=in_class)
            out.append(piece)
            continue
        if in_class:
            if char == "[":
                raise UnsupportedPattern(f"nested character class in {pattern!r}")
            if char == "&" and pattern.startswith("&&", i):
                raise UnsupportedPattern(f"class intersection in {pattern!r}")
            if char == "]":
                in_class = False
            out.append(char)
            i += 1
            continue
        if char == "[":
            in_class = True
            out.append(char)
            i += 1
            # A ']' right after '[' or '[^' is a literal in Java as in Python.
            if pattern.startswith("^", i):
                out.append("^")
                i += 1
            if pattern.startswith("]", i):
                out.append("\\]")
                i += 1
            continue
        out.append(_JAVA_DOT if char == "." else char)
        i += 1
    if in_class:
        raise UnsupportedPattern(f"unterminated character class in {pattern!r}")
    return "".join(out)


@functools.lru_cache(maxsize=256)
def compile_java(pattern: str) -> regex.Pattern[str]:
    """The compiled translation of a Java pattern; cached, since models reuse a few."""
    return regex.compile(translate(pattern))


def matches(pattern: str, value: str) -> bool:
    """Whether `value` satisfies `pattern` with AWS's whole-value semantics."""
    return compile_java(pattern).fullmatch(value) is not None
