/*
 * pyimports.h - the modules a Python source file imports, read from its
 * text (no Python involved).
 *
 * pyimports_parse appends to mods, once each, the module names of the
 * file's import statements: "a.b" for `import a.b as x`; for
 * `from a.b import c, d` the names "a.b.c" and "a.b.d" (each may be a
 * submodule) and "a.b".  Relative imports keep their dots (".x", "..",
 * "..y.z").  Statements may span lines in brackets or after a backslash,
 * carry comments, tabs and CRLF ends, or share a line with ';'.  Imports
 * inside functions count too; a docstring line that starts with "import "
 * is read as one (a resolver finds no such module and drops it).
 * Module names hold only letters, digits, '_' and '.'.
 *
 * Ownership: the strings pushed to mods are mods' (dd_strv).
 */
#ifndef DAGDOC_PYIMPORTS_H
#define DAGDOC_PYIMPORTS_H

#include "dagdoc/util.h"

void pyimports_parse(const char *text, struct dd_strv *mods);

#endif
