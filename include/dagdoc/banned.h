/*
 * banned.h - functions dagdoc code must not call (after git's banned.h).
 * Included last by util.h, so any use fails to compile.
 */
#ifndef DAGDOC_BANNED_H
#define DAGDOC_BANNED_H

#define DD_BANNED(func) sorry_##func##_is_banned_use_dd_buf_or_snprintf

#undef strcpy
#define strcpy(x, y) DD_BANNED(strcpy)
#undef strcat
#define strcat(x, y) DD_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) DD_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) DD_BANNED(strncat)
#undef sprintf
#define sprintf(...) DD_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) DD_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) DD_BANNED(strtok)
#undef gets
#define gets(x) DD_BANNED(gets)
#undef gmtime
#define gmtime(t) DD_BANNED(gmtime)
#undef localtime
#define localtime(t) DD_BANNED(localtime)

#endif
